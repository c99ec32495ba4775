"""Two reads at once, one in a forked process: errors come back whole, and the child never outlives
the work (an error here, or this process killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from pmsync.errors import StoreError
from pmsync.store import Store
from pmsync.store.two_halves import can_fork, in_two_halves

pytestmark = pytest.mark.skipif(not can_fork(), reason="the second half runs in a forked process")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        yield store


def _tables(conn: Connection) -> int:
    return len(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).all())


def _refused(conn: Connection) -> int:
    raise StoreError("the ledger is unreadable", source="finance", record="line L7", hint="sync it again")


def test_both_halves_run_and_come_back_in_order(sqlite_store: Store) -> None:
    theirs_pid, mine_pid = in_two_halves(
        sqlite_store.engine, lambda c: os.getpid(), lambda c: os.getpid()
    ) or (0, 0)
    assert mine_pid == os.getpid() and theirs_pid not in (0, os.getpid())
    assert in_two_halves(sqlite_store.engine, _tables, _tables) == (_tables_now(sqlite_store),) * 2


def _tables_now(store: Store) -> int:
    with store.engine.connect() as conn:
        return _tables(conn)


def test_an_error_in_the_child_reaches_the_caller_with_its_source_record_and_hint(
    sqlite_store: Store,
) -> None:
    with pytest.raises(StoreError) as raised:
        in_two_halves(sqlite_store.engine, _refused, _tables)
    assert (raised.value.source, raised.value.record, raised.value.hint) == (
        "finance",
        "line L7",
        "sync it again",
    )
    assert "the ledger is unreadable" in str(raised.value)


def test_an_error_that_cannot_be_sent_back_is_described(sqlite_store: Store) -> None:
    class Unpicklable(Exception):  # a class local to a function cannot be pickled
        pass

    def fails(conn: Connection) -> int:
        raise Unpicklable("no such column: amount")

    with pytest.raises(
        StoreError, match="summing half of the cost lines failed: Unpicklable: no such column"
    ):
        in_two_halves(sqlite_store.engine, fails, _tables)


def test_an_error_here_ends_the_child_instead_of_waiting_for_it(sqlite_store: Store, tmp_path: Path) -> None:
    """The child's half would take half a minute; the error here ends it at once (waiting for it
    would let it finish and leave its mark)."""
    finished = tmp_path / "finished"

    def slow(conn: Connection) -> int:
        for _ in range(300):
            time.sleep(0.1)
        finished.touch()
        return 0

    def fails(conn: Connection) -> int:
        raise ValueError("the report was stopped")

    with pytest.raises(ValueError, match="the report was stopped"):
        in_two_halves(sqlite_store.engine, slow, fails)
    assert not finished.exists()


CHILD_SLEEPS = """
import os, sys, time
from pmsync.store import Store
from pmsync.store.two_halves import in_two_halves

def childs_half(conn):  # half a minute: past any wait of the test, not forever should it fail
    with open(sys.argv[2], "w") as out:
        out.write(str(os.getpid()))
    time.sleep(30)

def this_half(conn):
    time.sleep(30)

store = Store.open(sys.argv[1])
in_two_halves(store.engine, childs_half, this_half)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    """`kill -9` of a report (a scheduler's timeout, an OOM kill) leaves no process reading the store."""
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "report.py"
    script.write_text(textwrap.dedent(CHILD_SLEEPS))
    report = subprocess.Popen(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'pmsync.db'}", str(pid_file)]
    )
    try:
        child = int(_wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the child to start"))
        assert _alive(child)
    finally:
        report.send_signal(signal.SIGKILL)
        report.wait()
    try:
        _wait_for(lambda: not _alive(child), "the child to end with its parent", seconds=10)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def _wait_for(condition: object, what: str, seconds: float = 60.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
