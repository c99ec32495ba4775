"""A real ``pmsync sync`` process SIGKILLed at many points of a Jira sync: every rerun converges to
exactly the store of an uninterrupted sync (records, history, cursor), whatever was in flight.

The sandbox kills the process when it receives the process's n-th request, so each kill point is
reproducible: while a page is being fetched, the previous one may be mid-write or mid-commit (the
connector fetches a page ahead while the store writes the current one).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.faults import Fault, FaultPlan
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import clean_dump, dump, jira_source, load, root_conftest, start, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PROJECTS = ["ERP", "PORTAL", "GRANTS"]
ISSUES = 40  # per project: 12 search pages of 10


class KillingPlan(FaultPlan):
    """Serves no faults; SIGKILLs ``pid`` when the ``kill_at``-th request since :meth:`arm` arrives."""

    pid: int | None = None
    kill_at = 0
    killed = False

    def arm(self, pid: int, kill_at: int) -> None:
        self.clear()
        self.pid, self.kill_at, self.killed = pid, kill_at, False

    def take(self, method: str, path: str) -> Fault | None:
        fault = super().take(method, path)
        if self.pid is not None and len(self.requests) == self.kill_at:
            os.kill(self.pid, signal.SIGKILL)
            self.pid, self.killed = None, True
        return fault


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraSandbox]:
    with jira_sandbox(PROJECTS, ISSUES, seed=9, anchor=ANCHOR, faults=KillingPlan()) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def expected(jira: JiraSandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return clean_dump(tmp_path_factory.mktemp("clean"), jira, jira_source(jira))


# Requests of a sync: serverInfo, myself, field x2, status, issuetype, then one search per page.
SETUP_REQUESTS = 6
KILL_POINTS = {
    "first-page": SETUP_REQUESTS + 1,
    "second-page": SETUP_REQUESTS + 2,
    "mid-run": SETUP_REQUESTS + 6,
    "late": SETUP_REQUESTS + 10,
    "last-page": SETUP_REQUESTS + 12,
}


def kill_then_rerun(jira: JiraSandbox, tmp_path: Path, store: Store, kill_at: int) -> None:
    plan = jira.server.faults
    assert isinstance(plan, KillingPlan)
    env = {"JIRA_TOKEN": jira.api_token}
    config = write_yaml(tmp_path, store.url, jira_source(jira))
    proc = start(config, "sync", env=env)
    plan.arm(proc.pid, kill_at)
    proc.communicate(timeout=120)
    assert plan.killed and proc.returncode == -signal.SIGKILL
    assert len(dump(store)["records"]) < len(PROJECTS) * ISSUES  # the kill really cut the run short

    plan.clear()
    # The rerun runs in this process (a fresh process per rerun would only add start-up time).
    [rerun] = sync_sources(load(config, jira), store)
    assert rerun.status == "ok", rerun.error
    runs = store.sync_runs(source_name="jira")
    assert [r.status for r in runs] == ["ok", "failed"]
    assert "interrupted" in (runs[1].error or "")


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_sync_killed_at_any_point_converges_on_rerun(
    point: str, jira: JiraSandbox, expected: dict[str, object], tmp_path: Path
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}")
    try:
        kill_then_rerun(jira, tmp_path, store, KILL_POINTS[point])
        assert dump(store) == expected
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("point", ["late"])
def test_a_sync_killed_on_postgresql_converges_on_rerun(
    point: str, jira: JiraSandbox, expected: dict[str, object], tmp_path: Path
) -> None:
    create_postgres_database = root_conftest().create_postgres_database
    drop_postgres_database = root_conftest().drop_postgres_database
    postgres_unavailable = root_conftest().postgres_unavailable

    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    url, name = create_postgres_database()
    store = Store.open(url)
    try:
        # The killed process's connection (and its advisory lock) die with it; the rerun is not locked.
        kill_then_rerun(jira, tmp_path, store, KILL_POINTS[point])
        assert dump(store) == expected
    finally:
        store.close()
        drop_postgres_database(name)
