"""Inputs people maintain for oversight, from files kept beside pmsync.yaml (YAML or CSV).

The CIO's rating with its reason, the independent assessor's findings and corrective actions, gate
decisions, benefits realised and staff in post are not in any project tool: a portfolio office keeps
them by hand. This connector reads them like any source, so they get the store's history, the run
ledger and ``--as-of`` rebuilds for free; every row says who recorded it and when.

Files (one file, or a folder of them; CSV templates ship in ``pmsync/oversight/templates``):

- ``<kind>.csv`` where ``<kind>`` is ``cio_ratings``, ``findings``, ``gate_decisions``,
  ``benefits_realised`` or ``staffing`` (one row per record, the header names the fields);
- ``*.yaml`` / ``*.yml`` with any of those kinds as top-level keys, each a list of mappings.

Every row has ``project`` (the pmsync project key, or the project's key in this source from
``projects[].links``), ``id`` (unique within its kind: the row's identity across edits) and
``recorded_by``; ``recorded_at`` (an ISO moment with its offset) is optional. A bad row rejects its
file with an error naming the file, the row and the field, and nothing of that file is loaded (the
previous version stays in force). A file is re-read only when its SHA-256 changed; a file that
disappears takes its records with it (the sync's deletion guard applies).

Cursor: ``{"files": {"<name>": "<sha256>"}}``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pmsync.connector import Checkpoint, CheckResult, ConnectorConfig, Cursor, ExtractItem, SnapshotComplete
from pmsync.connector_kit import FileSourceConnector
from pmsync.errors import SourceDataError
from pmsync.model import MaintainedInput
from pmsync.oversight.kinds import KINDS
from pmsync.oversight.rows import input_record

#: bound on one maintained file: these are hand-kept lists, not exports
MAX_BYTES = 20 * 1024 * 1024


class OversightFileConfig(ConnectorConfig):
    #: a file, or a folder of them (relative to pmsync.yaml's folder)
    path: Path
    encoding: str = "utf-8-sig"


class OversightFileConnector(FileSourceConnector[OversightFileConfig]):
    system: ClassVar[str] = "oversight_file"
    Config: ClassVar[type[ConnectorConfig]] = OversightFileConfig
    patterns = ("*.csv", "*.yaml", "*.yml")
    path_hint = "point path at a file or folder of oversight inputs (see pmsync/oversight/templates)"

    # -- parsing -----------------------------------------------------------------------------

    def _rows(self, name: str, data: bytes) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(kind, where, row) for every row of a file."""
        text = data.decode(self.config.encoding)
        path = Path(name)
        if path.suffix.lower() == ".csv":
            kind = path.stem.lower()
            if kind not in KINDS:
                raise SourceDataError(
                    f"{name}: a CSV file is named after the kind of row it holds",
                    source=self.source,
                    record=name,
                    hint=f"name it one of: {', '.join(k + '.csv' for k in KINDS)}",
                )
            reader = csv.DictReader(io.StringIO(text))
            for number, row in enumerate(reader, start=2):
                cleaned = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
                yield kind, f"{name} row {number}", {k: v for k, v in cleaned.items() if v not in ("", None)}
            return
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise SourceDataError(
                f"{name}: not valid YAML: {getattr(exc, 'problem', exc)}",
                source=self.source,
                record=name,
            ) from None
        if not isinstance(loaded, dict):
            raise SourceDataError(f"{name}: the top level must map kinds to lists", record=name)
        for kind, rows in loaded.items():
            if kind not in KINDS or not isinstance(rows, list):
                raise SourceDataError(
                    f"{name}: {kind!r} is not a list of one of the kinds {', '.join(KINDS)}",
                    source=self.source,
                    record=f"{name}: {kind}",
                )
            for index, row in enumerate(rows):
                if not isinstance(row, dict):
                    raise SourceDataError(f"{name}: {kind}[{index}] is not a mapping", record=name)
                yield kind, f"{name} {kind}[{index}]", {str(k): v for k, v in row.items() if v is not None}

    def _record(self, name: str, kind: str, where: str, row: Mapping[str, Any]) -> MaintainedInput:
        return input_record(
            kind,
            row,
            where=where,
            system=self.system,
            source_name=self.source,
            scope=f"file:{name}",
            project_links=self.context.project_links,
        )

    def _read(self, name: str, data: bytes) -> list[MaintainedInput]:
        records: list[MaintainedInput] = []
        seen: dict[str, str] = {}
        for kind, where, row in self._rows(name, data):
            record = self._record(name, kind, where, row)
            key = record.source.external_id
            if key in seen:
                raise SourceDataError(
                    f"{where}: id {key.split(':', 1)[1]!r} is already used by {seen[key]}",
                    source=self.source,
                    record=where,
                    hint="give each row of a kind its own id",
                )
            seen[key] = where
            records.append(record)
        return records

    # -- protocol ----------------------------------------------------------------------------

    def source_checks(self) -> list[CheckResult]:
        found, files = self.files_check()
        if not files:
            return found
        results = []
        for name, path in files:
            try:
                count = len(self._read(name, path.read_bytes()))
                results.append(CheckResult(f"file {name}", "ok", f"{count} row(s)"))
            except SourceDataError as exc:
                results.append(CheckResult(f"file {name}", "fail", str(exc), exc.hint or ""))
            except (OSError, UnicodeDecodeError) as exc:
                results.append(CheckResult(f"file {name}", "fail", f"cannot be read: {exc}"))
        return results

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        known: dict[str, str] = dict(cursor.get("files", {}))
        present = self.files()
        names = {name for name, _ in present}
        state = {k: v for k, v in known.items() if k in names}
        errors: list[str] = []
        failed: list[str] = []  # the files named by the error, as its record
        for name, path in present:
            try:
                if path.stat().st_size > MAX_BYTES:
                    raise SourceDataError(f"{name}: larger than {MAX_BYTES} bytes", record=name)
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                if known.get(name) == digest:
                    continue
                records = self._read(name, data)
            except (SourceDataError, UnicodeDecodeError, OSError) as exc:
                # a SourceDataError's message names the file and row already
                errors.append(exc.message if isinstance(exc, SourceDataError) else f"{name}: {exc}")
                failed.append(name)
                continue
            yield from records
            yield SnapshotComplete(scope=f"file:{name}")
            state[name] = digest
            yield Checkpoint({"files": dict(state)})
        for gone in sorted(set(known) - names):
            # a maintained file removed: its rows are no longer in force
            yield SnapshotComplete(scope=f"file:{gone}")
            yield Checkpoint({"files": dict(state)})
        if errors:
            raise SourceDataError(
                "; ".join(errors),
                source=self.source,
                record=", ".join(failed),
                hint="fix the rows named; the files' previous versions stay in force until then",
            )
