"""Ctrl-C: stop cleanly, say what was kept, exit 130 (the shell's code for "ended by SIGINT").

The first Ctrl-C raises :class:`KeyboardInterrupt` where the command is, as Python always does, and
the command unwinds: the sync engine rolls back the open batch and closes its ledger row as
``interrupted`` (see :mod:`pmsync.sync`). An impatient second Ctrl-C must not cut that bookkeeping
short (it used to leave a run "running" and print a traceback), so while the command unwinds further
presses are ignored; a third ends the process at once, for a cleanup that hangs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it
EXIT_INTERRUPTED = 130

#: the one line pmsync prints when Ctrl-C stops a command
INTERRUPTED_MESSAGE = (
    "interrupted (Ctrl-C): work committed before it is kept (a sync keeps everything up to its last "
    "checkpoint) and nothing half-written was left; run the same command again to continue"
)


@contextmanager
def first_ctrl_c_interrupts() -> Iterator[None]:
    """For the duration of the block: the first SIGINT interrupts, the second is ignored, the third
    exits at once with :data:`EXIT_INTERRUPTED`. Outside the main thread (tests), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    presses = 0

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            raise KeyboardInterrupt
        if presses >= 3:
            os._exit(EXIT_INTERRUPTED)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        # After a Ctrl-C the command is ending: a late press must not turn the clean exit into a
        # traceback or a death by signal. (At shutdown Python resets its own handlers to the default,
        # which would kill the process, but leaves an ignored signal ignored.)
        signal.signal(signal.SIGINT, previous if presses == 0 else signal.SIG_IGN)
