"""Secretless sign-in in the sandbox identity platform, as Entra offers it: managed identities (the
platform's identity endpoint answering for the machine's identities) and workload identity federation
(an app trusting another OIDC issuer's tokens as its client assertion). Mixed into
:class:`~pmsync.sandbox.identity.IdentityState`."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from pmsync.sandbox.identity_wire import aad_error, json_response

if TYPE_CHECKING:
    from pmsync.sandbox.identity_accounts import AppRegistration, SandboxUser

#: the audience Entra requires of a federated token (workload identity federation)
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


class SecretlessSignIn:
    """Managed identity and federation for the sandbox tenant (state lives on the IdentityState)."""

    federation_issuers: dict[str, rsa.RSAPrivateKey]
    machine_identities: dict[str | None, AppRegistration]
    identity_header: str
    resources: set[str]
    token_lifetime: int

    if TYPE_CHECKING:

        def register_app(self, app: AppRegistration) -> AppRegistration: ...

        def _issue(
            self, app: AppRegistration, resource: str, *, user: SandboxUser | None, scopes: list[str]
        ) -> str: ...

    def add_federation_issuer(self, issuer: str) -> None:
        """An external identity provider the tenant's apps may trust (its keys are published)."""
        self.federation_issuers[issuer] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def federated_token(self, issuer: str, subject: str, *, lifetime: int = 3600, audience: str = "") -> str:
        """What that provider issues to a workload, e.g. the projected service account token a
        Kubernetes pod with workload identity finds in $AZURE_FEDERATED_TOKEN_FILE."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": [audience or FEDERATION_AUDIENCE],
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        key = self.federation_issuers[issuer]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "sandbox-cluster"})

    def add_machine_identity(self, app: AppRegistration, *, system_assigned: bool = False) -> AppRegistration:
        """A managed identity assigned to the machine pmsync runs on (the sandbox's identity endpoint
        answers for it): the system-assigned one, or a user-assigned one picked by its client id."""
        app.managed = True
        self.register_app(app)
        self.machine_identities[None if system_assigned else app.client_id] = app
        return app

    def managed_identity_endpoint(self, request: Request) -> Response:
        """The App Service / Container Apps identity endpoint (``IDENTITY_ENDPOINT``), API version
        2019-08-01: ``GET ?resource=...&client_id=...`` with the ``X-IDENTITY-HEADER`` secret, answering
        ``access_token`` and ``expires_on`` (epoch seconds, a string) as
        learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference shows."""
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return json_response(
                401, {"statusCode": 401, "message": "Unauthorized: missing X-IDENTITY-HEADER"}
            )
        wanted = request.args.get("client_id") or None
        app = self.machine_identities.get(wanted)
        if app is None:
            return json_response(
                400,
                {
                    "statusCode": 400,
                    "message": "No managed identity found for specified ClientId/ResourceId/PrincipalId.",
                    "correlationId": str(uuid.uuid4()),
                },
            )
        resource = request.args.get("resource", "").rstrip("/")
        known = next((r for r in self.resources if r.rstrip("/") == resource), None)
        if known is None:
            return json_response(
                500,
                {
                    "statusCode": 500,
                    "message": f"An unexpected error occured while fetching the AAD Token. AADSTS500011: "
                    f"The resource principal named {resource} was not found in the tenant.",
                },
            )
        token = self._issue(app, known, user=None, scopes=[f"{known}/.default"])
        return json_response(
            200,
            {
                "access_token": token,
                "expires_on": str(int(time.time()) + self.token_lifetime),
                "resource": known,
                "token_type": "Bearer",
                "client_id": app.client_id,
            },
        )

    def _check_federated(
        self, app: AppRegistration, assertion: str, unverified: dict[str, Any]
    ) -> Response | None:
        """Workload identity federation: the assertion is another provider's token, checked against
        that provider's keys and the app's federated credentials (AADSTS700211 unknown issuer,
        AADSTS700213 no credential for the subject, AADSTS700024 expired; Entra's codes)."""
        issuer, subject = str(unverified.get("iss", "")), str(unverified.get("sub", ""))
        key = self.federation_issuers.get(issuer)
        if key is None or issuer not in {i for i, _ in app.federated_credentials}:
            return aad_error(
                400,
                "invalid_request",
                700211,
                f"No matching federated identity record found for presented assertion issuer '{issuer}'. "
                "Please check your federated identity credential Subject, Audience and Issuer against the "
                "presented assertion.",
            )
        try:
            jwt.decode(assertion, key.public_key(), algorithms=["RS256"], audience=FEDERATION_AUDIENCE)
        except jwt.ExpiredSignatureError:
            return aad_error(
                400, "invalid_client", 700024, "Client assertion is not within its valid time range."
            )
        except jwt.PyJWTError as exc:
            return aad_error(
                400, "invalid_client", 700212, f"No matching federated identity record found for presented "
                f"assertion audience. [Reason - {exc}]",
            )  # fmt: skip
        if (issuer, subject) not in app.federated_credentials:
            return aad_error(
                400,
                "invalid_request",
                700213,
                f"No matching federated identity record found for presented assertion subject '{subject}'. "
                "Please check your federated identity credential Subject, Audience and Issuer against the "
                "presented assertion.",
            )
        return None
