"""Two, then eight, real ``pmsync sync`` processes on one PostgreSQL store, through the real Jira
client: exactly one run per source at a time (the others say ``locked`` and exit 5), runs of
different sources write side by side without deadlock, and the store ends as a clean sync leaves it.

The sandbox holds every search request at a gate until the test opens it, so the lock holders are
still mid-run while the other processes start, try the lock and leave.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.faults import Fault, FaultPlan
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store

from .helpers import clean_dump, dump, jira_source, root_conftest, start, write_yaml

pytestmark = pytest.mark.postgres

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class GatePlan(FaultPlan):
    """Serves no faults; holds each search request until :attr:`gate` is set (at most a minute)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def take(self, method: str, path: str) -> Fault | None:
        if "/search" in path:
            self.gate.wait(timeout=60)
        return super().take(method, path)


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraSandbox]:
    with jira_sandbox(["ERP", "PORTAL"], 30, seed=21, anchor=ANCHOR, faults=GatePlan()) as sandbox:
        yield sandbox


def sources(jira: JiraSandbox) -> list[dict[str, object]]:
    return [
        jira_source(jira, "jira-erp", projects=["ERP"]),
        jira_source(jira, "jira-portal", projects=["PORTAL"]),
    ]


@pytest.fixture(scope="module")
def expected(jira: JiraSandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    plan = jira.server.faults
    assert isinstance(plan, GatePlan)
    plan.gate.set()
    folder = tmp_path_factory.mktemp("clean")
    return {str(s["name"]): clean_dump(folder / str(s["name"]), jira, s) for s in sources(jira)}


@pytest.fixture
def pg_url() -> Iterator[str]:
    create_postgres_database = root_conftest().create_postgres_database
    drop_postgres_database = root_conftest().drop_postgres_database
    postgres_unavailable = root_conftest().postgres_unavailable

    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    url, name = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.mark.parametrize(("processes", "source_count"), [(2, 1), (8, 2)])
def test_concurrent_syncs_run_one_per_source_and_end_as_a_clean_sync(
    processes: int,
    source_count: int,
    jira: JiraSandbox,
    expected: dict[str, dict[str, object]],
    pg_url: str,
    tmp_path: Path,
) -> None:
    plan = jira.server.faults
    assert isinstance(plan, GatePlan)
    chosen = sources(jira)[:source_count]
    config = write_yaml(tmp_path, pg_url, *chosen)
    Store.open(pg_url).close()  # migrate once, so the racing processes meet an existing schema
    plan.gate.clear()
    env = {"JIRA_TOKEN": jira.api_token}
    procs = [
        start(config, "sync", "--source", str(chosen[i % source_count]["name"]), env=env)
        for i in range(processes)
    ]
    try:
        # Everyone but one process per source finds its source locked and leaves at once.
        deadline = time.monotonic() + 90
        while sum(p.poll() is not None for p in procs) < processes - source_count:
            assert time.monotonic() < deadline, "processes neither got the lock nor left"
            time.sleep(0.1)
    finally:
        plan.gate.set()
    outputs = [p.communicate(timeout=120) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0] * source_count + [5] * (processes - source_count), outputs
    for proc, (out, _) in zip(procs, outputs, strict=True):
        if proc.returncode == 5:
            assert ": locked" in out

    store = Store.open(pg_url)
    try:
        for source in chosen:
            name = str(source["name"])
            runs = store.sync_runs(source_name=name)
            assert sorted(r.status for r in runs) == ["locked"] * (processes // source_count - 1) + ["ok"]
            assert dump(store, name) == expected[name]
    finally:
        store.close()
