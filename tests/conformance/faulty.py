"""A connector that breaks one guarantee on demand, to prove each conformance check can fail.

Configured as ``type: conformance.faulty:FaultyConnector`` (``tests/`` is on ``sys.path``). It reads
``count`` items from a JSON file (``{"items": {"id": "title"}, "bad": false}``), in pages of two with a
checkpoint ``{"done": [...ids]}`` after each; ``fault`` names the guarantee it breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pmsync.connector import Checkpoint, ConnectorConfig, Cursor, ExtractItem, Seen, SnapshotComplete
from pmsync.connector_kit import SourceConnector
from pmsync.model import WorkItem
from pmsync.testing.conformance import FOREIGN_SCOPE

Fault = Literal[
    "none",
    "set_cursor",
    "frozen_cursor",
    "re_emit",
    "changing",
    "wide_sweep",
    "raw_error",
    "early_checkpoint",
]


class FaultyConfig(ConnectorConfig):
    path: Path
    fault: Fault = "none"


class FaultyConnector(SourceConnector[FaultyConfig]):
    system: ClassVar[str] = "faulty"
    Config: ClassVar[type[FaultyConfig]] = FaultyConfig
    runs = 0  # per process: what "changing" changes

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        fault = self.config.fault
        data = json.loads(self.path(self.config.path).read_text())
        if data.get("bad"):
            if fault == "raw_error":
                raise ValueError("bad item")
            raise self.data_error("an item is bad", record="items.json")
        FaultyConnector.runs += 1
        done: list[str] = [] if fault in ("re_emit", "changing") else list(cursor.get("done", []))
        todo = [key for key in sorted(data["items"]) if key not in done]
        for key in done:  # read by an earlier run: still there, so the closing sweep keeps them
            yield Seen("work_item", self.ref(key))
        for first in range(0, len(todo), 2):
            page = todo[first : first + 2]
            if fault == "early_checkpoint":  # claims the page before yielding it
                yield Checkpoint({"done": done + page})
            for key in page:
                title = data["items"][key] + (f" (run {self.runs})" if fault == "changing" else "")
                yield WorkItem(source=self.ref(key), scope="items", name=title)
            done = done + page
            if fault == "set_cursor":
                yield Checkpoint({"done": set(done)})
            elif fault == "frozen_cursor":
                yield Checkpoint({})
            elif fault != "early_checkpoint":
                yield Checkpoint({"done": done})
        yield SnapshotComplete(scope=FOREIGN_SCOPE if fault == "wide_sweep" else "items")
