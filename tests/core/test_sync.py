"""The sync engine in-process: idempotent reruns, updates and deletions, isolation of failures, locks."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.errors import ConfigError
from pmsync.model import WorkItem
from pmsync.store import Store, WriteCounts
from pmsync.sync import SyncProgress, sync_sources

from .helpers import write_config


def sync(tmp_path: Path, store: Store, **sources):
    config = load_config(write_config(tmp_path, store.url, **sources))
    return sync_sources(config, store)


def test_second_sync_reports_everything_unchanged(tmp_path: Path, store: Store, store_url: str) -> None:
    config = load_config(write_config(tmp_path, store_url, plan={"count": 23, "checkpoint_every": 5}))
    events: list[SyncProgress] = []
    [first] = sync_sources(config, store, progress=events.append)
    assert first.status == "ok"
    assert first.counts == WriteCounts(inserted=23)
    assert first.cursor_before == {}
    assert first.cursor_after == {"offset": 0}
    assert events and events[-1].items >= 23
    [second] = sync_sources(config, store)
    assert second.counts == WriteCounts(unchanged=23)
    assert second.cursor_before == {"offset": 0}
    assert len(list(store.iter_records(WorkItem, source_name="plan"))) == 23
    assert [r.run_id for r in store.sync_runs()] == [second.run_id, first.run_id]
    assert store.last_successful_sync("plan") == second.finished_at


def test_changes_and_deletions_at_the_source_reach_the_store(tmp_path: Path, store: Store) -> None:
    [first] = sync(tmp_path, store, plan={"count": 10})
    [second] = sync(
        tmp_path, store, plan={"count": 10, "name_suffix": " v2", "omit": [3, 4, 9], "deleted": [9]}
    )
    assert second.counts == WriteCounts(updated=7, deleted=3)
    current = {r.source.external_id: r.name for r in store.iter_records(WorkItem)}
    assert sorted(current) == [f"item-{i}" for i in (0, 1, 2, 5, 6, 7, 8)]
    assert current["item-0"] == "Item 0 v2"
    before = {r.source.external_id: r.name for r in store.iter_records(WorkItem, as_of=first.finished_at)}
    assert len(before) == 10 and before["item-0"] == "Item 0"
    everything = {r.source.external_id for r in store.iter_records(WorkItem, include_deleted=True)}
    assert everything - set(current) == {"item-3", "item-4", "item-9"}


def test_a_failing_source_does_not_stop_the_others(tmp_path: Path, store: Store) -> None:
    results = sync(
        tmp_path,
        store,
        broken={"count": 20, "checkpoint_every": 5, "crash_after": 12, "crash_how": "raise"},
        good={"count": 3},
    )
    broken, good = results
    assert broken.status == "failed"
    assert broken.error == "source 'broken': row 7: amount 'abc' is not a number"
    # Two checkpoints (10 records) were committed before the failure; the 2 after them were not.
    assert broken.counts == WriteCounts(inserted=10)
    assert store.cursor("broken") == {"offset": 10}
    assert len(list(store.iter_records(WorkItem, source_name="broken"))) == 10
    assert good.status == "ok" and good.counts == WriteCounts(inserted=3)
    [rerun] = sync(tmp_path, store, broken={"count": 20, "checkpoint_every": 5})
    assert rerun.status == "ok"
    assert rerun.counts == WriteCounts(inserted=10, unchanged=10)
    assert len(list(store.iter_records(WorkItem, source_name="broken"))) == 20


def test_a_locked_source_is_skipped_and_recorded(tmp_path: Path, store: Store) -> None:
    with store.source_lock("plan"):
        [locked] = sync(tmp_path, store, plan={"count": 3})
    assert locked.status == "locked"
    assert "another sync run holds the lock" in (locked.error or "")
    assert list(store.iter_records(WorkItem)) == []
    [after] = sync(tmp_path, store, plan={"count": 3})
    assert after.status == "ok" and after.counts.inserted == 3


def test_skipped_rows_are_listed_in_the_ledger(tmp_path: Path, store: Store) -> None:
    [run] = sync(tmp_path, store, fin={"count": 10, "skip_every": 4})
    assert run.skipped_count == 3
    assert [s.where for s in run.skipped] == ["row 0", "row 4", "row 8"]
    assert store.get_run(run.run_id).skipped_count == 3


def test_unknown_source_name_is_a_config_error(tmp_path: Path, store: Store) -> None:
    config = load_config(write_config(tmp_path, store.url, plan={"count": 1}))
    with pytest.raises(ConfigError, match="no source named 'plna'"):
        sync_sources(config, store, ["plna"])
    assert store.sync_runs() == []


def test_errors_in_the_ledger_never_show_a_secret(tmp_path: Path, store: Store) -> None:
    from pmsync.logs import register_secret

    register_secret("tok-5ecret-4e1b")  # as pmsync does for every ${ENV} secret and token it reads
    message = "401 for https://jira.example/rest?token=tok-5ecret-4e1b"  # a source echoing it back
    [run] = sync(tmp_path, store, broken={"count": 3, "crash_after": 1, "crash_message": message})
    assert run.error == "source 'broken': 401 for https://jira.example/rest?token=***"
