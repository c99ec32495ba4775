"""The example third-party connector (``pmsync_taskboard``, beside this file) against a tiny task board
service on 127.0.0.1: installed through the ``pmsync.connectors`` entry point, it passes the conformance
suite and reads changes and deletions as a user would see them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from pmsync.connector import available_connector_types, load_connector_class
from pmsync.model import WorkItem
from pmsync.sandbox.server import SandboxServer
from pmsync.store import Store
from pmsync.sync import sync_sources
from pmsync.testing import ConnectorConformance, Scenario

PACKAGE_DIR = Path(__file__).resolve().parent
API_KEY = "tb-live-7Qf3kLx9Vd2mPz8R"  # noqa: S105 - the test service's key


class TaskBoardService:
    """The task board: tasks per board, served paged by an opaque cursor, bearer key required."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, dict[str, Any]]] = {"erp": {}}
        self.tick = 0
        for n in range(1, 8):
            self.put("erp", f"T{n}", title=f"Task {n}", status="todo" if n % 2 else "doing", due="2026-12-01")

    def put(self, board: str, task_id: str, **fields: Any) -> None:
        self.tick += 1
        task = self.tasks[board].setdefault(task_id, {"id": task_id})
        # two tasks share each moment, as real services' second-precision timestamps do
        task.update(fields, updated=f"2026-11-{1 + self.tick // 2:02d}T09:00:00+00:00")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {API_KEY}":
            return self._answer(start_response, "401 Unauthorized", {"error": "bad key"})
        parts = environ["PATH_INFO"].strip("/").split("/")  # api/boards/<board>/<resource>
        board = self.tasks.get(parts[2]) if len(parts) == 4 else None
        if board is None:
            return self._answer(start_response, "404 Not Found", {"error": "no such board"})
        if parts[3] == "task-ids":
            return self._answer(start_response, "200 OK", {"ids": sorted(board)})
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        since, limit = query.get("updated_since", ""), int(query.get("limit", "50"))
        ordered = sorted(
            (t for t in board.values() if t["updated"] >= since), key=lambda t: (t["updated"], t["id"])
        )
        start = int(query.get("cursor") or 0)
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return self._answer(
            start_response, "200 OK", {"tasks": page, "next_cursor": str(start + limit) if more else None}
        )

    @staticmethod
    def _answer(start_response: Any, status: str, body: Any) -> list[bytes]:
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


@pytest.fixture
def service() -> Iterator[tuple[TaskBoardService, str]]:
    board = TaskBoardService()
    with SandboxServer(board) as server:
        yield board, server.url


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pip install pmsync-taskboard``, as far as pmsync can tell: the package importable and its
    entry point in the ``pmsync.connectors`` group."""
    dist = tmp_path / "site" / "pmsync_taskboard-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pmsync-taskboard\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[pmsync.connectors]\ntaskboard = pmsync_taskboard:TaskBoardConnector\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(str(PACKAGE_DIR))


def scenario(url: str, folder: Path, board: TaskBoardService) -> Scenario:
    def spoil() -> None:
        board.put("erp", "T3", status="blocked")  # a status the mapping does not know

    return Scenario(
        source={
            "type": "taskboard",
            "url": url,
            "api_key": "${TASKBOARD_KEY}",
            "boards": ["erp"],
            "page_size": 3,
        },
        folder=folder,
        env={"TASKBOARD_KEY": API_KEY},
        config={"projects": [{"key": "ERP", "name": "ERP upgrade"}]},
        spoil=spoil,
        restore=lambda: board.put("erp", "T3", status="todo"),
    )


class TestTaskBoardConformance(ConnectorConformance):
    @pytest.fixture(autouse=True)
    def _service(self, service: tuple[TaskBoardService, str], installed: None) -> None:
        self.board, self.url = service

    def scenario(self, tmp_path: Path) -> Scenario:
        return scenario(self.url, tmp_path / "conformance", self.board)


def test_the_entry_point_makes_it_a_source_type(installed: None) -> None:
    assert "taskboard" in available_connector_types()
    from pmsync_taskboard import TaskBoardConnector

    assert load_connector_class("taskboard") is TaskBoardConnector


def test_changes_and_deletions_reach_the_store(
    service: tuple[TaskBoardService, str], installed: None, tmp_path: Path
) -> None:
    board, url = service
    config, store_url = scenario(url, tmp_path, board).write("store")
    with Store.open(store_url) as store:
        [run] = sync_sources(config, store)
        assert (run.status, run.counts.inserted) == ("ok", 7), run.error
        board.put("erp", "T2", status="done")
        del board.tasks["erp"]["T5"]
        [run] = sync_sources(config, store)
        assert (run.counts.inserted, run.counts.updated, run.counts.deleted) == (0, 1, 1), run
        items = {w.name: w for w in store.iter_records(WorkItem, source_name="conformance")}
        assert sorted(items) == ["Task 1", "Task 2", "Task 3", "Task 4", "Task 6", "Task 7"]
        assert (items["Task 2"].status_category, items["Task 2"].project) == ("done", "ERP")
