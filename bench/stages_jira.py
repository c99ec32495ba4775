"""Jira benchmark stages: full and incremental sync from a sandbox Jira Cloud into a SQLite store.

The sandbox runs in its own process (as a real Jira would on its own machine), so peak memory is the
pmsync process alone. Two projects of ``size / 2`` issues each; page size 100 (Jira Cloud's cap).
"""

from __future__ import annotations

import atexit
import time
from pathlib import Path
from typing import Any

import yaml

from pmsync.config import load_config
from pmsync.sandbox.jira.process import JiraSandboxProcess
from pmsync.store import Store
from pmsync.sync import sync_sources

_sandbox: JiraSandboxProcess | None = None


def _start(size: int, workdir: Path) -> JiraSandboxProcess:
    global _sandbox
    _sandbox = JiraSandboxProcess(projects=["ALPHA", "BETA"], issues_per_project=size // 2, seed=42)
    _sandbox.start()
    atexit.register(_sandbox.stop)
    settings: dict[str, Any] = {"name": "jira", "type": "jira", **_sandbox.settings}
    config = {
        "store": {"url": f"sqlite:///{workdir / 'pmsync.db'}"},
        "projects": [{"key": "alpha", "name": "Alpha", "links": {"jira": ["ALPHA"]}}],
        "sources": [settings],
    }
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(config))
    return _sandbox


def _sync(workdir: Path) -> dict[str, Any]:
    assert _sandbox is not None
    config = load_config(workdir / "pmsync.yaml")
    store = Store.open(config.store_url())
    sandbox_cpu, pmsync_cpu = _sandbox.cpu_seconds(), time.process_time()
    try:
        (run,) = sync_sources(config, store)
    finally:
        store.close()
    # On a shared machine wall time hides who did the work: report both processes' CPU time.
    sandbox_cpu, pmsync_cpu = _sandbox.cpu_seconds() - sandbox_cpu, time.process_time() - pmsync_cpu
    if run.status != "ok":
        raise RuntimeError(f"sync failed: {run.error}")
    requests, searches = _sandbox.requests()
    counts = run.counts
    return {
        "written": counts.inserted + counts.updated + counts.deleted,
        "http_requests": requests,
        "search_requests": searches,
        "pmsync_cpu_seconds": round(pmsync_cpu, 2),
        "sandbox_cpu_seconds": round(sandbox_cpu, 2),
    }


def prepare_jira_full_sync(size: int, workdir: Path) -> None:
    _start(size, workdir)


def jira_full_sync(size: int, workdir: Path) -> dict[str, Any]:
    """Every issue, with changelog, into an empty store; includes the deletion scan."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_jira_incremental_1pct(size: int, workdir: Path) -> None:
    sandbox = _start(size, workdir)
    _sync(workdir)
    sandbox.touch(max(1, size // 100))
    sandbox.clear()


def jira_incremental_1pct(size: int, workdir: Path) -> dict[str, Any]:
    """1 % of the issues changed since the last sync."""
    result = _sync(workdir)
    return {"items": result["written"], **result}


def prepare_jira_incremental_nothing(size: int, workdir: Path) -> None:
    sandbox = _start(size, workdir)
    _sync(workdir)
    sandbox.clear()


def jira_incremental_nothing(size: int, workdir: Path) -> dict[str, Any]:
    """Nothing changed: one search request, nothing written (``items`` is the issues covered)."""
    result = _sync(workdir)
    if result["search_requests"] != 1:
        raise AssertionError(f"expected one search request, made {result['search_requests']}")
    return {"items": size, **result}


STAGES = [
    ("Jira full sync", jira_full_sync, [12_500, 25_000, 50_000, 100_000], [1_000, 2_000]),
    ("Jira incremental sync, 1% changed", jira_incremental_1pct, [25_000, 50_000, 100_000], [2_000]),
    ("Jira incremental sync, nothing changed", jira_incremental_nothing, [25_000, 100_000], [2_000]),
]
