"""A store that fails after a run is opened in the ledger (connection lost, disk full) closes that
run as failed with the store's error, instead of leaving it "running" until the source's next run
reports it as interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pmsync.config import load_config
from pmsync.errors import StoreError
from pmsync.store import Store
from pmsync.store.writer import Writer
from pmsync.sync import sync_source

from .helpers import write_config


class _StoreLosingItsConnection(Store):
    """The real store, whose first write transaction cannot be opened (the database went away)."""

    failures = 1

    def writer(self, *args: Any, **kwargs: Any) -> Writer:
        if self.failures:
            self.failures -= 1
            raise StoreError("cannot reach the store: connection refused", hint="check store.url")
        return super().writer(*args, **kwargs)


def test_a_store_failure_before_writing_closes_the_run_as_failed(tmp_path: Path, store_url: str) -> None:
    config = load_config(write_config(tmp_path, store_url, counted={"count": 5}))
    [source] = config.sources
    failing = _StoreLosingItsConnection.open(store_url)
    try:
        info = sync_source(config, failing, source)
        assert info.status == "failed"
        assert info.finished_at is not None
        assert "cannot reach the store" in (info.error or "")
        assert info.failure_exit_code == StoreError("x").exit_code
        [run] = failing.sync_runs(source_name="counted")
        assert run.status == "failed"  # not "running": the ledger says what happened now
        assert failing.count_live("counted") == 0

        again = sync_source(config, failing, source)  # the store is back
        assert again.status == "ok" and again.counts.inserted == 5
        newest, first = failing.sync_runs(source_name="counted")
        assert (newest.status, first.status) == ("ok", "failed")
        # the failed run keeps its own reason: the next run found nothing left running to relabel
        assert "cannot reach the store" in (first.error or "")
    finally:
        failing.close()
