"""Finance exports from files: one CSV/XLSX file or a folder of monthly exports.

A file is read only when its SHA-256 differs from the one in the cursor. Each changed file is read
twice: first to validate every row (a bad row rejects the whole file unless ``skip_bad_rows``), then
to yield its cost lines. Files are read in name order; an export that states a (project code, kind,
month) replaces what earlier exports said about it (see :mod:`pmsync.connectors.finance.lines`).

A rejected file does not stop the others: the good files are committed at their checkpoints, the
rejected one keeps its old cursor entry (so it is retried next run), and the run ends with a
:class:`~pmsync.errors.SourceDataError` naming each bad row.

Cursor: ``{"files": {"<name>": {"sha256": "...", "scopes": ["<scope>", ...]}}}`` where ``scopes`` are
those whose current lines came from that file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from pmsync.connector import Checkpoint, CheckResult, ConnectorConfig, Cursor, ExtractItem, SnapshotComplete
from pmsync.connector_kit import FileSourceConnector
from pmsync.errors import SourceDataError

from .finance.lines import DuplicateColumns, LineBuilder, MissingColumns
from .finance.passes import FileSummary, validate_table, yield_lines
from .finance.source import COST_LINE, FinanceSource, FinanceSourceConfig
from .finance.tables import (
    XLSX_SUFFIXES,
    FileFacts,
    FileProblem,
    ReadLimits,
    Row,
    Table,
    inspect_file,
    open_csv,
    open_xlsx,
)


class FinanceFileConfig(FinanceSourceConfig):
    #: a file, or a folder of exports (relative to pmsync.yaml's folder)
    path: Path
    #: in a folder: which files are exports
    include: list[str] = Field(default_factory=lambda: ["*.csv", "*.txt", "*.tsv", "*.xlsx", "*.xlsm"])
    recursive: bool = False
    #: override the mapping's file settings
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    #: bounds on reading one file: rows, columns, an XLSX's unpacked size and compression ratio, and
    #: seconds per file (so one file cannot hold the source's lock for ever)
    limits: ReadLimits = Field(default_factory=ReadLimits)

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = {"tab": "\t", "\\t": "\t"}.get(value, value)
        if value != "auto" and len(value) != 1:
            raise ValueError("delimiter must be auto, tab or a single character")
        return value


@dataclass
class _Plan:
    name: str
    path: Path
    facts: FileFacts
    summary: FileSummary


class FinanceFileConnector(FinanceSource[FinanceFileConfig], FileSourceConnector[FinanceFileConfig]):
    system: ClassVar[str] = "finance_file"
    Config: ClassVar[type[ConnectorConfig]] = FinanceFileConfig
    #: parsing and validating a big export is CPU work: it runs beside the store's writes
    reads_in_process: ClassVar[bool] = True
    path_hint = "point path at an export file or a folder of exports"

    def _open(self, path: Path, facts: FileFacts, builder: LineBuilder) -> AbstractContextManager[Table]:
        fmt = self.mapping.file
        header_row = self.config.header_row or fmt.header_row

        def check(row: Row) -> list[str]:
            try:
                builder.bind(row)
            except MissingColumns as exc:
                return exc.missing
            except DuplicateColumns as exc:
                hint = "rename or remove the extra column so each name is one column"
                raise FileProblem(str(exc), hint) from None
            return []

        if path.suffix.lower() in XLSX_SUFFIXES:
            return open_xlsx(
                path,
                sheet=self.config.sheet or fmt.sheet,
                header_row=header_row,
                check=check,
                limits=self.config.limits,
            )
        encoding = self.config.encoding or fmt.encoding
        if encoding == "auto":
            if facts.encoding is None:
                raise FileProblem(
                    "the file is neither UTF-8 nor Windows-1252 text", "set encoding in the source"
                )
            if facts.mixed_line is not None:
                raise FileProblem(
                    f"line {facts.mixed_line} is not UTF-8, while the file's other accented text is: "
                    "read as Windows-1252, every other accent would be garbled",
                    "re-save that line (or the whole file) as UTF-8; set encoding: cp1252 only if the "
                    "whole file really is Windows-1252",
                )
            encoding = facts.encoding
        delimiter = self.config.delimiter or fmt.delimiter
        return open_csv(
            path,
            encoding=encoding,
            delimiter=delimiter,
            header_row=header_row,
            check=check,
            limits=self.config.limits,
        )

    # -- protocol ----------------------------------------------------------------------------

    def check(self) -> list[CheckResult]:
        results = self.mapping_checks()
        if results[0].status == "fail":
            return results
        found, files = self.files_check()
        if not files:
            return [*results, *found]
        builder = self.line_builder()
        for name, path in files:
            try:
                with self._open(path, inspect_file(path), builder) as table:
                    detail = f"header at row {table.header_row}"
                results.append(CheckResult(f"file {name}", "ok", detail))
            except FileProblem as exc:
                results.append(CheckResult(f"file {name}", "fail", exc.message, exc.hint or ""))
            except OSError as exc:
                results.append(CheckResult(f"file {name}", "fail", f"cannot be read: {exc.strerror or exc}"))
        return results

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        known: dict[str, dict[str, Any]] = {k: dict(v) for k, v in cursor.get("files", {}).items()}
        builder = self.line_builder()
        plans, rejected = self._plan_files(known, builder)
        try:
            # which file of this run states each scope last: it wins, earlier files skip that scope
            last_claim = {scope: i for i, plan in enumerate(plans) for scope in plan.summary.scopes}
            owner = {scope: name for name, entry in known.items() for scope in entry.get("scopes", [])}
            for i, plan in enumerate(plans):
                superseded = {s for s in plan.summary.scopes if last_claim[s] != i}
                digests = plan.summary.digests()
                before = known.get(plan.name, {}).get("digests", {})
                # a scope this file stated before with the very same lines is left as stored: a
                # corrected line re-states its own scope only (issue 25); a full refresh re-states all
                unchanged = set()
                if not self.context.full_refresh:
                    unchanged = {
                        s
                        for s in plan.summary.scopes - superseded
                        if owner.get(s) == plan.name and before.get(s) == digests[s]
                    }
                yield from yield_lines(builder, plan.summary, superseded | unchanged)
                claimed = plan.summary.scopes - superseded
                for scope in sorted(claimed - unchanged):
                    previous = owner.get(scope)
                    # a scope no file stated before has no older lines to replace: no sweep needed
                    # (sweeps cost a query each, and a first load has one scope per project and month);
                    # a full refresh starts from an empty cursor over a store that may hold lines
                    if previous is not None or self.context.full_refresh:
                        yield SnapshotComplete(scope, COST_LINE)
                    if previous is not None and previous != plan.name:
                        known[previous]["scopes"] = [s for s in known[previous]["scopes"] if s != scope]
                        known[previous].get("digests", {}).pop(scope, None)
                    owner[scope] = plan.name
                # scopes this file stated before and no longer does, and no file of this run states
                for scope in known.get(plan.name, {}).get("scopes", []):
                    if scope not in plan.summary.scopes and scope not in last_claim:
                        yield SnapshotComplete(scope, COST_LINE)
                        owner.pop(scope, None)
                known[plan.name] = {
                    "sha256": plan.facts.sha256,
                    "scopes": sorted(claimed),
                    "digests": {scope: digests[scope] for scope in sorted(claimed)},
                }
                yield Checkpoint({"files": {k: dict(v) for k, v in known.items()}})
        finally:
            for plan in plans:
                plan.summary.spool.close()  # temporary files of plans not replayed (an error)

        if rejected:
            hint = "fix the export(s) and sync again; the other files were loaded"
            if any("bad row(s)" in text for text in rejected):
                hint += ", or set skip_bad_rows: true to load the good rows"
            raise SourceDataError(
                f"{len(rejected)} file(s) rejected: " + " | ".join(rejected),
                source=self.source,
                record=str(self.root),
                hint=hint,
            )

    def _plan_files(
        self, known: dict[str, dict[str, Any]], builder: LineBuilder
    ) -> tuple[list[_Plan], list[str]]:
        """The files to load (new or changed since ``known``, validated into a spool) and the
        rejected ones, each with why."""
        plans: list[_Plan] = []
        rejected: list[str] = []
        for name, path in self.files():
            try:
                facts = inspect_file(path)
                if known.get(name, {}).get("sha256") == facts.sha256:
                    continue
                summary = self._validate(name, path, facts, builder)
            except FileProblem as exc:
                rejected.append(f"{name}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
                continue
            except OSError as exc:  # unreadable, or removed while the run was going
                rejected.append(f"{name}: cannot be read: {exc.strerror or exc}")
                continue
            if summary.bad_rows and not self.config.skip_bad_rows:
                summary.spool.close()
                listed = "; ".join(p.describe() for p in summary.problems)
                more = summary.bad_rows - len(summary.problems)
                rejected.append(
                    f"{name}: {summary.bad_rows} bad row(s), file not loaded: {listed}"
                    + (f"; ... and {more} more" if more > 0 else "")
                )
                continue
            plans.append(_Plan(name, path, facts, summary))
        return plans, rejected

    def _validate(self, name: str, path: Path, facts: FileFacts, builder: LineBuilder) -> FileSummary:
        builder.check_nul = facts.has_nul
        with self._open(path, facts, builder) as table:
            return validate_table(table.rows, builder, name, bitmap_bits=_bitmap_bits(path))


def _bitmap_bits(path: Path) -> int:
    """About 64 bits per line (a line is rarely under 40 bytes), so few hashes collide; 2^16..2^27."""
    size = path.stat().st_size
    bits = 1 << 16
    while bits < size * 2 and bits < 1 << 27:
        bits <<= 1
    return bits
