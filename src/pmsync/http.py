"""HTTP for the connectors and the publisher: one retry policy, one status → error sorting.

- :func:`raise_for_api_status` sorts a response into the error hierarchy by what the caller should
  do: 429/5xx → :class:`RetriableSourceError` (with ``Retry-After``), 401/403 → :class:`AuthError`,
  other 4xx → :class:`SourceDataError` (fatal for that request).
- :func:`retrying` is the single tenacity policy: retries only retriable errors and connection
  failures, waits what ``Retry-After`` asks (capped) or backs off exponentially with jitter.
- :func:`make_session` builds a ``requests.Session`` with an explicit trust decision: when a CA bundle
  is given it is used for every request, whatever ``REQUESTS_CA_BUNDLE`` says (requests lets that
  variable override ``Session.verify``).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from pmsync.errors import AuthError, ConnectorError, RetriableSourceError, SourceDataError
from pmsync.logs import redact

__all__ = [
    "CONNECT_TIMEOUT",
    "LOGGED_WAIT",
    "MAX_RETRY_AFTER",
    "USER_AGENT",
    "as_connector_error",
    "call_with_retries",
    "make_session",
    "parse_retry_after",
    "raise_for_api_status",
    "retrying",
]

T = TypeVar("T")
log = logging.getLogger("pmsync.http")

#: longest single wait we honour from Retry-After (SharePoint has asked for up to 300 s); a longer
#: request is logged and capped
MAX_RETRY_AFTER = 300.0
#: waits at least this long are logged, so a run that sits still says why
LOGGED_WAIT = 10.0
#: seconds to establish a connection (reading an answer may take the session's longer timeout): a
#: host that drops packets fails in seconds, not minutes
CONNECT_TIMEOUT = 10.0
USER_AGENT = "pmsync/0.1 (+https://github.com/pmsync/pmsync)"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip()
    if isinstance(body, dict):
        # Jira: errorMessages/errors; Graph: error.message; Dataverse: error.message
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message") or body["error"].get("code") or "")
        parts = list(body.get("errorMessages") or [])
        if isinstance(body.get("errors"), dict):
            parts += [f"{k}: {v}" for k, v in body["errors"].items()]
        if parts:
            return "; ".join(str(p) for p in parts)
        if body.get("error_description"):
            return str(body["error_description"])
    return str(body)[:300]


def raise_for_api_status(
    response: requests.Response, *, source: str | None = None, record: str | None = None
) -> None:
    """Raise the pmsync error that fits ``response``'s status; return when it succeeded."""
    status = response.status_code
    if status < 400:
        return
    detail = redact(_error_text(response))
    what = f"HTTP {status} from {redact(response.request.method or 'GET')} {redact(response.url)}"
    message = f"{what}: {detail}" if detail else what
    if status == 404 and (_doubled_prefix(response.url) or not _is_json(response)):
        # An API answers an unknown record with a JSON error; a page that is not JSON means nothing
        # answers at this path at all: the base URL is wrong (a path too many, or a REST prefix
        # typed into it that pmsync adds again).
        raise SourceDataError(
            f"{what}: nothing answers at this path",
            source=source,
            record=record,
            hint="check the base URL in the source: give the site or service root only "
            "(pmsync adds the REST prefix itself, e.g. /rest/api/3/ for Jira, /v1.0/ for Graph, "
            "/api/data/v9.2/ for Dataverse)",
        )
    if status == 429 or status >= 500:
        raise RetriableSourceError(
            message,
            source=source,
            record=record,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            hint="the service is throttling or failing; pmsync retries, then a later run resumes",
        )
    if status in (401, 403):
        raise AuthError(
            message,
            source=source,
            record=record,
            hint="check the credentials and that the account has the needed permission",
        )
    raise SourceDataError(message, source=source, record=record)


#: REST prefixes pmsync adds to a base URL; one of them twice in a path means the base URL has it too
_REST_PREFIXES = ("/rest/api/", "/api/data/", "/v1.0/", "/rest/agile/")


def _doubled_prefix(url: str) -> bool:
    path = urlsplit(url).path
    return any(path.count(prefix) > 1 for prefix in _REST_PREFIXES)


def _is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def _is_retriable(exc: BaseException) -> bool:
    if _refused(exc):
        return False  # nothing listens there: retrying only delays the error
    return isinstance(
        exc, RetriableSourceError | requests.ConnectionError | requests.Timeout | ConnectionError
    )


def _refused(exc: BaseException) -> bool:
    """Whether a connection was refused (nothing listens at that host and port), looking through the
    wrappers requests and urllib3 put around the socket's error."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "Connection refused" in str(current):
            return True
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(current.args)
    return False


def _wait(fallback: Callable[[RetryCallState], float]) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetriableSourceError) and exc.retry_after is not None:
            seconds = min(exc.retry_after, MAX_RETRY_AFTER)
            if exc.retry_after > MAX_RETRY_AFTER:
                log.warning(
                    "%s: the service asked to wait %.0f s (Retry-After); waiting %.0f s, the most "
                    "pmsync waits at once, then trying again",
                    exc.source or "http",
                    exc.retry_after,
                    seconds,
                    extra={"source": exc.source},
                )
            elif seconds >= LOGGED_WAIT:
                log.info(
                    "%s: waiting %.0f s as the service asked (Retry-After)",
                    exc.source or "http",
                    seconds,
                    extra={"source": exc.source},
                )
            return seconds
        return fallback(state)

    return wait


def retrying(
    *,
    attempts: int = 6,
    max_seconds: float = 900.0,
    initial_backoff: float = 0.5,
    max_backoff: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Retrying:
    """The retry policy: honour Retry-After, otherwise exponential backoff with jitter."""
    return Retrying(
        retry=retry_if_exception(_is_retriable),
        # wait_exponential + wait_random rather than wait_exponential_jitter(initial=...), whose
        # ``initial`` is deprecated in tenacity 9 (a warning, i.e. an error under pytest) while its
        # replacement ``multiplier`` does not exist in tenacity 8.
        wait=_wait(wait_exponential(multiplier=initial_backoff, max=max_backoff) + wait_random(0, 1)),
        stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
        sleep=sleep,
        reraise=True,
    )


def call_with_retries(func: Callable[[], T], policy: Retrying | None = None) -> T:
    """Run ``func`` under the retry policy (or the default one)."""
    return (policy or retrying())(func)


def make_session(*, ca_bundle: Path | None = None, timeout: float = 60.0) -> requests.Session:
    """A session with pmsync's User-Agent, default timeouts (``CONNECT_TIMEOUT`` to connect,
    ``timeout`` to read), and an explicit CA decision."""
    session = _TimeoutSession((min(CONNECT_TIMEOUT, timeout), timeout))
    session.headers["User-Agent"] = USER_AGENT
    if ca_bundle is not None:
        session.verify = str(ca_bundle)
        # requests would replace Session.verify with $REQUESTS_CA_BUNDLE; we decided explicitly.
        session.trust_env = False
    return session


class _TimeoutSession(requests.Session):
    def __init__(self, timeout: float | tuple[float, float]) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def as_connector_error(exc: Exception, *, source: str, record: str | None = None) -> ConnectorError:
    """Wrap a transport exception as a pmsync error naming the host and port: a refused connection
    is final at once (nothing listens there); a timeout or a dropped connection is retriable."""
    endpoint = _endpoint(exc)
    if _refused(exc):
        return ConnectorError(
            f"cannot connect to {endpoint}: connection refused",
            source=source,
            record=record,
            hint="check the host and port in the source's URL, and that the service is running",
        )
    if isinstance(exc, requests.ConnectTimeout):
        return RetriableSourceError(
            f"no connection to {endpoint} within {CONNECT_TIMEOUT:g} s",
            source=source,
            record=record,
            hint="is the host reachable from here (firewall, proxy, VPN)?",
        )
    return RetriableSourceError(f"{endpoint}: {redact(str(exc))}", source=source, record=record)


def _endpoint(exc: Exception) -> str:
    """``host:port`` of the request an exception concerns (``the service`` when unknown)."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    if not isinstance(url, str):
        return "the service"
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"
