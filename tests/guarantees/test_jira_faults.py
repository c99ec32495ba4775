"""Network faults in the middle of a Jira sync, through the real ``jira`` client and the sync engine.

Each fault either is retried (the run completes) or, when it persists, stops the run cleanly after
the last committed page; a rerun then leaves the store exactly as an uninterrupted sync does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmsync.sandbox.faults import Delay, Fault, Garbage, Reset, ServerError, Truncate
from pmsync.sandbox.jira import JiraSandbox, jira_sandbox
from pmsync.store import Store
from pmsync.sync import sync_sources

from .helpers import clean_dump, dump, jira_source, load, write_yaml

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SEARCH = "/rest/api/3/search/jql"

FAULTS: dict[str, Fault] = {
    "connection-reset": Reset(),
    "truncated-json": Truncate(keep=60),
    "garbage-body": Garbage(),
    "client-timeout": Delay(seconds=1.5),
    "bad-gateway": ServerError(502),
}
# What the run's error says when the fault persists: the user can tell what went wrong.
ERROR_WORDS = {
    "connection-reset": "connection to Jira failed",
    "truncated-json": "Jira",
    "garbage-body": "not valid JSON",
    "client-timeout": "connection to Jira failed",
    "bad-gateway": "502",
}


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraSandbox]:
    """One sandbox for the module: these tests never change its data, only its faults."""
    with jira_sandbox(["ERP", "PORTAL"], 30, seed=3, anchor=ANCHOR) as sandbox:
        yield sandbox
        sandbox.server.faults.clear()


@pytest.fixture(scope="module")
def expected(jira: JiraSandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The store dump of an uninterrupted sync."""
    return clean_dump(tmp_path_factory.mktemp("clean"), jira, source(jira))


@pytest.fixture
def store(jira: JiraSandbox, tmp_path: Path) -> Iterator[Store]:
    """A SQLite store (the engine's PostgreSQL path is proven by the concurrency tests)."""
    jira.server.faults.clear()
    opened = Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}")
    try:
        yield opened
    finally:
        opened.close()


def source(jira: JiraSandbox) -> dict[str, object]:
    return jira_source(jira, timeout_seconds=0.5, retry_attempts=2)


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_transient_fault_mid_sync_is_retried_and_nothing_is_lost_or_doubled(
    name: str, jira: JiraSandbox, expected: dict[str, object], tmp_path: Path, store: Store
) -> None:
    jira.server.faults.add(FAULTS[name], path=SEARCH, after=2, times=1)  # the third page
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    [run] = sync_sources(config, store)
    assert run.status == "ok", run.error
    assert jira.server.faults.served() == 1
    assert run.counts.inserted == 60
    assert dump(store) == expected


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_persistent_fault_stops_cleanly_and_a_rerun_converges_to_a_clean_sync(
    name: str, jira: JiraSandbox, expected: dict[str, object], tmp_path: Path, store: Store
) -> None:
    jira.server.faults.add(FAULTS[name], path=SEARCH, after=3, times=-1)  # from the fourth page on
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    [failed] = sync_sources(config, store)
    assert failed.status == "failed"
    assert failed.error and ERROR_WORDS[name] in failed.error and "jira" in failed.error
    # Three pages of ten were committed with their cursor; nothing of the failed page was kept.
    assert failed.counts.inserted == 30
    assert len(dump(store)["records"]) == 30
    assert store.cursor("jira") == failed.cursor_after

    jira.server.faults.clear()
    [rerun] = sync_sources(config, store)
    assert rerun.status == "ok", rerun.error
    assert (rerun.counts.inserted, rerun.counts.updated, rerun.counts.deleted) == (30, 0, 0)
    assert dump(store) == expected


def test_an_issue_changed_while_the_run_was_down_is_not_skipped_by_the_cursor(tmp_path: Path) -> None:
    with jira_sandbox(["ERP", "PORTAL"], 30, seed=4, anchor=ANCHOR) as jira:
        store = Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}")
        try:
            _changed_while_down(jira, store, tmp_path)
        finally:
            store.close()


def _changed_while_down(jira: JiraSandbox, store: Store, tmp_path: Path) -> None:
    config = load(write_yaml(tmp_path, store.url, source(jira)), jira)
    jira.server.faults.add(Reset(), path=SEARCH, after=3, times=-1)
    [failed] = sync_sources(config, store)
    assert failed.status == "failed"
    jira.server.faults.clear()
    # Issues on the committed pages and on the unread ones change before the rerun.
    touched = jira.touch(0, keys=["ERP-1", "ERP-2", "PORTAL-29", "PORTAL-30"])
    [rerun] = sync_sources(config, store)
    assert rerun.status == "ok", rerun.error
    # The current records are those of a clean sync of today's data (history differs, rightly: the
    # rerun recorded the changes as updates).
    clean = clean_dump(tmp_path / "clean", jira, source(jira))
    assert dump(store)["records"] == clean["records"]
    assert rerun.counts.inserted == 30 and rerun.counts.updated == 2  # ERP-1, ERP-2 were committed
    assert touched
