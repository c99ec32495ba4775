"""Ctrl-C during a sync: exit 130, one line saying what was kept, never a traceback, and the ledger
row closed as interrupted with the time it really ran; a rerun continues from the checkpoint."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from pmsync.store import Store

from .helpers import run_pmsync, start_pmsync, write_config


@pytest.mark.parametrize(
    ("presses", "in_process"),
    [(1, False), (2, True)],
    ids=["one Ctrl-C", "two Ctrl-C in a row, reading in a second process"],
)
def test_ctrl_c_exits_130_with_one_line_and_closes_the_run(
    tmp_path: Path, store: Store, store_url: str, presses: int, in_process: bool
) -> None:
    hold, release = tmp_path / "holding", tmp_path / "release"
    settings = {
        "count": 30,
        "checkpoint_every": 10,
        "hold_file": str(hold),
        "release_file": str(release),
        "reads_in_process": in_process,
    }
    config = write_config(tmp_path, store_url, slow=settings)
    proc = start_pmsync(config, "sync")
    deadline = time.monotonic() + 60
    while not hold.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached its first checkpoint"
        time.sleep(0.05)
    time.sleep(0.3)  # the run really has been running for a while
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Aborted" not in err
    assert err.strip().splitlines()[-1].startswith("interrupted (Ctrl-C): ")
    assert "run the same command again to continue" in err
    [run] = store.sync_runs(source_name="slow")
    assert run.status == "interrupted" and run.finished_at is not None
    assert run.duration_seconds is not None and run.duration_seconds >= 0.3
    assert store.cursor("slow") == {"offset": 10}  # the first checkpoint was kept

    rerun = run_pmsync(write_config(tmp_path, store_url, slow={"count": 30, "checkpoint_every": 10}), "sync")
    assert rerun.returncode == 0, rerun.stderr
    assert "20 inserted" in rerun.stdout
