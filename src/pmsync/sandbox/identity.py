"""The sandbox Microsoft identity platform (Entra ID v2.0 endpoints), enough for the real ``msal``.

Routes (``{tenant}`` is the tenant GUID or its ``*.onmicrosoft.com`` domain):

- ``GET  /{tenant}/v2.0/.well-known/openid-configuration`` — OpenID discovery (msal's first call);
- ``POST /{tenant}/oauth2/v2.0/token`` — ``client_credentials`` with a client secret, a certificate
  (``client_assertion`` JWT, RS256/PS256, ``x5t``/``x5t#S256``) or a federated token from a trusted
  issuer (workload identity federation), the device-code grant and ``refresh_token``;
- ``POST /{tenant}/oauth2/v2.0/devicecode`` — starts a device-code sign-in;
- ``GET  /msi/token`` — the managed identity endpoint of "this machine" (App Service shape), see
  :mod:`pmsync.sandbox.identity_secretless`.

Failures use Entra's OAuth error JSON (``error``, ``error_description`` starting with ``AADSTS<n>:``,
``error_codes``): unknown tenant (90002), unknown app (700016), wrong secret (7000215), expired secret
(7000222), bad or expired certificate (700027), missing admin consent in a delegated (device-code)
sign-in (65001; an app-only token of an unconsented app is issued without ``roles``), unknown resource
(500011), bad scope for client credentials (1002012), federated token from an untrusted issuer or
subject (700211, 700213) or expired (700024). Throttling (429 + Retry-After) comes from the
server's fault plan.

Access tokens are JWTs signed (HS256) with a per-sandbox key; resource servers (Graph, Dataverse,
SharePoint) check them with :meth:`IdentityState.check_bearer`, which also gives them the app roles.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from pmsync.sandbox.identity_accounts import AppRegistration, SandboxUser
from pmsync.sandbox.identity_secretless import SecretlessSignIn
from pmsync.sandbox.identity_wire import (
    aad_error,
    b64url,
    basic_auth,
    identity_error_body,
    json_response,
)

__all__ = [
    "GRAPH_RESOURCE",
    "AppRegistration",
    "IdentityState",
    "InvalidBearer",
    "SandboxUser",
    "TokenClaims",
    "certificate_thumbprint_sha1",
    "identity_error_body",
]

GRAPH_RESOURCE = "https://graph.microsoft.com"

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class _DeviceFlow:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    expires_at: float
    approved_by: SandboxUser | None = None
    denied: bool = False


class InvalidBearer(Exception):
    """A resource server must answer 401 (``status``), with Graph's error code and message."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class TokenClaims:
    """What a resource server learns from a valid access token."""

    app_id: str
    audience: str
    roles: frozenset[str]
    scopes: frozenset[str]
    user: str | None
    raw: dict[str, Any]


class IdentityState(SecretlessSignIn):
    """The tenant, its app registrations and users, and the tokens it issued (thread-safe)."""

    def __init__(
        self,
        *,
        tenant_id: str = "8f1c2b6e-3d4a-4c5b-9e7f-1a2b3c4d5e6f",
        tenant_domain: str = "agency-sandbox.onmicrosoft.com",
        token_lifetime: int = 3599,
    ) -> None:
        self.tenant_id = tenant_id
        self.tenant_domain = tenant_domain
        self.token_lifetime = token_lifetime
        self.apps: dict[str, AppRegistration] = {}
        self.users: dict[str, SandboxUser] = {}
        #: resource identifiers this tenant knows (the ``aud`` of tokens), e.g. the Dataverse URL
        self.resources: set[str] = {GRAPH_RESOURCE}
        #: device-code sign-ins are approved by this user at the first poll (None: wait for approve())
        self.device_auto_approve: SandboxUser | None = None
        #: how many tokens each client id obtained (tests assert msal's cache is reused)
        self.tokens_issued: dict[str, int] = {}
        self._signing_key = secrets.token_bytes(32)
        self._flows: dict[str, _DeviceFlow] = {}
        self._refresh_tokens: dict[str, tuple[str, str, list[str]]] = {}
        self._lock = threading.Lock()
        self.issuer_base = ""  # set by the server once its URL is known
        #: external OIDC issuers (a Kubernetes cluster, GitHub Actions) by URL, with their signing keys
        self.federation_issuers: dict[str, rsa.RSAPrivateKey] = {}
        #: managed identities on "this machine": the system-assigned one (None) and user-assigned ones
        self.machine_identities: dict[str | None, AppRegistration] = {}
        #: the secret the platform hands the process in IDENTITY_HEADER (App Service shape)
        self.identity_header = secrets.token_urlsafe(24)

    # -- setup -------------------------------------------------------------------------------
    def register_app(self, app: AppRegistration) -> AppRegistration:
        self.apps[app.client_id] = app
        return app

    def add_user(self, user: SandboxUser) -> SandboxUser:
        self.users[user.user_principal_name] = user
        return user

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() in (self.tenant_id, self.tenant_domain.lower())

    def approve_device_code(self, user_code: str, user: SandboxUser) -> None:
        """What the user does in the browser at the verification URL."""
        with self._lock:
            for flow in self._flows.values():
                if flow.user_code == user_code:
                    flow.approved_by = user
                    return
        raise KeyError(user_code)

    # -- tokens ------------------------------------------------------------------------------
    def _issue(
        self, app: AppRegistration, resource: str, *, user: SandboxUser | None, scopes: list[str]
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "tid": self.tenant_id,
            "appid": app.client_id,
            "app_displayname": app.display_name,
            "uti": secrets.token_urlsafe(12),
            "ver": "1.0",
        }
        if user is None:
            claims.update(idtyp="app", oid=str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)))
            # Only admin-consented application permissions become roles; without consent Entra issues
            # the token anyway, with no roles claim, and Graph answers 401 "Either scp or roles claim
            # need to be present in the token" (MicrosoftDocs/azure-docs#50935,
            # Azure-Samples/active-directory-dotnetcore-daemon-v2#69: no granted roles, no roles claim).
            roles = sorted(app.roles.get(resource, set())) if app.admin_consented else []
            if roles:
                claims["roles"] = roles
        else:
            claims.update(
                idtyp="user", oid=user.object_id, upn=user.user_principal_name, name=user.display_name
            )
            claims["scp"] = " ".join(s.rsplit("/", 1)[-1] for s in scopes if not s.endswith("/.default")) or (
                "user_impersonation"
            )
        with self._lock:
            self.tokens_issued[app.client_id] = self.tokens_issued.get(app.client_id, 0) + 1
        return jwt.encode(claims, self._signing_key, algorithm="HS256", headers={"typ": "JWT"})

    def check_bearer(self, authorization: str | None, audiences: Iterable[str]) -> TokenClaims:
        """Validate an ``Authorization: Bearer`` header for a resource server; raises InvalidBearer."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise InvalidBearer("InvalidAuthenticationToken", "Access token is empty.")
        token = authorization[7:].strip()
        try:
            claims = jwt.decode(token, self._signing_key, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise InvalidBearer(
                "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            ) from None
        except jwt.PyJWTError:
            raise InvalidBearer("InvalidAuthenticationToken", "Access token validation failure.") from None
        allowed = {a.rstrip("/") for a in audiences}
        if str(claims.get("aud", "")).rstrip("/") not in allowed:
            raise InvalidBearer(
                "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."
            )
        return TokenClaims(
            app_id=str(claims.get("appid")),
            audience=str(claims["aud"]),
            roles=frozenset(claims.get("roles", [])),
            scopes=frozenset(str(claims.get("scp", "")).split()),
            user=claims.get("upn"),
            raw=claims,
        )

    # -- the OAuth endpoints -------------------------------------------------------------------
    def token_endpoint(self, request: Request, tenant: str) -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        basic_id, basic_secret = basic_auth(request)
        client_id = client_id or basic_id or ""
        app = self.apps.get(client_id)
        if app is None:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_domain}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant. You may have "
                "sent your authentication request to the wrong tenant.",
            )
        if grant == "client_credentials":
            return self._client_credentials(request, app, basic_secret)
        if grant == DEVICE_CODE_GRANT:
            return self._device_code_poll(form.get("device_code", ""), app)
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""), app)
        return aad_error(
            400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
        )

    def _client_credentials(
        self, request: Request, app: AppRegistration, basic_secret: str | None
    ) -> Response:
        form = request.form
        problem = self._authenticate_client(app, form, basic_secret, request.url)
        if problem is not None:
            return problem
        scope = form.get("scope", "")
        scopes = scope.split()
        resource_scopes = [s for s in scopes if s not in ("openid", "profile", "offline_access")]
        if len(resource_scopes) != 1 or not resource_scopes[0].endswith("/.default"):
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = resource_scopes[0][: -len("/.default")]
        if resource.rstrip("/") not in {r.rstrip("/") for r in self.resources}:
            return aad_error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.tenant_domain}. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        # An app whose application permissions were never admin-consented still gets a token from
        # the client-credentials grant, without a ``roles`` claim (see _issue); the resource then
        # refuses it. AADSTS65001 belongs to delegated flows (the device-code poll below).
        resource_key = next(r for r in self.resources if r.rstrip("/") == resource.rstrip("/"))
        token = self._issue(app, resource_key, user=None, scopes=scopes)
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            },
        )

    def _authenticate_client(
        self, app: AppRegistration, form: Any, basic_secret: str | None, token_url: str
    ) -> Response | None:
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                return aad_error(400, "invalid_request", 50027, "Invalid client_assertion_type.")
            return self._check_assertion(app, assertion, token_url)
        secret = form.get("client_secret") or basic_secret
        if not secret:
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if app.secret is None or not secrets.compare_digest(secret, app.secret):
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )
        if app.secret_expired:
            return aad_error(
                401,
                "invalid_client",
                7000222,
                f"The provided client secret keys for app '{app.client_id}' are expired.",
            )
        return None

    def _check_assertion(self, app: AppRegistration, assertion: str, token_url: str) -> Response | None:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return aad_error(
                400, "invalid_client", 50027, "Invalid JWT token. The token is not in a valid format."
            )
        if "x5t" not in header and "x5t#S256" not in header and unverified.get("iss") != app.client_id:
            return self._check_federated(app, assertion, unverified)
        by_thumbprint: dict[str, x509.Certificate] = {}
        for pem in app.certificates:
            uploaded = x509.load_pem_x509_certificate(pem)
            by_thumbprint[b64url(uploaded.fingerprint(hashes.SHA1()))] = uploaded
            by_thumbprint[b64url(uploaded.fingerprint(hashes.SHA256()))] = uploaded
        thumb = str(header.get("x5t#S256") or header.get("x5t") or "")
        cert = by_thumbprint.get(thumb.rstrip("="))  # base64url, with or without padding
        if cert is None:
            return aad_error(
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint "
                f"of key used by client: '{thumb}', Please visit the Azure Portal, Graph Explorer or "
                "directly use MS Graph to see configured keys for app Id "
                f"'{app.client_id}'.]",
            )
        hexes = {
            cert.fingerprint(hashes.SHA1()).hex().upper(),
            cert.fingerprint(hashes.SHA256()).hex().upper(),
        }
        if hexes & {t.upper() for t in app.expired_certificates} or cert.not_valid_after_utc < datetime.now(
            UTC
        ):
            return aad_error(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is expired on "
                f"application. [Reason - The key used is expired., Thumbprint of key used by client: "
                f"'{thumb}', Configured keys: app Id '{app.client_id}']",
            )
        try:
            claims = jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=token_url.split("?")[0],
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            return aad_error(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. [Reason - {exc}]",
            )
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return aad_error(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        return None

    def device_code_endpoint(self, request: Request, verification_uri: str) -> Response:
        client_id = request.form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None or not app.public_client:
            code, text = (
                (700016, f"Application with identifier '{client_id}' was not found in the directory.")
                if app is None
                else (
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or "
                    "'client_secret'. (The app is not configured as a public client: enable 'Allow public "
                    "client flows'.)",
                )
            )
            return aad_error(400, "invalid_client" if app else "unauthorized_client", code, text)
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        flow = _DeviceFlow(
            device_code, user_code, client_id, request.form.get("scope", "").split(), time.time() + 900
        )
        with self._lock:
            self._flows[device_code] = flow
        return json_response(
            200,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": verification_uri,
                "expires_in": 900,
                "interval": 1,
                "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the "
                f"code {user_code} to authenticate.",
            },
        )

    def _device_code_poll(self, device_code: str, app: AppRegistration) -> Response:
        with self._lock:
            flow = self._flows.get(device_code)
            if flow is not None and flow.approved_by is None and self.device_auto_approve is not None:
                flow.approved_by = self.device_auto_approve
        if flow is None or flow.client_id != app.client_id:
            return aad_error(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
        if time.time() > flow.expires_at:
            return aad_error(
                400,
                "expired_token",
                70020,
                "The provided value for the input parameter "
                "'device_code' is not valid. This device code has expired.",
            )
        if flow.denied:
            return aad_error(400, "authorization_declined", 70002, "The user declined the authorization.")
        if flow.approved_by is None:
            return aad_error(
                400,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        with self._lock:
            del self._flows[device_code]
        if not app.admin_consented:
            return aad_error(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{app.client_id}' named '{app.display_name}'. Send an interactive authorization request "
                "for this user and resource.",
            )
        return self._user_tokens(app, flow.approved_by, flow.scopes)

    def _user_tokens(self, app: AppRegistration, user: SandboxUser, scopes: list[str]) -> Response:
        resource_scopes = [s for s in scopes if s not in ("openid", "profile", "offline_access")]
        resource = GRAPH_RESOURCE
        if resource_scopes and "://" in resource_scopes[0]:
            resource = resource_scopes[0].rsplit("/", 1)[0]
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh_tokens[refresh] = (app.client_id, user.user_principal_name, scopes)
        now = int(time.time())
        id_token = jwt.encode(
            {
                "aud": app.client_id,
                "iss": f"{self.issuer_base}/{self.tenant_id}/v2.0",
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "oid": user.object_id,
                "sub": user.object_id,
                "tid": self.tenant_id,
                "preferred_username": user.user_principal_name,
                "name": user.display_name,
                "ver": "2.0",
            },
            self._signing_key,
            algorithm="HS256",
        )
        client_info = b64url(json.dumps({"uid": user.object_id, "utid": self.tenant_id}).encode())
        return json_response(
            200,
            {
                "token_type": "Bearer",
                "scope": " ".join(resource_scopes),
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": self._issue(app, resource, user=user, scopes=resource_scopes),
                "refresh_token": refresh,
                "id_token": id_token,
                "client_info": client_info,
            },
        )

    def _refresh(self, refresh_token: str, app: AppRegistration) -> Response:
        with self._lock:
            entry = self._refresh_tokens.get(refresh_token)
        if entry is None or entry[0] != app.client_id or entry[1] not in self.users:
            return aad_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token "
                "has expired due to inactivity. Send a new interactive authorization request "
                "for this user and resource.",
            )
        return self._user_tokens(app, self.users[entry[1]], entry[2])


def certificate_thumbprint_sha1(pem: bytes) -> str:
    """Hex SHA-1 thumbprint of a PEM certificate (as the Entra portal shows it)."""
    return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA1()).hex().upper()
