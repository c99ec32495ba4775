"""Tokens from the Microsoft identity platform, for every pmsync part that calls Microsoft APIs.

One module for the Planner and Dataverse connectors and the SharePoint publisher:

- :class:`MicrosoftAppSettings` is the config block they share (tenant, app, credential, cloud, CA);
- :func:`token_provider` gives a :class:`TokenProvider` for it: app-only (daemon) tokens through
  ``msal.ConfidentialClientApplication`` with a client secret, a certificate or a federated token
  (``sign_in: workload_identity``), tokens of the machine's managed identity
  (``sign_in: managed_identity``, :mod:`pmsync.microsoft.secretless`), or delegated tokens through the
  device-code flow (``sign_in: device_code``) with a token cache file only its owner can read (0600).

An unattended run (no terminal, or ``pmsync --non-interactive`` / ``PMSYNC_NON_INTERACTIVE=1``) never
starts a device-code sign-in, which would wait up to 15 minutes for a person: when the cached sign-in
is missing or expired it fails at once with :class:`SignInRequired` ("sign in again: ...", exit 3).

MSAL objects are kept per (authority, client id, credential) for the life of the process, so their
in-memory token cache is reused until the token expires instead of asking Entra on every call.

MSAL reports failures as a dict (``error``, ``error_description`` with an ``AADSTS<n>`` code). They
become :class:`~pmsync.errors.AuthError` with a message that says what is wrong (wrong tenant, wrong
secret, expired certificate, missing admin consent, ...) and what to do. Throttling of the token
endpoint (429 + Retry-After, which MSAL replays from its own cache until the delay has passed) becomes
:class:`~pmsync.errors.RetriableSourceError` with ``retry_after``, so the shared retry policy waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from hashlib import sha256
from pathlib import Path
from typing import Any, Protocol

import msal
import requests

from pmsync.errors import AuthError, ConfigError, ConnectorError, RetriableSourceError
from pmsync.http import make_session, parse_retry_after
from pmsync.logs import redact, register_secret
from pmsync.microsoft.credentials import client_credential, resolve_path
from pmsync.microsoft.secretless import (
    ManagedIdentityTokenProvider,
    federated_assertion,
    federated_token_path,
)
from pmsync.microsoft.settings import DEFAULT_TOKEN_CACHE, MicrosoftAppSettings
from pmsync.microsoft.signin_errors import auth_error_from_result

__all__ = [
    "NON_INTERACTIVE_ENV",
    "AppTokenProvider",
    "DeviceCodeTokenProvider",
    "SignInRequired",
    "MicrosoftAppSettings",
    "TokenProvider",
    "auth_error_from_result",
    "forget_token_providers",
    "token_provider",
]


class TokenProvider(Protocol):
    """What a client needs: a bearer token for a scope, a way to drop a rejected one, and the
    ``requests`` session that trusts the right CA."""

    session: requests.Session

    def token(self, scope: str) -> str: ...

    def invalidate(self) -> None: ...


# -- errors ----------------------------------------------------------------------------------------
#: set (to anything but "" or "0") by ``pmsync --non-interactive``, or by a scheduler's environment
NON_INTERACTIVE_ENV = "PMSYNC_NON_INTERACTIVE"


class SignInRequired(AuthError):
    """A person must sign in, and this run is unattended: nothing waits for them (exit 3, like a
    configuration problem: the run cannot succeed until someone acts)."""

    exit_code = 3


def non_interactive_requested() -> bool:
    """``pmsync --non-interactive`` was given (or the scheduler set ``PMSYNC_NON_INTERACTIVE``)."""
    return os.environ.get(NON_INTERACTIVE_ENV, "") not in ("", "0")


def unattended() -> bool:
    """No one can answer a device-code prompt printed on stderr: ``--non-interactive`` was given, or
    stdin or stderr is not a terminal (cron, systemd, CI, a pipe)."""
    return non_interactive_requested() or not (sys.stdin.isatty() and sys.stderr.isatty())


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
        # credential: a client secret, a certificate dict, or {"client_assertion": callable}
        self.settings = settings
        self.source = source
        self.session = make_session(ca_bundle=settings.ca_bundle, timeout=settings.timeout_seconds)
        self._http = _ThrottleAwareHttpClient(self.session)
        self._lock = threading.Lock()
        try:
            self.app = msal.ConfidentialClientApplication(
                settings.app_id(),
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
        interactive: Callable[[], bool] = lambda: not unattended(),
    ) -> None:
        self.settings = settings
        self.source = source
        self.prompt = prompt
        self.interactive = interactive
        self.cache_path = resolve_path(settings.token_cache_file or DEFAULT_TOKEN_CACHE, base_dir)
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
                settings.app_id(),
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
        if not self.interactive():
            # A device code would wait ~15 minutes for a person who is not there.
            raise SignInRequired(
                f"sign in again: the saved sign-in for app {self.settings.client_id!r} is missing or has "
                f"expired, and this run is unattended (no terminal, or --non-interactive), so no "
                "device-code sign-in was started",
                source=self.source,
                record=f"token for {scope}",
                hint=f"run `pmsync doctor` once in a terminal and sign in; the token cache "
                f"({self.cache_path}) then signs scheduled runs in silently. For unattended runs "
                "prefer sign_in: app, managed_identity or workload_identity",
            )
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


def _can_prompt(prompt: Callable[[str], None]) -> Callable[[], bool]:
    """Whether a device-code sign-in may start: the default prompt prints on stderr, so it needs a
    terminal; a caller's own prompt reaches the person its own way. ``--non-interactive`` wins."""
    if prompt is _print_prompt:
        return lambda: not unattended()
    return lambda: not non_interactive_requested()


def token_provider(
    settings: MicrosoftAppSettings,
    *,
    source: str,
    base_dir: Path | None = None,
    prompt: Callable[[str], None] = _print_prompt,
    interactive: Callable[[], bool] | None = None,
) -> TokenProvider:
    """The token provider for ``settings``, created once per process and then reused.

    The key includes a digest of the credential so that a corrected secret in the same process gets
    a fresh MSAL application rather than the one that holds the wrong secret. ``interactive`` decides
    whether a device-code sign-in may be started (default: see :func:`_can_prompt`).
    """
    base = base_dir or Path.cwd()
    if settings.ca_bundle is not None:
        # Relative to pmsync.yaml's folder like every other path in it, and checked now: requests would
        # only fail at the first call, with a message that does not name the key.
        ca_bundle = resolve_path(settings.ca_bundle, base)
        if not ca_bundle.is_file():
            raise ConfigError(
                f"ca_bundle {str(ca_bundle)!r} does not exist",
                source=source,
                record="ca_bundle",
                hint="point it at a PEM file of CA certificates (for the sandbox: the file it printed)",
            )
        settings = settings.model_copy(update={"ca_bundle": ca_bundle})
    if settings.sign_in == "device_code":
        cache = str(resolve_path(settings.token_cache_file or DEFAULT_TOKEN_CACHE, base))
        key: tuple[str, ...] = (
            "device",
            settings.authority(),
            settings.app_id(),
            cache,
            str(settings.ca_bundle),
        )
        with _PROVIDERS_LOCK:
            if key not in _PROVIDERS:
                _PROVIDERS[key] = DeviceCodeTokenProvider(
                    settings,
                    source=source,
                    base_dir=base,
                    prompt=prompt,
                    interactive=interactive or _can_prompt(prompt),
                )
            return _PROVIDERS[key]
    if settings.sign_in == "managed_identity":
        key = ("managed", settings.client_id or "system", str(settings.ca_bundle))
        with _PROVIDERS_LOCK:
            if key not in _PROVIDERS:
                _PROVIDERS[key] = ManagedIdentityTokenProvider(settings, source=source)
            return _PROVIDERS[key]
    if settings.sign_in == "workload_identity":
        path = federated_token_path(settings, source=source, base_dir=base)
        key = ("federated", settings.authority(), settings.app_id(), str(path), str(settings.ca_bundle))
        with _PROVIDERS_LOCK:
            if key not in _PROVIDERS:
                assertion = {"client_assertion": federated_assertion(path, source=source)}
                _PROVIDERS[key] = AppTokenProvider(settings, assertion, source=source)
            return _PROVIDERS[key]
    credential = client_credential(settings, source=source, base_dir=base)
    digest = sha256(json.dumps(credential, sort_keys=True).encode()).hexdigest()
    key = ("app", settings.authority(), settings.app_id(), digest, str(settings.ca_bundle))
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
