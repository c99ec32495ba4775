"""Reading a source in a second process while the sync writes the store in this one.

A connector that parses files (a finance export, an MSPDI schedule) spends its time on the CPU, and
so does the store writing what it read: in one process they take turns, and a machine's second core
sits idle. A connector that says ``reads_in_process = True`` is run by :func:`extract_in_process` in a
forked child, which also turns each record into its stored form (JSON and content hash, the costliest
step of a write) and hands the parent batches over a pipe. The parent sees the same stream, in the
same order, as from ``connector.extract``; records arrive as :class:`~pmsync.store.StoredRow`.
Loading 10^6 finance lines into SQLite took 146 s in one process (see bench/stages_finance.py).

What stays true:

- Order and checkpoints: the child sends items in stream order, and sends at once what it has at each
  checkpoint, so the engine commits what it would have committed (a crash of either process loses
  only the work since the last checkpoint).
- Memory: the pipe holds a few batches; a child that reads faster than the store writes blocks on it.
- Errors: an error the connector raises in the child is raised here, with its source, record and hint.
  A child that dies (killed, out of memory) fails the run with a clear error, not a hang.
- Stopping: when the parent stops reading (an error while writing, Ctrl-C, SIGTERM), the child is
  killed. The child ignores SIGINT and SIGTERM itself, so that the parent decides how the run ends
  and records it; it also ends on its own when the parent is gone (its next send finds no reader).

Only where ``fork`` exists (Linux, macOS): a spawned child would have to import and rebuild the
connector from scratch; elsewhere the connector runs in this process as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Generator, Iterator
from multiprocessing.connection import Connection
from typing import Any

from pmsync.connector import Checkpoint, Connector, Cursor, ExtractItem
from pmsync.errors import ConnectorError, survives_pickling
from pmsync.model import Record
from pmsync.store import EncodedJson, StoredRow, to_row

log = logging.getLogger("pmsync.sync")

#: items per message from the child: big enough that pickling overhead is small, small enough that a
#: few in flight hold little memory
ITEMS_PER_MESSAGE = 500

#: what flows from the child: ("items", [...]), then ("done", None) or ("error", exception)
_ITEMS, _DONE, _ERROR = "items", "done", "error"


def can_extract_in_process(connector: Connector) -> bool:
    """Whether ``connector`` asks for it and this platform can fork."""
    return bool(getattr(connector, "reads_in_process", False)) and (
        "fork" in multiprocessing.get_all_start_methods()
    )


def extract_in_process(
    connector: Connector, cursor: Cursor, source_name: str
) -> Iterator[ExtractItem | StoredRow]:
    """``connector.extract(cursor)`` run in a forked child; records come as stored rows.

    Close the iterator (or let it finish) to end the child; it is killed if it is still running.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_produce,
        args=(connector, cursor, sending, source_name),
        name=f"pmsync-extract-{source_name}",
        daemon=True,  # never outlives the parent's interpreter
    )
    child.start()
    sending.close()  # the child's end: with it closed here, a dead child reads as end of file
    try:
        while True:
            try:
                kind, body = receiving.recv()
            except EOFError:
                child.join()
                raise ConnectorError(
                    f"the process reading the source ended unexpectedly (exit code {child.exitcode})",
                    source=source_name,
                    hint="most often it was killed or ran out of memory; the run kept its last "
                    "checkpoint, sync again to continue",
                ) from None
            if kind == _ITEMS:
                for entry in body:
                    yield _unpacked(entry) if type(entry) is tuple else entry
            elif kind == _ERROR:
                raise body
            else:
                return
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()  # it ignores SIGTERM (see the module docstring)
        child.join()


def _produce(connector: Connector, cursor: Cursor, sending: Connection, source_name: str) -> None:
    """The child: stream the connector into the pipe, then exit without running the parent's
    cleanups (the inherited database connections and temporary files are the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    status = 0
    batch: list[ExtractItem | tuple[Any, ...]] = []
    try:
        for item in connector.extract(cursor):
            batch.append(_packed(to_row(item)) if isinstance(item, Record) else item)
            # at a checkpoint the parent gets what it may commit now, should this process die later
            if len(batch) >= ITEMS_PER_MESSAGE or isinstance(item, Checkpoint):
                _send(sending, (_ITEMS, batch))
                batch = []
        _send(sending, (_ITEMS, batch))
        _send(sending, (_DONE, None))
    except _ParentGone:  # nobody left to tell
        status = 1
    except BaseException as exc:
        log.debug("the connector failed in the reading process", exc_info=True)
        try:
            # what came before the error is the parent's to write, up to its last checkpoint
            _send(sending, (_ITEMS, batch))
            _send(sending, (_ERROR, _portable(exc, source_name)))
        except _ParentGone:
            status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _packed(row: StoredRow) -> tuple[Any, ...]:
    """A stored row as a plain tuple: pickling 10^6 of them cost 0.6 s, the dataclasses 2.2 s."""
    return (
        row.key,
        row.project,
        row.scope,
        row.payload.text,
        row.content_hash,
        row.source_modified,
        row.facts,
    )


def _unpacked(entry: tuple[Any, ...]) -> StoredRow:
    key, project, scope, text, content_hash, source_modified, facts = entry
    return StoredRow(key, project, scope, EncodedJson(text), content_hash, source_modified, facts)


class _ParentGone(Exception):
    """The parent closed its end of the pipe: it stopped reading (it failed, or was killed)."""


def _send(sending: Connection, message: tuple[str, Any]) -> None:
    try:
        sending.send(message)
    except OSError as exc:  # broken pipe; kept apart from the connector's own OSErrors
        raise _ParentGone() from exc


def _portable(exc: BaseException, source_name: str) -> BaseException:
    """``exc`` itself when it survives pickling whole (pmsync's errors do, with source, record and
    hint); else a :class:`ConnectorError` with its type, text and where it was raised."""
    if survives_pickling(exc):
        return exc
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return ConnectorError(
        f"{type(exc).__name__}: {exc}{where}",
        source=source_name,
        hint="this is most likely a bug in the connector",
    )


def stream_of(connector: Connector, cursor: Cursor, source_name: str) -> Generator[Any, None, None]:
    """The connector's stream, from a second process when it asks for one and the platform can.
    Closing it ends that process."""
    if can_extract_in_process(connector):
        yield from extract_in_process(connector, cursor, source_name)
    else:
        yield from connector.extract(cursor)
