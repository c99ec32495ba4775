"""MSAL's error dicts (``error``, ``error_description`` with ``AADSTS<n>`` codes) as pmsync errors that
say what is wrong and what to do."""

from __future__ import annotations

import re
from typing import Any

from pmsync.errors import AuthError
from pmsync.logs import redact
from pmsync.microsoft.settings import MicrosoftAppSettings

_AADSTS = re.compile(r"AADSTS(\d+)")


def _aadsts_codes(result: dict[str, Any]) -> set[int]:
    codes = {int(c) for c in result.get("error_codes") or [] if str(c).isdigit()}
    codes.update(int(c) for c in _AADSTS.findall(str(result.get("error_description", ""))))
    return codes


def auth_error_from_result(
    result: dict[str, Any], settings: MicrosoftAppSettings, *, source: str, scope: str
) -> AuthError:
    """Turn MSAL's error dict into an AuthError that says what is wrong and what to do."""
    codes = _aadsts_codes(result)
    description = redact(str(result.get("error_description") or result.get("error") or "unknown error"))
    first_line = description.split(" Trace ID:")[0]
    tenant, client = settings.tenant_id, settings.client_id
    if codes & {90002, 90023, 900023}:
        message = f"tenant {tenant!r} was not found"
        hint = "check tenant_id (the Directory (tenant) ID GUID or the *.onmicrosoft.com domain) and cloud"
    elif 700016 in codes:
        message = f"application (client) id {client!r} was not found in tenant {tenant!r}"
        hint = (
            "check client_id against the app registration's Overview page, and that tenant_id is its tenant"
        )
    elif 7000215 in codes:
        message = f"the client secret for app {client!r} was rejected (wrong secret)"
        hint = "use the secret's Value (not its Secret ID); create a new client secret if it was lost"
    elif 7000222 in codes:
        message = f"the client secret for app {client!r} has expired"
        hint = "create a new client secret in the app registration (Certificates & secrets) and update pmsync"
    elif 700027 in codes and "expired" in description.lower():
        message = f"the certificate for app {client!r} has expired"
        hint = "upload a new certificate to the app registration and point certificate_file at it"
    elif codes & {700027, 700021, 50027}:
        message = f"the certificate for app {client!r} was not accepted: {first_line}"
        hint = "upload this certificate's public part to the app registration (Certificates & secrets)"
    elif 65001 in codes:
        message = f"admin consent has not been granted for app {client!r} in tenant {tenant!r}"
        hint = (
            "an administrator must grant admin consent for the app's API permissions "
            "(Entra admin center > App registrations > API permissions > Grant admin consent)"
        )
    elif codes & {70021, 700211, 700212, 700213}:
        message = f"app {client!r} has no federated credential matching the token presented: {first_line}"
        hint = (
            "add a federated credential to the app registration (Certificates & secrets > Federated "
            "credentials) with exactly this issuer, subject and audience api://AzureADTokenExchange"
        )
    elif codes & {700024, 700023}:
        message = f"the federated token presented for app {client!r} is expired or not yet valid"
        hint = "the platform rotates it (AKS: hourly); check the pod's token projection and clock"
    elif 500011 in codes:
        message = f"the resource of scope {scope!r} does not exist in tenant {tenant!r}"
        hint = "check the service URL (e.g. the Dataverse environment URL) and the cloud"
    elif codes & {1002012, 70011}:
        message = f"scope {scope!r} is not valid for app-only sign-in"
        hint = "app-only tokens need the resource's '/.default' scope"
    elif codes & {7000218, 700025}:
        message = f"app {client!r} cannot use this sign-in: {first_line}"
        hint = "device_code sign-in needs 'Allow public client flows' enabled on the app registration"
    else:
        message = f"sign-in failed: {first_line}"
        hint = "check tenant_id, client_id and the credential"
    return AuthError(message, source=source, record=f"token for {scope}", hint=hint)
