"""A sandbox Jira in its own process, for benchmarks and demos: the server's CPU and memory then do
not count against the pmsync process being measured, as with a real Jira on another machine."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any


def _serve(conn: Connection, args: dict[str, Any]) -> None:
    from pmsync.sandbox.jira import JiraSandbox

    with JiraSandbox(**args) as sandbox:
        conn.send(sandbox.source_settings())
        while True:
            command, value = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "touch":
                conn.send(sandbox.touch(int(value)))
            elif command == "delete":
                conn.send(sandbox.delete(int(value)))
            elif command == "requests":
                conn.send((len(sandbox.requests), sandbox.search_requests()))
            elif command == "agents":
                conn.send(sandbox.requests_by_agent())
            elif command == "endpoints":
                conn.send(sandbox.requests_by_endpoint())
            elif command == "cpu":
                conn.send(time.process_time())
            elif command == "clear":
                sandbox.server.faults.clear()
                sandbox.app.agents.clear()
                conn.send(None)


class JiraSandboxProcess:
    """``with JiraSandboxProcess(projects=[...], issues_per_project=n) as jira: jira.settings ...``"""

    def __init__(self, **sandbox_args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, sandbox_args), daemon=True)
        self.settings: dict[str, Any] = {}

    def start(self) -> JiraSandboxProcess:
        self._process.start()
        self.settings = self._conn.recv()
        return self

    def _ask(self, command: str, value: Any = None) -> Any:
        self._conn.send((command, value))
        return self._conn.recv()

    def touch(self, count: int) -> list[str]:
        keys: list[str] = self._ask("touch", count)
        return keys

    def delete(self, count: int) -> list[str]:
        keys: list[str] = self._ask("delete", count)
        return keys

    def requests(self) -> tuple[int, int]:
        """(all requests, search requests) served since the last :meth:`clear`."""
        total, search = self._ask("requests")
        return int(total), int(search)

    def requests_by_agent(self) -> dict[str, int]:
        """Requests served since the last :meth:`clear`, per User-Agent."""
        agents: dict[str, int] = self._ask("agents")
        return agents

    def requests_by_endpoint(self) -> dict[str, int]:
        """Requests served since the last :meth:`clear`, per ``METHOD /path`` (keys made ``KEY``)."""
        endpoints: dict[str, int] = self._ask("endpoints")
        return endpoints

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used (to tell its cost from pmsync's)."""
        return float(self._ask("cpu"))

    def clear(self) -> None:
        self._ask("clear")

    def stop(self) -> None:
        if self._process.is_alive():
            self._ask("stop")
            self._process.join(timeout=10)

    def __enter__(self) -> JiraSandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
