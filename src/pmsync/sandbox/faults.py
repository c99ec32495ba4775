"""Switchable faults for sandbox servers, as WSGI middleware.

A test (or ``pmsync sandbox --fault ...``) queues faults on a :class:`FaultPlan`; the next matching
requests get them instead of the normal answer:

    plan.add(Throttle(retry_after=1), path="/rest/api/3/search/jql", times=2)
    plan.add(ServerError(503), method="PUT", path_prefix="/v1.0/drives/", after=3)

Each fault counts the requests it served, so tests can assert the client really met it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Throttle:
    """429 Too Many Requests with Retry-After (seconds)."""

    retry_after: float = 1.0
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class ServerError:
    """A 5xx (default 503 Service Unavailable), optionally with Retry-After."""

    status: int = 503
    retry_after: float | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Delay:
    """Answer normally, but only after ``seconds`` (for client timeouts)."""

    seconds: float


@dataclass(frozen=True)
class Truncate:
    """Answer normally but cut the body to ``keep`` bytes while announcing the full length: the
    client sees the connection drop mid-body."""

    keep: int = 20


@dataclass(frozen=True)
class Garbage:
    """200 with a body that is not valid JSON (a proxy's error page, a cut-off response)."""

    body: bytes = b'{"issues": [{"id": "1", "key"'


@dataclass(frozen=True)
class Status:
    """Any fixed status with a JSON body, e.g. 401 for an expired token."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reset:
    """Close the connection without any answer (a load balancer or NAT dropping it): the client sees
    a connection reset / remote end closed before a status line."""


Fault = Throttle | ServerError | Delay | Truncate | Garbage | Status | Reset

_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Rule:
    fault: Fault
    method: str | None
    path: str | None
    path_prefix: str | None
    after: int
    times: int
    seen: int = 0
    served: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path is not None and path != self.path:
            return False
        return not (self.path_prefix is not None and not path.startswith(self.path_prefix))


class FaultPlan:
    """Thread-safe queue of faults to inject; shared between a test and a running server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        #: every request the server saw, as (method, path) — for "how many requests" assertions
        self.requests: list[tuple[str, str]] = []

    def add(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        path_prefix: str | None = None,
        after: int = 0,
        times: int = 1,
    ) -> _Rule:
        """Inject ``fault`` into the matching requests after skipping ``after`` of them, ``times``
        times (``times=-1``: forever, until :meth:`clear`)."""
        rule = _Rule(fault, method, path, path_prefix, after, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.requests.clear()

    def served(self) -> int:
        """How many faults were served in total."""
        with self._lock:
            return sum(rule.served for rule in self._rules)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.requests.append((method, path))
            for rule in self._rules:
                if rule.times != -1 and rule.served >= rule.times:
                    continue
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                rule.served += 1
                return rule.fault
        return None


def _json_response(
    start_response: Callable[..., Any],
    status: int,
    body: dict[str, Any] | None,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    payload = json.dumps(body if body is not None else {}).encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *headers],
    )
    return [payload]


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class FaultInjector:
    """WSGI middleware: serves the next queued fault for a request, otherwise the wrapped app.

    ``default_error_body(status)`` lets each vendor server shape error bodies as that vendor does.
    """

    def __init__(
        self,
        app: WSGIApp,
        plan: FaultPlan,
        default_error_body: Callable[[int], dict[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.plan = plan
        self.default_error_body = default_error_body or (lambda status: {"error": _REASONS.get(status, "")})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        fault = self.plan.take(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        if fault is None:
            return self.app(environ, start_response)
        if isinstance(fault, Throttle):
            headers = [("Retry-After", _format_seconds(fault.retry_after))]
            return _json_response(start_response, 429, fault.body or self.default_error_body(429), headers)
        if isinstance(fault, ServerError):
            headers = (
                [] if fault.retry_after is None else [("Retry-After", _format_seconds(fault.retry_after))]
            )
            body = fault.body or self.default_error_body(fault.status)
            return _json_response(start_response, fault.status, body, headers)
        if isinstance(fault, Status):
            return _json_response(start_response, fault.status, fault.body, fault.headers)
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
            return self.app(environ, start_response)
        if isinstance(fault, Reset):
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            # werkzeug treats a ConnectionError from the app as a dropped connection: it sends nothing.
            raise ConnectionResetError("sandbox: connection reset (injected fault)")
        if isinstance(fault, Garbage):
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(fault.body)))],
            )
            return [fault.body]
        return self._truncated(environ, start_response, fault)

    def _truncated(
        self, environ: dict[str, Any], start_response: Callable[..., Any], fault: Truncate
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        # Announce the full length but send only the start: the client sees the connection drop.
        return [body[: fault.keep]]
