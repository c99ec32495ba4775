"""Tokens from the Microsoft identity platform, for every pmsync part that calls Microsoft APIs.

One module for the Planner and Dataverse connectors and the SharePoint publisher:

- :class:`MicrosoftAppSettings` is the config block they share (tenant, app, credential, cloud, CA);
- :func:`token_provider` gives a :class:`TokenProvider` for it: app-only (daemon) tokens through
  ``msal.ConfidentialClientApplication`` with a client secret or a certificate, or delegated tokens
  through the device-code flow (``sign_in: device_code``) with a token cache file only its owner can
  read (0600).

MSAL objects are kept per (authority, client id, credential) for the life of the process, so their
in-memory token cache is reused until the token expires instead of asking Entra on every call.

MSAL reports failures as a dict (``error``, ``error_description`` with an ``AADSTS<n>`` code). They
become :class:`~pmsync.errors.AuthError` with a message that says what is wrong (wrong tenant, wrong
secret, expired certificate, missing admin consent, ...) and what to do. Throttling of the token
endpoint (429 + Retry-After, which MSAL replays from its own cache until the delay has passed) becomes
:class:`~pmsync.errors.RetriableSourceError` with ``retry_after``, so the shared retry policy waits.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any, Literal, Protocol

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr, model_validator

from pmsync.connector import CheckResult, ConnectorConfig
from pmsync.errors import AuthError, ConfigError, ConnectorError, PmsyncError, RetriableSourceError
from pmsync.http import make_session, parse_retry_after
from pmsync.logs import redact, register_secret

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
    """

    tenant_id: str
    client_id: str
    sign_in: Literal["app", "device_code"] = "app"
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
        if self.sign_in == "device_code" and given:
            raise ValueError(f"device_code sign-in uses no app credential; remove {', '.join(given)}")
        if self.authority_host is not None and not self.authority_host.startswith("https://"):
            raise ValueError("authority_host must be an https:// URL (MSAL refuses anything else)")
        return self

    def authority(self) -> str:
        host = self.authority_host or AUTHORITY_HOSTS[self.cloud]
        return f"{host.rstrip('/')}/{self.tenant_id}"

    def graph_base(self) -> str:
        """Graph v1.0 base URL, e.g. ``https://graph.microsoft.com/v1.0``."""
        return f"{(self.graph_url or GRAPH_URLS[self.cloud]).rstrip('/')}/v1.0"

    def graph_scope(self) -> str:
        resource = self.graph_resource or self.graph_url or GRAPH_URLS[self.cloud]
        return f"{resource.rstrip('/')}/.default"


class TokenProvider(Protocol):
    """What a client needs: a bearer token for a scope, a way to drop a rejected one, and the
    ``requests`` session that trusts the right CA."""

    session: requests.Session

    def token(self, scope: str) -> str: ...

    def invalidate(self) -> None: ...


# -- errors ----------------------------------------------------------------------------------------
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


# -- credentials -----------------------------------------------------------------------------------
_PEM_KEY = re.compile(
    rb"-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----.+?"
    rb"-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----",
    re.S,
)


def _resolve(path: Path, base_dir: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base_dir / path


def _certificate_credential(settings: MicrosoftAppSettings, *, source: str, base_dir: Path) -> dict[str, Any]:
    assert settings.certificate_file is not None
    path = _resolve(settings.certificate_file, base_dir)
    passphrase = settings.certificate_password.get_secret_value() if settings.certificate_password else None
    register_secret(passphrase)
    if path.suffix.lower() in (".pfx", ".p12"):
        if not path.is_file():
            raise ConfigError(
                f"certificate file {str(path)!r} not found", source=source, record="certificate_file"
            )
        credential: dict[str, Any] = {"private_key_pfx_path": str(path), "public_certificate": True}
        if passphrase:
            credential["passphrase"] = passphrase
        return credential
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read certificate file {str(path)!r}: {exc.strerror}",
            source=source,
            record="certificate_file",
        ) from None
    key_match = _PEM_KEY.search(data)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if key_match is None or not certs:
        raise ConfigError(
            f"certificate file {str(path)!r} must hold the PEM private key and the PEM certificate",
            source=source,
            record="certificate_file",
            hint="e.g. cat app.key app.crt > app.pem; or use a .pfx file",
        )
    key_pem = key_match.group(0)
    register_secret(key_pem.decode())
    try:
        serialization.load_pem_private_key(key_pem, passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"cannot load the private key in {str(path)!r}: {exc}",
            source=source,
            record="certificate_file",
            hint="is certificate_password right?",
        ) from None
    cert = certs[0]
    if cert.not_valid_after_utc < datetime.now(UTC):
        raise AuthError(
            f"the certificate for app {settings.client_id!r} expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC (subject {cert.subject.rfc4514_string()})",
            source=source,
            record=str(path),
            hint="create a new certificate, upload it to the app registration, point certificate_file at it",
        )
    credential = {
        "private_key": key_pem.decode(),
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }
    if passphrase:
        credential["passphrase"] = passphrase
    return credential


def _client_credential(
    settings: MicrosoftAppSettings, *, source: str, base_dir: Path
) -> str | dict[str, Any]:
    if settings.certificate_file is not None:
        return _certificate_credential(settings, source=source, base_dir=base_dir)
    if settings.client_secret is not None:
        secret = settings.client_secret.get_secret_value()
    else:
        assert settings.client_secret_file is not None
        path = _resolve(settings.client_secret_file, base_dir)
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the client secret from {str(path)!r}: {exc.strerror}",
                source=source,
                record="client_secret_file",
            ) from None
    if not secret:
        raise ConfigError("the client secret is empty", source=source, record="client_secret")
    register_secret(secret)
    return secret


# -- the HTTP client MSAL uses ---------------------------------------------------------------------
class _ThrottleAwareHttpClient:
    """The ``requests`` session MSAL talks through, remembering when Entra asked us to back off.

    MSAL replays a throttled answer from its own cache without calling us again, so the deadline is
    kept here: while it lies in the future, an error result means "throttled, wait this long".
    """

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.retry_at = 0.0

    def _note(self, response: requests.Response) -> requests.Response:
        if response.status_code == 429 or response.status_code >= 500:
            delay = parse_retry_after(response.headers.get("Retry-After"))
            self.retry_at = time.monotonic() + (delay if delay is not None else 5.0)
        return response

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._note(self.session.post(url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._note(self.session.get(url, **kwargs))

    def close(self) -> None:
        self.session.close()

    def throttled_for(self) -> float | None:
        remaining = self.retry_at - time.monotonic()
        return remaining if remaining > 0 else None


def _transport_error(exc: Exception, settings: MicrosoftAppSettings, *, source: str) -> ConnectorError:
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectorError(
            f"TLS verification failed talking to {settings.authority()}: {redact(str(exc))[:200]}",
            source=source,
            record="authority",
            hint="for the sandbox, set ca_bundle to the CA file `pmsync sandbox` printed",
        )
    return RetriableSourceError(
        f"cannot reach {settings.authority()}: {redact(str(exc))[:200]}", source=source, record="authority"
    )


# -- app-only --------------------------------------------------------------------------------------
class AppTokenProvider:
    """App-only tokens for one app registration (shared across the process; thread-safe)."""

    def __init__(
        self, settings: MicrosoftAppSettings, credential: str | dict[str, Any], *, source: str
    ) -> None:
        self.settings = settings
        self.source = source
        self.session = make_session(ca_bundle=settings.ca_bundle, timeout=settings.timeout_seconds)
        self._http = _ThrottleAwareHttpClient(self.session)
        self._lock = threading.Lock()
        try:
            self.app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=credential,
                authority=settings.authority(),
                http_client=self._http,
                # Instance discovery asks login.microsoftonline.com about the host: off for hosts
                # MSAL does not know (the sandbox); national clouds are known to MSAL already.
                instance_discovery=settings.authority_host is None,
                validate_authority=settings.authority_host is None,
            )
        except ValueError as exc:
            raise _construction_error(exc, settings, source=source) from None
        except requests.RequestException as exc:
            raise _transport_error(exc, settings, source=source) from None

    def token(self, scope: str) -> str:
        with self._lock:
            try:
                result = self.app.acquire_token_for_client(scopes=[scope])
            except requests.RequestException as exc:
                raise _transport_error(exc, self.settings, source=self.source) from None
            except msal.exceptions.MsalServiceError as exc:  # 5xx from the token endpoint
                raise RetriableSourceError(
                    f"the token endpoint failed: {exc}",
                    source=self.source,
                    record=f"token for {scope}",
                    retry_after=self._http.throttled_for(),
                ) from None
        return _access_token(result, self.settings, self._http, source=self.source, scope=scope)

    def invalidate(self) -> None:
        """Forget cached app tokens (the resource server rejected one, e.g. after a key rollover)."""
        with self._lock:
            self.app.remove_tokens_for_client()


def _construction_error(
    exc: ValueError, settings: MicrosoftAppSettings, *, source: str
) -> AuthError | ConfigError:
    text = redact(str(exc))
    if "tenant" in text.lower() or "OIDC Discovery" in text or "authority" in text.lower():
        return AuthError(
            f"tenant {settings.tenant_id!r} was not found at {settings.authority_host or settings.cloud}",
            source=source,
            record="tenant_id",
            hint="check tenant_id (the Directory (tenant) ID GUID or the *.onmicrosoft.com domain) and cloud",
        )
    return ConfigError(f"MSAL refused the configuration: {text}", source=source)


def _access_token(
    result: dict[str, Any] | None,
    settings: MicrosoftAppSettings,
    http: _ThrottleAwareHttpClient,
    *,
    source: str,
    scope: str,
) -> str:
    if result and "access_token" in result:
        token = str(result["access_token"])
        register_secret(token)
        if result.get("refresh_token"):
            register_secret(str(result["refresh_token"]))
        return token
    result = result or {"error": "no_result", "error_description": "MSAL returned nothing"}
    throttled = http.throttled_for()
    if throttled is not None:
        raise RetriableSourceError(
            f"the token endpoint is throttling sign-ins: {str(result.get('error_description', ''))[:120]}",
            source=source,
            record=f"token for {scope}",
            retry_after=throttled,
            hint="pmsync waits as asked (Retry-After) and tries again",
        )
    raise auth_error_from_result(result, settings, source=source, scope=scope)


# -- delegated (device code) -----------------------------------------------------------------------
def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable only by its owner, atomically (a temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)  # umask cannot widen it, but an existing temp file might have been wider
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


class DeviceCodeTokenProvider:
    """Delegated tokens for a person: cached silently when possible, else a device-code sign-in.

    ``prompt`` receives the message to show ("open https://... and enter the code ...").
    """

    def __init__(
        self,
        settings: MicrosoftAppSettings,
        *,
        source: str,
        base_dir: Path,
        prompt: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.source = source
        self.prompt = prompt
        self.cache_path = _resolve(settings.token_cache_file or DEFAULT_TOKEN_CACHE, base_dir)
        self.cache = msal.SerializableTokenCache()
        if self.cache_path.is_file():
            os.chmod(self.cache_path, 0o600)
            # An unreadable cache only costs a new sign-in.
            with contextlib.suppress(ValueError, OSError):
                self.cache.deserialize(self.cache_path.read_text(encoding="utf-8"))
        self.session = make_session(ca_bundle=settings.ca_bundle, timeout=settings.timeout_seconds)
        self._http = _ThrottleAwareHttpClient(self.session)
        self._lock = threading.Lock()
        try:
            self.app = msal.PublicClientApplication(
                settings.client_id,
                authority=settings.authority(),
                token_cache=self.cache,
                http_client=self._http,
                instance_discovery=settings.authority_host is None,
                validate_authority=settings.authority_host is None,
            )
        except ValueError as exc:
            raise _construction_error(exc, settings, source=source) from None
        except requests.RequestException as exc:
            raise _transport_error(exc, settings, source=source) from None

    def token(self, scope: str) -> str:
        with self._lock:
            try:
                result = self._silent(scope) or self._sign_in(scope)
            except requests.RequestException as exc:
                raise _transport_error(exc, self.settings, source=self.source) from None
            finally:
                if self.cache.has_state_changed:
                    _write_private(self.cache_path, self.cache.serialize())
                    self.cache.has_state_changed = False
        return _access_token(result, self.settings, self._http, source=self.source, scope=scope)

    def _silent(self, scope: str) -> dict[str, Any] | None:
        for account in self.app.get_accounts():
            result = self.app.acquire_token_silent([scope], account=account)
            if result and "access_token" in result:
                return dict(result)
        return None

    def _sign_in(self, scope: str) -> dict[str, Any]:
        flow = self.app.initiate_device_flow(scopes=[scope])
        if "user_code" not in flow:
            raise auth_error_from_result(flow, self.settings, source=self.source, scope=scope)
        self.prompt(str(flow["message"]))
        return dict(self.app.acquire_token_by_device_flow(flow))

    def invalidate(self) -> None:
        with self._lock:
            for account in self.app.get_accounts():
                self.app.remove_account(account)


# -- the process-wide registry ---------------------------------------------------------------------
_PROVIDERS: dict[tuple[str, ...], TokenProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def _print_prompt(message: str) -> None:
    # stderr: stdout may be a report or JSON that a script reads
    print(message, file=sys.stderr, flush=True)


def token_provider(
    settings: MicrosoftAppSettings,
    *,
    source: str,
    base_dir: Path | None = None,
    prompt: Callable[[str], None] = _print_prompt,
) -> TokenProvider:
    """The token provider for ``settings``, created once per process and then reused.

    The key includes a digest of the credential so that a corrected secret in the same process gets
    a fresh MSAL application rather than the one that holds the wrong secret.
    """
    base = base_dir or Path.cwd()
    if settings.sign_in == "device_code":
        cache = str(_resolve(settings.token_cache_file or DEFAULT_TOKEN_CACHE, base))
        key: tuple[str, ...] = (
            "device",
            settings.authority(),
            settings.client_id,
            cache,
            str(settings.ca_bundle),
        )
        with _PROVIDERS_LOCK:
            if key not in _PROVIDERS:
                _PROVIDERS[key] = DeviceCodeTokenProvider(
                    settings, source=source, base_dir=base, prompt=prompt
                )
            return _PROVIDERS[key]
    credential = _client_credential(settings, source=source, base_dir=base)
    digest = sha256(json.dumps(credential, sort_keys=True).encode()).hexdigest()
    key = ("app", settings.authority(), settings.client_id, digest, str(settings.ca_bundle))
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = AppTokenProvider(settings, credential, source=source)
            _PROVIDERS[key] = provider
        return provider


def forget_token_providers() -> None:
    """Drop every cached provider (tests; a long-lived process after a credential rotation)."""
    with _PROVIDERS_LOCK:
        _PROVIDERS.clear()


def token_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT access token: enough to name the roles it carries.

    Never used to make a trust decision; only to explain a 403 ("the token has no Tasks.Read.All").
    """
    try:
        payload = token.split(".")[1]
        data: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def missing_permission(token: str, any_of: tuple[str, ...]) -> str | None:
    """A sentence naming the permission an app-only token lacks, or None when it has one of them.

    Delegated tokens (``scp``) are judged by the service itself; only app-only ``roles`` are checked.
    """
    claims = token_claims(token)
    if claims.get("idtyp") == "user" or "scp" in claims:
        return None
    roles = set(claims.get("roles") or [])
    if roles & set(any_of):
        return None
    granted = ", ".join(sorted(roles)) or "none"
    return (
        f"the app's token carries none of the application permissions {', '.join(any_of)} "
        f"(granted: {granted}); add {any_of[0]} to the app registration and grant admin consent"
    )


def sign_in_check(
    settings: MicrosoftAppSettings,
    *,
    source: str,
    scope: str,
    base_dir: Path | None = None,
    needed: tuple[str, ...] = (),
) -> tuple[CheckResult, str | None]:
    """``pmsync doctor``'s sign-in line for ``scope``, and the token when sign-in worked."""
    try:
        token = token_provider(settings, source=source, base_dir=base_dir).token(scope)
    except PmsyncError as exc:
        return CheckResult("sign-in", "fail", exc.message, exc.hint or ""), None
    problem = missing_permission(token, needed) if needed else None
    if problem:
        return CheckResult(
            "permission",
            "fail",
            problem,
            f"Entra admin center > App registrations > {settings.client_id} > API permissions",
        ), token
    how = "device code" if settings.sign_in == "device_code" else "app-only"
    return CheckResult("sign-in", "ok", f"{how} token for {scope} from {settings.authority()}"), token
