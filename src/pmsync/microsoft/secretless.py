"""Sign-in with no secret to rotate: Azure managed identity, and workload identity federation.

- **Managed identity** (``sign_in: managed_identity``): ``msal.ManagedIdentityClient`` asks the
  platform's local identity endpoint for a token. MSAL finds the endpoint from the environment the
  platform sets (App Service / Functions / Container Apps: ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``;
  Azure Arc: ``IDENTITY_ENDPOINT`` + ``IMDS_ENDPOINT``; otherwise the VM's IMDS at 169.254.169.254).
  ``client_id`` picks a user-assigned identity; without it the system-assigned one is used.
- **Workload identity federation** (``sign_in: workload_identity``): the app registration trusts
  another identity provider's tokens (a Kubernetes cluster's service account tokens under AKS workload
  identity, a GitHub Actions OIDC token). The token is read from ``client_assertion_file`` (default
  ``$AZURE_FEDERATED_TOKEN_FILE``) every time MSAL needs a new access token, because the platform
  rotates it (hourly on AKS), and handed to ``msal.ConfidentialClientApplication`` as the client
  assertion (a callable, as MSAL recommends for long-running processes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msal
import requests

from pmsync.errors import AuthError, ConfigError
from pmsync.http import make_session
from pmsync.logs import redact, register_secret
from pmsync.microsoft.credentials import resolve_path
from pmsync.microsoft.settings import MicrosoftAppSettings

#: what AKS workload identity (and the Azure SDKs) use for the federated token's path
FEDERATED_TOKEN_ENV = "AZURE_FEDERATED_TOKEN_FILE"


def federated_token_path(settings: MicrosoftAppSettings, *, source: str, base_dir: Path) -> Path:
    """The file holding the federated token: ``client_assertion_file``, else the platform's env var."""
    if settings.client_assertion_file is not None:
        return resolve_path(settings.client_assertion_file, base_dir)
    from_env = os.environ.get(FEDERATED_TOKEN_ENV)
    if not from_env:
        raise ConfigError(
            "workload_identity sign-in needs the federated token file",
            source=source,
            record="client_assertion_file",
            hint=f"set client_assertion_file, or run where {FEDERATED_TOKEN_ENV} is set (an AKS pod "
            "labelled azure.workload.identity/use: 'true' with its service account annotated)",
        )
    return Path(from_env)


def federated_assertion(path: Path, *, source: str) -> Callable[[], str]:
    """A callable MSAL calls for each new token: the federated token as the file holds it now."""

    def read() -> str:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(
                f"cannot read the federated token file {str(path)!r}: {exc.strerror}",
                source=source,
                record="client_assertion_file",
                hint="the platform writes this file (AKS: the projected service account token); check "
                "the pod's workload identity setup",
            ) from None
        if not token:
            raise AuthError(
                f"the federated token file {str(path)!r} is empty",
                source=source,
                record="client_assertion_file",
            )
        register_secret(token)
        return token

    return read


class ManagedIdentityTokenProvider:
    """Tokens for the machine's (or pod's) managed identity, cached by MSAL until they expire."""

    def __init__(self, settings: MicrosoftAppSettings, *, source: str) -> None:
        self.settings = settings
        self.source = source
        # The identity endpoint is local to the machine: it answers at once or not at all (off Azure the
        # VM address 169.254.169.254 leads nowhere), so a short timeout, and no retries, keep a
        # misconfigured run from hanging.
        self.session = make_session(ca_bundle=settings.ca_bundle, timeout=min(settings.timeout_seconds, 10.0))
        identity: Any = (
            msal.UserAssignedManagedIdentity(client_id=settings.client_id)
            if settings.client_id
            else msal.SystemAssignedManagedIdentity()
        )
        self.app = msal.ManagedIdentityClient(identity, http_client=self.session)
        self._lock = threading.Lock()

    def _which(self) -> str:
        return (
            f"the user-assigned managed identity {self.settings.client_id!r}"
            if self.settings.client_id
            else "the system-assigned managed identity"
        )

    def token(self, scope: str) -> str:
        resource = scope.removesuffix("/.default")
        with self._lock:
            try:
                result = self.app.acquire_token_for_client(resource=resource)
            except requests.RequestException as exc:
                raise AuthError(
                    f"cannot reach the managed identity endpoint for {self._which()}: "
                    f"{redact(str(exc))[:160]}",
                    source=self.source,
                    record=f"token for {scope}",
                    hint="run pmsync on an Azure resource with a managed identity assigned (VM, App "
                    "Service, Container Apps, Arc), or use another sign_in",
                ) from None
            except (msal.ManagedIdentityError, ValueError) as exc:
                raise AuthError(
                    f"managed identity sign-in failed: {redact(str(exc))[:200]}",
                    source=self.source,
                    record=f"token for {scope}",
                ) from None
        if result and "access_token" in result:
            token = str(result["access_token"])
            register_secret(token)
            return token
        description = redact(str((result or {}).get("error_description") or (result or {}).get("error")))
        raise AuthError(
            f"{self._which()} got no token for {resource}: {description[:200]}",
            source=self.source,
            record=f"token for {scope}",
            hint="assign that identity to this resource (and set client_id to a user-assigned identity's "
            "client id, or omit it for the system-assigned one), then grant it the permission",
        )

    def invalidate(self) -> None:
        """Managed identity tokens are short-lived and re-fetched by MSAL; nothing to drop."""
        with self._lock:
            self.app = msal.ManagedIdentityClient(
                msal.UserAssignedManagedIdentity(client_id=self.settings.client_id)
                if self.settings.client_id
                else msal.SystemAssignedManagedIdentity(),
                http_client=self.session,
            )
