"""The Microsoft sign-in keys shared by the planner and dataverse sources and the SharePoint publish
target (:class:`MicrosoftAppSettings`), and the hosts of each Microsoft cloud."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator

from pmsync.connector import ConnectorConfig

Cloud = Literal["public", "usgov", "usgov_dod"]

#: sign-in hosts per cloud (Entra national clouds); GCC (moderate) tenants use the public cloud
AUTHORITY_HOSTS: dict[str, str] = {
    "public": "https://login.microsoftonline.com",
    "usgov": "https://login.microsoftonline.us",
    "usgov_dod": "https://login.microsoftonline.us",
}
#: Microsoft Graph per cloud (GCC High: graph.microsoft.us, DoD: dod-graph.microsoft.us)
GRAPH_URLS: dict[str, str] = {
    "public": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "usgov_dod": "https://dod-graph.microsoft.us",
}
DEFAULT_TOKEN_CACHE = Path("~/.cache/pmsync/msal-token-cache.json")


class MicrosoftAppSettings(ConnectorConfig):
    """How pmsync signs in to Microsoft: the keys shared by the planner/dataverse sources and the
    SharePoint publish target.

    App-only (``sign_in: app``, the default) needs exactly one of ``client_secret``,
    ``client_secret_file`` or ``certificate_file`` (PEM with the private key and the certificate, or a
    ``.pfx``). Device code (``sign_in: device_code``) needs a public-client app and no credential.
    Managed identity (``sign_in: managed_identity``) needs no credential at all: on an Azure VM, App
    Service, Functions, Container Apps or Arc machine, the platform's identity endpoint issues the
    token; ``client_id`` names a user-assigned identity (omit it for the system-assigned one).
    Workload identity federation (``sign_in: workload_identity``) signs the app in with a token another
    identity provider issued (a Kubernetes service account token, a GitHub Actions OIDC token), read
    from ``client_assertion_file`` (default: ``$AZURE_FEDERATED_TOKEN_FILE``, which AKS workload
    identity sets) at every sign-in, since the platform rotates it; the app registration needs a
    federated credential for that issuer and subject. Neither has a secret to rotate.
    """

    tenant_id: str
    #: the app registration (for managed identity: the user-assigned identity; omit for system-assigned)
    client_id: str | None = None
    sign_in: Literal["app", "device_code", "managed_identity", "workload_identity"] = "app"
    #: workload identity: the file holding the federated token (re-read at each sign-in)
    client_assertion_file: Path | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    certificate_password: SecretStr | None = None
    cloud: Cloud = "public"
    #: sign-in host overriding ``cloud`` (e.g. the sandbox ``https://127.0.0.1:8443``)
    authority_host: str | None = None
    #: Microsoft Graph base URL overriding ``cloud`` (without ``/v1.0``)
    graph_url: str | None = None
    #: the ``.default`` resource for Graph tokens; defaults to the cloud's Graph URL
    graph_resource: str | None = None
    #: trust only this CA bundle for Microsoft endpoints (the sandbox's CA); default: system trust
    ca_bundle: Path | None = None
    #: device code only: where the token cache is kept (written 0600)
    token_cache_file: Path | None = None
    timeout_seconds: float = 60.0

    @model_validator(mode="after")
    def _one_credential(self) -> MicrosoftAppSettings:
        given = [
            name
            for name in ("client_secret", "client_secret_file", "certificate_file")
            if getattr(self, name) is not None
        ]
        if self.sign_in == "app" and len(given) != 1:
            raise ValueError(
                "app sign-in needs exactly one of client_secret, client_secret_file, certificate_file"
                + (f" (got: {', '.join(given)})" if given else "")
            )
        if self.sign_in != "app" and given:
            raise ValueError(f"{self.sign_in} sign-in uses no app credential; remove {', '.join(given)}")
        if self.sign_in != "managed_identity" and not self.client_id:
            raise ValueError(
                f"{self.sign_in} sign-in needs client_id (the app registration's Application ID)"
            )
        if self.client_assertion_file is not None and self.sign_in != "workload_identity":
            raise ValueError("client_assertion_file is only for sign_in: workload_identity")
        if self.authority_host is not None and not self.authority_host.startswith("https://"):
            raise ValueError("authority_host must be an https:// URL (MSAL refuses anything else)")
        return self

    def app_id(self) -> str:
        """The app registration's client id (validated present for every sign-in that needs one)."""
        if not self.client_id:
            raise ValueError(f"{self.sign_in} sign-in has no client_id")
        return self.client_id

    def authority(self) -> str:
        host = self.authority_host or AUTHORITY_HOSTS[self.cloud]
        return f"{host.rstrip('/')}/{self.tenant_id}"

    def graph_base(self) -> str:
        """Graph v1.0 base URL, e.g. ``https://graph.microsoft.com/v1.0``."""
        return f"{(self.graph_url or GRAPH_URLS[self.cloud]).rstrip('/')}/v1.0"

    def graph_scope(self) -> str:
        resource = self.graph_resource or self.graph_url or GRAPH_URLS[self.cloud]
        return f"{resource.rstrip('/')}/.default"
