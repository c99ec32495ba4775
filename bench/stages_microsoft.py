"""Microsoft benchmark stages: Planner and Dataverse syncs from the sandbox into a SQLite store.

The sandbox (identity, Graph, Dataverse over TLS) runs in its own process, as the real services run
elsewhere, so peak memory is the pmsync process alone. Planner: plans of 250 tasks (a busy plan);
Dataverse: projects of 500 tasks, pages of 500 rows.
"""

from __future__ import annotations

import atexit
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

from pmsync.config import load_config
from pmsync.store import Store
from pmsync.sync import sync_sources

PLANNER_TASKS_PER_PLAN = 250
DATAVERSE_TASKS_PER_PROJECT = 500


def _serve(workdir: Path, size: int, kind: str, conn: Connection) -> None:
    from pmsync.sandbox.graph_planner import seed_bulk
    from pmsync.sandbox.microsoft import MicrosoftSandbox

    with MicrosoftSandbox(workdir / "ms-sandbox", seed=False) as ms:
        if kind == "planner":
            plans = max(1, size // PLANNER_TASKS_PER_PLAN)
            seed_bulk(ms.graph_state.planner, plans=plans, tasks_per_plan=min(size, PLANNER_TASKS_PER_PLAN))
            source = ms.planner_source("ms", group_ids=list(ms.graph_state.planner.groups))
        else:
            projects = max(1, size // DATAVERSE_TASKS_PER_PROJECT)
            ms.dataverse_state.seed_bulk(
                projects=projects, tasks_per_project=min(size, DATAVERSE_TASKS_PER_PROJECT)
            )
            source = ms.dataverse_source("ms", page_size=500)
        conn.send(source)
        while True:
            command = conn.recv()
            if command == "requests":
                # HTTP requests that crossed the wire ($batch inner requests are listed too; not counted)
                outer = len(ms.graph.faults.requests) - ms.graph_state.batched_requests
                conn.send(outer + len(ms.dataverse.faults.requests))
            elif command == "touch":
                _touch(ms, kind)
                conn.send("ok")
            else:
                return


def _touch(ms: Any, kind: str) -> None:
    """Change 1 % of the tasks, as a day of work would."""
    if kind == "planner":
        planner = ms.graph_state.planner
        for task_id in list(planner.tasks)[::100]:
            planner.update_task(task_id, percentComplete=100)
    else:
        state = ms.dataverse_state
        for row_id in list(state.rows["msdyn_projecttasks"])[::100]:
            state.update("msdyn_projecttasks", row_id, msdyn_progress=1.0)


class _Sandbox:
    def __init__(self, workdir: Path, size: int, kind: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(workdir, size, kind, child), daemon=True)
        self.process.start()
        self.source: dict[str, Any] = self.conn.recv()
        atexit.register(self.stop)

    def ask(self, command: str) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.conn.send("stop")
            self.process.join(timeout=10)


def _config(workdir: Path, source: dict[str, Any]) -> Path:
    path = workdir / "pmsync.yaml"
    path.write_text(
        yaml.safe_dump({"store": {"url": f"sqlite:///{workdir / 'bench.db'}"}, "sources": [source]})
    )
    return path


#: what prepare_* set up for the stage in this (fresh) process: the sandbox, config and store URL
_prepared: dict[str, Any] = {}


def _prepare(workdir: Path, size: int, kind: str, *, incremental: bool) -> None:
    """Start and seed the sandbox (and, for incremental stages, do the first sync) — not timed."""
    sandbox = _Sandbox(workdir, size, kind)
    config = load_config(_config(workdir, sandbox.source))
    if incremental:
        with Store.open(config.store_url()) as store:
            sync_sources(config, store)
        sandbox.ask("touch")
    _prepared.update(sandbox=sandbox, config=config, kind=kind)


def _sync(size: int) -> dict[str, Any]:
    sandbox, config, kind = _prepared["sandbox"], _prepared["config"], _prepared["kind"]
    try:
        with Store.open(config.store_url()) as store:
            before = sandbox.ask("requests")
            (run,) = sync_sources(config, store)
            if run.status != "ok":
                raise RuntimeError(run.error)
            per_scope = PLANNER_TASKS_PER_PLAN if kind == "planner" else DATAVERSE_TASKS_PER_PROJECT
            return {
                "items": max(1, size // per_scope) * min(size, per_scope),
                "http_requests": sandbox.ask("requests") - before,
                "written": run.counts.changed,
            }
    finally:
        sandbox.stop()


def prepare_planner_full_sync(size: int, workdir: Path) -> None:
    _prepare(workdir, size, "planner", incremental=False)


def planner_full_sync(size: int, workdir: Path) -> dict[str, Any]:
    """First sync of ``size`` Planner tasks: task lists paged, details fetched in Graph batches."""
    return _sync(size)


def prepare_planner_incremental_sync(size: int, workdir: Path) -> None:
    _prepare(workdir, size, "planner", incremental=True)


def planner_incremental_sync(size: int, workdir: Path) -> dict[str, Any]:
    """Second sync after 1 % of tasks changed: full task lists, details only for changed tasks."""
    return _sync(size)


def prepare_dataverse_full_sync(size: int, workdir: Path) -> None:
    _prepare(workdir, size, "dataverse", incremental=False)


def dataverse_full_sync(size: int, workdir: Path) -> dict[str, Any]:
    """First sync of ``size`` Project for the web tasks (pages of 500)."""
    return _sync(size)


def prepare_dataverse_incremental_sync(size: int, workdir: Path) -> None:
    _prepare(workdir, size, "dataverse", incremental=True)


def dataverse_incremental_sync(size: int, workdir: Path) -> dict[str, Any]:
    """Second sync after 1 % of tasks changed."""
    return _sync(size)


STAGES = [
    ("planner: full sync", planner_full_sync, [1000, 2000, 4000, 8000], [250]),
    ("planner: incremental sync (1 % changed)", planner_incremental_sync, [1000, 2000, 4000, 8000], [250]),
    ("dataverse: full sync", dataverse_full_sync, [2000, 4000, 8000, 16000], [500]),
    (
        "dataverse: incremental sync (1 % changed)",
        dataverse_incremental_sync,
        [2000, 4000, 8000, 16000],
        [500],
    ),
]
