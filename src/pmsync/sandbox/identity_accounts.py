"""Who exists in the sandbox tenant: app registrations (with their secrets, certificates, permissions and
federated credentials) and users. Plain data, shared by the token endpoints and the secretless sign-ins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class AppRegistration:
    """An app registration in the sandbox tenant.

    ``roles`` are the admin-consented application permissions per resource (``GRAPH_RESOURCE`` or a
    Dataverse environment URL). ``certificates`` are the uploaded public certificates (PEM).
    """

    client_id: str
    display_name: str
    secret: str | None = None
    secret_expired: bool = False
    certificates: list[bytes] = field(default_factory=list)
    #: thumbprints (hex SHA-1 or SHA-256) of uploaded certificates whose key credential has expired
    expired_certificates: set[str] = field(default_factory=set)
    roles: dict[str, set[str]] = field(default_factory=dict)
    admin_consented: bool = True
    #: may sign users in with the device-code flow (a "public client" in Entra terms)
    public_client: bool = False
    #: workload identity federation: (issuer, subject) pairs whose tokens this app accepts as its
    #: client assertion (audience api://AzureADTokenExchange), as "Federated credentials" in Entra
    federated_credentials: list[tuple[str, str]] = field(default_factory=list)
    #: a managed identity's service principal (user-assigned, or the machine's system-assigned one)
    managed: bool = False


@dataclass
class SandboxUser:
    user_principal_name: str
    display_name: str
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
