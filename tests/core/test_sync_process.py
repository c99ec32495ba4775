"""Real ``pmsync sync`` processes: killed mid-run then rerun, and two runs racing for one source."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pmsync.store import Store

from .helpers import dump, run_pmsync, start_pmsync, write_config

SOURCE = {"count": 40, "checkpoint_every": 7}


@pytest.mark.parametrize(("how", "returncode"), [("exit", 70), ("sigkill", -9)])
def test_killed_run_then_rerun_equals_a_clean_run(
    tmp_path: Path, store: Store, store_url: str, how: str, returncode: int
) -> None:
    crashing = {**SOURCE, "crash_after": 17, "crash_how": how}
    config = write_config(tmp_path, store_url, clean=SOURCE, crashy=crashing)
    assert run_pmsync(config, "sync", "--source", "clean").returncode == 0

    killed = run_pmsync(config, "sync", "--source", "crashy")
    assert killed.returncode == returncode, killed.stderr
    # Two checkpoints (14 records) were committed; the 3 records after them died with the process.
    assert store.cursor("crashy") == {"offset": 14}
    assert len(dump(store, "crashy")["records"]) == 14
    [dead] = store.sync_runs(source_name="crashy")
    assert dead.status == "running"

    config = write_config(tmp_path, store_url, clean=SOURCE, crashy=SOURCE)
    rerun = run_pmsync(config, "sync", "--source", "crashy")
    assert rerun.returncode == 0, rerun.stderr
    assert "26 inserted, 0 updated, 0 deleted, 14 unchanged" in rerun.stdout
    assert dump(store, "crashy") == dump(store, "clean")
    done, interrupted = store.sync_runs(source_name="crashy")
    assert done.status == "ok"
    assert interrupted.status == "failed" and "interrupted" in (interrupted.error or "")


def test_two_concurrent_runs_on_one_source(tmp_path: Path, store: Store, store_url: str) -> None:
    hold, release = tmp_path / "holding", tmp_path / "release"
    config = write_config(
        tmp_path,
        store_url,
        plan={"count": 30, "checkpoint_every": 10, "hold_file": str(hold), "release_file": str(release)},
    )
    first = start_pmsync(config, "sync")
    try:
        deadline = time.monotonic() + 60
        while not hold.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached its first checkpoint"
            time.sleep(0.05)
        second = run_pmsync(config, "sync", "--source", "plan")
        assert second.returncode == 5, second.stdout + second.stderr
        assert "plan: locked" in second.stdout
    finally:
        release.touch()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "plan: ok" in out and "30 inserted" in out
    statuses = sorted(r.status for r in store.sync_runs(source_name="plan"))
    assert statuses == ["locked", "ok"]
    assert len(dump(store)["records"]) == 30
    third = run_pmsync(config, "sync")
    assert (
        third.returncode == 0
        and "no changes (0 inserted, 0 updated, 0 deleted, 30 unchanged; 30 in store)" in third.stdout
    )


def test_two_sources_sync_in_parallel_processes(tmp_path: Path, store: Store, store_url: str) -> None:
    settings = {"count": 1500, "checkpoint_every": 50}
    config = write_config(tmp_path, store_url, left=settings, right=settings)
    procs = [start_pmsync(config, "sync", "--source", name) for name in ("left", "right")]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(dump(store, "left")["records"]) == 1500
    assert dump(store, "left") == dump(store, "right")


def test_sigterm_from_a_scheduler_is_recorded_and_keeps_committed_work(
    tmp_path: Path, store: Store, store_url: str
) -> None:
    hold, release = tmp_path / "holding", tmp_path / "release"
    settings = {"count": 30, "checkpoint_every": 10, "hold_file": str(hold), "release_file": str(release)}
    config = write_config(tmp_path, store_url, plan=settings)
    proc = start_pmsync(config, "sync")
    deadline = time.monotonic() + 60
    while not hold.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached its first checkpoint"
        time.sleep(0.05)
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    [run] = store.sync_runs(source_name="plan")
    assert run.status == "interrupted" and run.error is not None and run.error.startswith("terminated")
    assert run.counts.inserted == 10 and store.cursor("plan") == {"offset": 10}
