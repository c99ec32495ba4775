"""A connector that reads in a second process (``reads_in_process``, as the file connectors do): the
store ends up as if it had read in this one, failures of either process end the run cleanly, and a
rerun completes the work."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from pmsync.config import load_config
from pmsync.model import WorkItem
from pmsync.store import Store, WriteCounts
from pmsync.sync import SyncProgress, sync_sources

from .helpers import dump, write_config

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="reading in a second process needs fork"
)


def live_items(store: Store, source: str) -> int:
    return len(list(store.iter_records(WorkItem, source_name=source)))


def test_the_store_ends_up_the_same_as_when_read_in_this_process(tmp_path: Path, store: Store) -> None:
    release = tmp_path / "go"
    release.touch()
    settings = {"count": 1234, "checkpoint_every": 100, "skip_every": 97, "omit": [3, 600], "deleted": [5]}
    config = load_config(
        write_config(
            tmp_path,
            store.url,
            here={**settings, "hold_file": str(tmp_path / "here.pid"), "release_file": str(release)},
            there={
                **settings,
                "reads_in_process": True,
                "hold_file": str(tmp_path / "there.pid"),
                "release_file": str(release),
            },
        )
    )
    here, there = sync_sources(config, store)
    assert (tmp_path / "here.pid").read_text() == str(os.getpid())
    assert (tmp_path / "there.pid").read_text() != str(os.getpid()), "read in another process"
    assert there.status == here.status == "ok"
    assert there.counts == here.counts and there.counts.inserted > 1000
    assert (there.skipped_count, there.cursor_after) == (here.skipped_count, here.cursor_after)
    assert dump(store, "there") == dump(store, "here")
    assert multiprocessing.active_children() == []


def test_an_error_in_the_reading_process_fails_the_run_with_its_source_and_keeps_the_checkpoint(
    tmp_path: Path, store: Store
) -> None:
    source = {"count": 20, "checkpoint_every": 5, "crash_after": 12, "reads_in_process": True}
    config = load_config(write_config(tmp_path, store.url, ledger=source))
    [run] = sync_sources(config, store)
    assert run.status == "failed"
    assert run.error == "source 'ledger': row 7: amount 'abc' is not a number"
    assert run.counts == WriteCounts(inserted=10)  # up to the last checkpoint before the error
    assert live_items(store, "ledger") == 10
    config = load_config(write_config(tmp_path, store.url, ledger={**source, "crash_after": None}))
    [rerun] = sync_sources(config, store)
    assert rerun.status == "ok" and live_items(store, "ledger") == 20


def test_a_connector_bug_that_cannot_cross_processes_is_still_reported(tmp_path: Path, store: Store) -> None:
    source = {"count": 20, "crash_after": 3, "crash_how": "bug", "reads_in_process": True}
    [run] = sync_sources(load_config(write_config(tmp_path, store.url, buggy=source)), store)
    assert run.status == "failed" and run.error is not None
    assert run.error.startswith("source 'buggy': ConnectorBug: row 7: amount 'abc' is not a number at ")
    assert "pmsync_testconnector.py" in run.error and "bug in the connector" in run.error


def test_a_reading_process_that_dies_fails_the_run_and_a_rerun_completes(
    tmp_path: Path, store: Store
) -> None:
    source = {"count": 20, "checkpoint_every": 5, "crash_after": 17, "crash_how": "sigkill"}
    config = load_config(write_config(tmp_path, store.url, plan={**source, "reads_in_process": True}))
    [run] = sync_sources(config, store)  # only the reading process is killed; this one goes on
    assert run.status == "failed" and run.error is not None
    assert "the process reading the source ended unexpectedly (exit code -9)" in run.error
    assert "sync again to continue" in run.error
    assert live_items(store, "plan") == 15
    assert multiprocessing.active_children() == []
    source["crash_after"] = None
    config = load_config(write_config(tmp_path, store.url, plan={**source, "reads_in_process": True}))
    [rerun] = sync_sources(config, store)
    assert rerun.status == "ok" and rerun.cursor_before == {"offset": 15}
    assert live_items(store, "plan") == 20


def test_when_writing_fails_the_reading_process_is_stopped(tmp_path: Path, store: Store) -> None:
    config = load_config(
        write_config(
            tmp_path, store.url, big={"count": 10**7, "checkpoint_every": 1000, "reads_in_process": True}
        )
    )

    def store_full(progress: SyncProgress) -> None:
        if progress.items > 5000:
            raise OSError(28, "No space left on device")

    [run] = sync_sources(config, store, progress=store_full)
    assert run.status == "failed" and "No space left on device" in (run.error or "")
    assert multiprocessing.active_children() == [], "the reader of 10^7 items was not left running"
    # what the checkpoints before the failure committed, and nothing after
    assert live_items(store, "big") == run.counts.inserted
    assert run.counts.inserted in (4000, 5000)
