"""The sandbox Microsoft cloud: identity platform, Graph and Dataverse servers over TLS, seeded.

    with MicrosoftSandbox(workdir) as ms:
        ms.identity_url, ms.graph_url, ms.dataverse_url, ms.ca_bundle   # https://127.0.0.1:port ...
        ms.credentials.client_id, ms.credentials.client_secret           # a demo app with every permission
        ms.settings()                                                     # MicrosoftAppSettings keys
        ms.planner_source(), ms.dataverse_source()                        # pmsync.yaml source blocks

Each server has its own ``.faults`` plan (``ms.identity.faults``, ``ms.graph.faults``,
``ms.dataverse.faults``). The demo app's permissions, consent and credentials live in
``ms.identity_state.apps`` so tests can take them away. :func:`microsoft_sandbox` is the
pytest-friendly form (a context manager taking a temporary folder).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pmsync.sandbox import graph as graph_module
from pmsync.sandbox.dataverse import DataverseState, dataverse_error_body, make_dataverse_app
from pmsync.sandbox.faults import FaultPlan
from pmsync.sandbox.graph_planner import seed_demo
from pmsync.sandbox.identity import (
    GRAPH_RESOURCE,
    AppRegistration,
    IdentityState,
    SandboxUser,
    identity_error_body,
)
from pmsync.sandbox.identity_app import make_identity_app
from pmsync.sandbox.server import SandboxServer
from pmsync.sandbox.tls import generate_sandbox_tls

DEMO_CLIENT_ID = "4a1e7c2d-5b3f-4e6a-8d9c-0f1e2d3c4b5a"
DEMO_PUBLIC_CLIENT_ID = "9b8a7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
GRAPH_APP_ROLES = {"Tasks.Read.All", "Group.Read.All", "Sites.ReadWrite.All", "User.ReadBasic.All"}
#: the sandbox Kubernetes cluster's OIDC issuer and pmsync's service account in it
KUBERNETES_ISSUER = "https://oidc.sandbox-aks.example/8f1c2b6e-3d4a-4c5b-9e7f-1a2b3c4d5e6f/"
KUBERNETES_SUBJECT = "system:serviceaccount:pmo:pmsync"
#: managed identities assigned to "this machine": (client id, display name)
MANAGED_SYSTEM = ("0d6a1c3e-2b4f-4a5d-8e9f-1a2b3c4d5e01", "pmsync-vm (system-assigned)")
MANAGED_USER = ("7c2e9a4b-5d6f-4e8a-9b0c-1d2e3f4a5b02", "pmsync-uami")


@dataclass(frozen=True)
class DemoCredentials:
    tenant_id: str
    client_id: str
    client_secret: str
    #: PEM with the app's private key and certificate (written 0600), for certificate sign-in
    certificate_file: Path
    #: a public client (device-code sign-in) and the user that approves sign-ins
    public_client_id: str
    user_principal_name: str


def make_app_certificate(
    common_name: str, *, not_after: datetime | None = None, not_before: datetime | None = None
) -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM) for an app registration's certificate credential.

    RSA, because Entra (and MSAL's PS256/RS256 assertions) use RSA keys.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@functools.cache
def _demo_app_certificate() -> tuple[bytes, bytes]:
    # RSA key generation is the slowest part of a sandbox start; one demo key per process is enough.
    return make_app_certificate("pmsync sandbox app")


def write_private_file(path: Path, data: bytes) -> Path:
    """Write ``data`` readable only by the owner (keys, secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


class MicrosoftSandbox:
    """Identity, Graph and Dataverse sandbox servers sharing one tenant and one CA."""

    def __init__(
        self,
        workdir: Path,
        *,
        seed: bool = True,
        page_size: int = 100,
        ports: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """``ports``: identity, Graph and Dataverse ports (0: any free port)."""
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        #: the sandbox's CA and server certificate (tests may serve extra apps with tls.server_context())
        self.tls = tls = generate_sandbox_tls()
        self.ca_bundle = tls.write_ca_bundle(workdir / "sandbox-ca.pem")
        self.identity_state = IdentityState()
        self.identity = SandboxServer(
            make_identity_app(self.identity_state, lambda: self.identity.url),
            port=ports[0],
            ssl_context=tls.server_context(),
            error_body=identity_error_body,
        )
        self.graph_state = graph_module.GraphState(self.identity_state, page_size=page_size)
        self.graph_state.faults = FaultPlan()
        self.graph = SandboxServer(
            graph_module.make_graph_app(self.graph_state, lambda: self.graph.url),
            port=ports[1],
            ssl_context=tls.server_context(),
            faults=self.graph_state.faults,
            error_body=graph_module.fault_error_body,
        )
        self.graph_state.base_url = self.graph.url
        self.graph_state.audiences.add(self.graph.url)
        self.dataverse_state = DataverseState(self.identity_state, page_size=page_size)
        self.dataverse = SandboxServer(
            make_dataverse_app(self.dataverse_state, lambda: self.dataverse.url),
            port=ports[2],
            ssl_context=tls.server_context(),
            error_body=dataverse_error_body,
        )
        self.dataverse_state.base_url = self.dataverse.url
        self.identity_state.resources.update({self.graph.url, self.dataverse.url})
        self.credentials = self._register_demo_apps()
        if seed:
            users = [u.object_id for u in self.identity_state.users.values()]
            seed_demo(self.graph_state.planner, users)
            self.dataverse_state.seed_demo()

    def _register_demo_apps(self) -> DemoCredentials:
        state = self.identity_state
        secret = "sbx~" + secrets.token_urlsafe(30)
        key_pem, cert_pem = _demo_app_certificate()
        cert_file = write_private_file(self.workdir / "pmsync-app.pem", key_pem + cert_pem)
        roles = {GRAPH_RESOURCE: set(GRAPH_APP_ROLES), self.graph.url: set(GRAPH_APP_ROLES)}
        state.register_app(
            AppRegistration(
                client_id=DEMO_CLIENT_ID,
                display_name="pmsync",
                secret=secret,
                certificates=[cert_pem],
                roles=roles,
            )
        )
        self.dataverse_state.application_users.add(DEMO_CLIENT_ID)
        # Secretless sign-in: the pmsync app trusts the sandbox Kubernetes cluster's service account
        # (workload identity federation), and "this machine" has a system-assigned and a
        # user-assigned managed identity with the same permissions.
        state.add_federation_issuer(KUBERNETES_ISSUER)
        state.apps[DEMO_CLIENT_ID].federated_credentials.append((KUBERNETES_ISSUER, KUBERNETES_SUBJECT))
        for system, (client_id, name) in ((True, MANAGED_SYSTEM), (False, MANAGED_USER)):
            state.add_machine_identity(
                AppRegistration(
                    client_id=client_id, display_name=name, roles={k: set(v) for k, v in roles.items()}
                ),
                system_assigned=system,
            )
            self.dataverse_state.application_users.add(client_id)
        state.register_app(
            AppRegistration(
                client_id=DEMO_PUBLIC_CLIENT_ID,
                display_name="pmsync (interactive)",
                roles={k: set(v) for k, v in roles.items()},
                public_client=True,
            )
        )
        people = [
            ("pat.morgan", "Pat Morgan"),
            ("lee.chen", "Lee Chen"),
            ("sam.okafor", "Sam Okafor"),
            ("ana.ruiz", "Ana Ruiz"),
        ]
        for login, display in people:
            state.add_user(SandboxUser(f"{login}@{state.tenant_domain}", display))
        pm = next(iter(state.users.values()))
        state.device_auto_approve = pm
        return DemoCredentials(
            tenant_id=state.tenant_id,
            client_id=DEMO_CLIENT_ID,
            client_secret=secret,
            certificate_file=cert_file,
            public_client_id=DEMO_PUBLIC_CLIENT_ID,
            user_principal_name=pm.user_principal_name,
        )

    # -- urls and config -------------------------------------------------------------------------
    @property
    def identity_url(self) -> str:
        return self.identity.url

    @property
    def graph_url(self) -> str:
        return self.graph.url

    @property
    def dataverse_url(self) -> str:
        return self.dataverse.url

    def settings(self, *, certificate: bool = False) -> dict[str, Any]:
        """The shared Microsoft sign-in keys (``MicrosoftAppSettings``) for the demo app."""
        keys: dict[str, Any] = {
            "tenant_id": self.credentials.tenant_id,
            "client_id": self.credentials.client_id,
            "authority_host": self.identity_url,
            "graph_url": self.graph_url,
            "ca_bundle": str(self.ca_bundle),
        }
        if certificate:
            keys["certificate_file"] = str(self.credentials.certificate_file)
        else:
            keys["client_secret"] = self.credentials.client_secret
        return keys

    def managed_identity_environment(self) -> dict[str, str]:
        """The variables an App Service / Container Apps platform sets for a process with a managed
        identity (``IDENTITY_ENDPOINT``, ``IDENTITY_HEADER``), pointing at the sandbox endpoint."""
        return {
            "IDENTITY_ENDPOINT": f"{self.identity_url}/msi/token",
            "IDENTITY_HEADER": self.identity_state.identity_header,
        }

    def write_federated_token(
        self, path: Path, *, subject: str = KUBERNETES_SUBJECT, lifetime: int = 3600
    ) -> Path:
        """What AKS projects into the pod: the service account token for workload identity."""
        return write_private_file(
            path, self.identity_state.federated_token(KUBERNETES_ISSUER, subject, lifetime=lifetime).encode()
        )

    def planner_source(self, name: str = "planner", **extra: Any) -> dict[str, Any]:
        """A ``sources[]`` block for the seeded Planner groups."""
        groups = list(self.graph_state.planner.groups)
        return {"name": name, "type": "planner", **self.settings(), "group_ids": groups, **extra}

    def dataverse_source(self, name: str = "dataverse", **extra: Any) -> dict[str, Any]:
        """A ``sources[]`` block for the sandbox Dataverse environment."""
        return {
            "name": name,
            "type": "dataverse",
            **self.settings(),
            "environment_url": self.dataverse_url,
            **extra,
        }

    def config_snippet(self) -> str:
        """pmsync.yaml ``sources:`` entries for the sandbox, the secret kept in a 0600 file beside the CA
        (what ``pmsync sandbox`` prints; paste under ``sources:``)."""
        secret_file = write_private_file(
            self.workdir / "client-secret.txt", self.credentials.client_secret.encode()
        )
        blocks = []
        for block in (self.planner_source(), self.dataverse_source()):
            block = {k: v for k, v in block.items() if k != "client_secret"}
            block["client_secret_file"] = str(secret_file)
            blocks.append(block)
        text: str = yaml.safe_dump(blocks, sort_keys=False)
        return text

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> MicrosoftSandbox:
        self.identity.start()
        self.graph.start()
        self.dataverse.start()
        return self

    def stop(self) -> None:
        # Each server notices shutdown at its next poll (0.5 s); stop all three at once.
        stoppers = [threading.Thread(target=s.stop) for s in (self.identity, self.graph, self.dataverse)]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()

    def __enter__(self) -> MicrosoftSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def microsoft_sandbox(tmp_path: Path, **kwargs: Any) -> Iterator[MicrosoftSandbox]:
    """Pytest helper: ``with microsoft_sandbox(tmp_path) as ms: ...`` (servers stopped afterwards)."""
    with MicrosoftSandbox(tmp_path / "ms-sandbox", **kwargs) as sandbox:
        yield sandbox
