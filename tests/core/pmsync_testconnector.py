"""A deterministic connector for engine tests, configurable to misbehave.

Configured as ``type: core.pmsync_testconnector:CountingConnector`` (``tests/`` on ``PYTHONPATH``, as
pytest and the subprocess tests arrange). It yields ``count`` work items, a checkpoint every
``checkpoint_every`` items (cursor ``{"offset": n}``), and on resuming from an offset it proves the
earlier items still exist with ``Seen``, so its closing ``SnapshotComplete`` is always truthful.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    ConnectorContext,
    Cursor,
    Deleted,
    ExtractItem,
    Seen,
    SkippedRow,
    SnapshotComplete,
)
from pmsync.errors import SourceDataError
from pmsync.model import SourceRef, WorkItem

MODIFIED = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


class CountingConfig(ConnectorConfig):
    count: int = 20
    checkpoint_every: int = 5
    scope: str = "all"
    name_suffix: str = ""
    omit: list[int] = []
    deleted: list[int] = []
    skip_every: int | None = None
    #: misbehave after yielding this many records in a run
    crash_after: int | None = None
    crash_how: Literal["exit", "sigkill", "raise", "bug"] = "raise"
    crash_message: str = "row 7: amount 'abc' is not a number"
    #: after the first checkpoint: create hold_file, then wait until release_file exists
    hold_file: Path | None = None
    release_file: Path | None = None
    check_fails: bool = False
    #: ask the sync engine to run extract in a second process (as file connectors do)
    reads_in_process: bool = False


class CountingConnector:
    system: ClassVar[str] = "counting"
    Config: ClassVar[type[ConnectorConfig]] = CountingConfig

    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.config, CountingConfig)
        self.context = context
        self.config: CountingConfig = context.config
        self.reads_in_process = self.config.reads_in_process

    def ref(self, i: int) -> SourceRef:
        return SourceRef(system=self.system, instance=self.context.source_name, external_id=f"item-{i}")

    def check(self) -> list[CheckResult]:
        if self.config.check_fails:
            return [CheckResult("counting reachable", "fail", "it said no", "set check_fails: false")]
        return [CheckResult("counting reachable", "ok", f"{self.config.count} items")]

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        config = self.config
        offset = int(cursor.get("offset", 0))
        for i in range(offset):
            if i not in config.omit:
                yield Seen("work_item", self.ref(i))
        yielded = 0
        held = False
        for i in range(offset, config.count):
            if config.skip_every and i % config.skip_every == 0:
                yield SkippedRow(where=f"row {i}", reason="amount is not a number")
            elif i not in config.omit:
                yield WorkItem(
                    source=self.ref(i),
                    source_modified=MODIFIED,
                    name=f"Item {i}{config.name_suffix}",
                    project="ERP",
                    scope=config.scope,
                    percent_complete=float(i % 101),
                )
                yielded += 1
                if yielded == config.crash_after:
                    self._crash()
            if (i + 1) % config.checkpoint_every == 0:
                yield Checkpoint({"offset": i + 1})
                if not held and config.hold_file and config.release_file:
                    held = True
                    config.hold_file.write_text(str(os.getpid()))
                    deadline = time.monotonic() + 60
                    while not config.release_file.exists() and time.monotonic() < deadline:
                        time.sleep(0.05)
        for i in config.deleted:
            yield Deleted("work_item", self.ref(i))
        yield SnapshotComplete(config.scope, frozenset({"work_item"}))
        yield Checkpoint({"offset": 0})

    def _crash(self) -> None:
        how = self.config.crash_how
        if how == "exit":
            os._exit(70)
        if how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "bug":

            class ConnectorBug(Exception):  # defined here, so it cannot be pickled
                pass

            raise ConnectorBug(self.config.crash_message)
        raise SourceDataError(self.config.crash_message, source=self.context.source_name)
