"""Work done in a forked child process beside this one, to put a second core to use.

Python runs one thread's code at a time, and SQLite runs a query on one core: a report that reads
and computes for hundreds of projects uses one core of two. :func:`forked` runs a function in a
child made with ``fork`` (it starts with everything this process has loaded and read, nothing to
pickle on the way in) while this process goes on; only the result travels back, pickled. Used by
the ledger's totals (:mod:`pmsync.store.two_halves`) and by the portfolio's measurement
(:mod:`pmsync.reconcile.portfolio`).

- **No orphan.** The child ends with this process: it is killed when this process leaves the
  ``with`` block before the result arrived (an error, Ctrl-C), and on Linux the kernel kills it when
  this process dies (``PR_SET_PDEATHSIG``), as on ``kill -9`` or a scheduler's SIGTERM. The child
  ignores SIGINT: this process decides.
- **Errors.** An error in the child is raised here, with its source, record and hint when it is one
  of pmsync's (anything else becomes the caller's error, with its type and text), caused by a
  :class:`ChildTraceback` that shows where in the child it happened; a child that dies (out of
  memory, killed) is the caller's error saying so, never a hang. A fork the system refuses is
  :class:`CannotFork`, raised before anything ran.
- The child exits with ``os._exit``, so nothing inherited (connections, files, atexit handlers) is
  closed, flushed or rolled back from it; work that reads a store opens connections of its own.

Only where ``fork`` exists and this process may have children: callers check :func:`can_fork`, or
:func:`a_second_process_helps` when the point is a second core.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection as PipeEnd
from typing import Any, Generic, TypeVar

from pmsync.cpus import usable_cpus
from pmsync.errors import PmsyncError, survives_pickling

T = TypeVar("T")

#: what flows from the child: ("ready", None) when the work says so, then ("done", result) or
#: ("error", (exception, its traceback as text))
_READY, _DONE, _ERROR = "ready", "done", "error"

#: Linux prctl(2) option: the signal this process gets when its parent dies
_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Whether this process can fork a child here: the platform starts processes with ``fork``
    (Linux, macOS; not Windows), and this process may have children (multiprocessing refuses them
    to a daemon process, e.g. a ``multiprocessing.Pool`` worker running pmsync)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def a_second_process_helps() -> bool:
    """Whether work split with a forked child gets done sooner here: this process can fork
    (:func:`can_fork`) and may use two CPUs or more (its affinity mask and cgroup CPU quota,
    :func:`pmsync.cpus.usable_cpus`; on one, the child would only share its time)."""
    return can_fork() and usable_cpus() >= 2


class CannotFork(OSError):
    """The system refused to fork (no memory under strict overcommit, the process limit): nothing was
    started, and the caller may do the work itself instead."""


class ChildTraceback(Exception):
    """Where an error raised by a forked child happened, in the child: the ``__cause__`` of that
    error once raised here (a pickled exception travels without its traceback, which a bug report
    needs; ``pmsync -v`` prints it)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


E = TypeVar("E", bound=PmsyncError)


def errors_of(
    doing: str, error: type[E], record: str
) -> tuple[Callable[[int | None], E], Callable[[BaseException], E]]:
    """The ``died`` and ``failed`` errors of :func:`forked` for a child ``doing`` something (e.g.
    "summing half of the cost lines"), as ``error`` with ``record``."""

    def died(exit_code: int | None) -> E:
        return error(
            f"the process {doing} died before it finished (exit code {exit_code})",
            record=record,
            hint="most often it ran out of memory; run the report again, or on a bigger machine",
        )

    def failed(exc: BaseException) -> E:
        return error(f"{doing} failed: {type(exc).__name__}: {exc}", record=record)

    return died, failed


class Child(Generic[T]):
    """The forked child of :func:`forked`: wait for it with :meth:`ready` and :meth:`result`."""

    def __init__(self, process: Any, receiving: PipeEnd, died: Callable[[int | None], PmsyncError]) -> None:
        self._process = process
        self._receiving = receiving
        self._died = died

    def ready(self) -> None:
        """Wait until the work has called its ``ready`` (see :func:`forked`)."""
        kind, _ = self._receive()
        if kind != _READY:  # pragma: no cover - the protocol sends ready first or not at all
            raise RuntimeError(f"expected the child's ready, got {kind!r}")

    def result(self) -> T:
        """Wait for the work's result; its error is raised here."""
        kind, body = self._receive()
        if kind == _READY:  # the work said ready and nobody waited for it
            kind, body = self._receive()
        return body  # type: ignore[no-any-return]

    def _receive(self) -> tuple[str, Any]:
        try:
            kind, body = self._receiving.recv()
        except EOFError:
            self._process.join()
            raise self._died(self._process.exitcode) from None
        if kind == _ERROR:
            error, where = body
            raise error from ChildTraceback(where)
        return kind, body


@contextlib.contextmanager
def forked(
    work: Callable[[Callable[[], None]], T],
    *,
    name: str,
    died: Callable[[int | None], PmsyncError],
    failed: Callable[[BaseException], PmsyncError],
) -> Iterator[Child[T]]:
    """Run ``work(ready)`` in a forked child while the ``with`` block runs here; the block waits for
    its result with ``child.result()``. ``work`` may call ``ready()`` to let this process go on at a
    point of its choosing (``child.ready()`` waits for it). ``died(exit_code)`` is the error when the
    child dies without a word; ``failed(exc)`` when its error cannot travel back whole."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(work, sending, os.getpid(), failed),
        name=name,
        # Not a daemon: multiprocessing forbids a daemon to have children, and the work may fork in
        # turn (a measuring child summing a large ledger in two halves). It cannot outlive this
        # process all the same: it is killed below when the block is left, and by the kernel when
        # this process dies.
        daemon=False,
    )
    try:
        try:
            process.start()
        except OSError as exc:
            raise CannotFork(exc.errno, f"cannot fork: {exc.strerror or exc}") from exc
        sending.close()  # the child's end: with it closed here, a dead child reads as end of file
        yield Child(process, receiving, died)
    finally:
        sending.close()
        receiving.close()
        if process.pid is not None:
            if process.is_alive():
                process.kill()
            process.join()


def _child(
    work: Callable[[Callable[[], None]], Any],
    sending: PipeEnd,
    parent: int,
    failed: Callable[[BaseException], PmsyncError],
) -> None:
    """The forked process: do ``work``, send its result, exit without running the parent's cleanups."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    try:
        _end_with(parent)
        result = work(lambda: sending.send((_READY, None)))
        sending.send((_DONE, result))
    except BaseException as exc:
        status = 1
        portable = exc if survives_pickling(exc) else failed(exc)
        where = "".join(traceback.format_exception(exc))
        with contextlib.suppress(OSError):  # OSError: the parent is gone, nobody left to tell
            sending.send((_ERROR, (portable, where)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _end_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux); if it already has, end now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
