"""Run a sandbox WSGI app as a real HTTP(S) server on 127.0.0.1, in a background thread."""

from __future__ import annotations

import ssl
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pmsync.sandbox.faults import FaultInjector, FaultPlan, WSGIApp


class _QuietHandler(WSGIRequestHandler):
    # Speak HTTP/1.1 with keep-alive, as the real services do (clients reuse connections).
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # request logs would flood test output
        pass


class SandboxServer:
    """A started server: ``url`` is its base URL, ``faults`` its switchable fault plan.

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        faults: FaultPlan | None = None,
        error_body: Any = None,
    ) -> None:
        self.faults = faults or FaultPlan()
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            FaultInjector(app, self.faults, error_body),
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context,
        )
        scheme = "https" if ssl_context is not None else "http"
        self.host = host
        self.port = self._server.server_port
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
