"""A connector that replays a JSON file of normalized records: the test stands in for a source system.

Configured as ``type: report.scripted_connector:ScriptedConnector`` with ``records_file``; each run
yields every record in the file and then declares the snapshot complete, so records removed from the
file are marked deleted in the store, as a real full re-read would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import TypeAdapter

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    ConnectorContext,
    Cursor,
    ExtractItem,
    SnapshotComplete,
)
from pmsync.model import AnyRecord, Record

_RECORD: TypeAdapter[Record] = TypeAdapter(AnyRecord)


class ScriptedConfig(ConnectorConfig):
    records_file: Path


class ScriptedConnector:
    system: ClassVar[str] = "scripted"
    Config: ClassVar[type[ConnectorConfig]] = ScriptedConfig

    def __init__(self, context: ConnectorContext) -> None:
        assert isinstance(context.config, ScriptedConfig)
        self.path = context.base_dir / context.config.records_file

    def check(self) -> list[CheckResult]:
        return [CheckResult("records file", "ok" if self.path.exists() else "fail", str(self.path))]

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        for raw in json.loads(self.path.read_text(encoding="utf-8")):
            yield _RECORD.validate_python(raw)
        yield SnapshotComplete("")
        yield Checkpoint({})


def write_records(path: Path, records: list[Record]) -> None:
    path.write_text(json.dumps([r.model_dump(mode="json") for r in records], indent=1), encoding="utf-8")
