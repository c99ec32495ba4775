"""The two passes over one export file: validate everything first, then yield.

Pass 1 (:func:`validate_table`) reads and parses every row, so a bad row rejects the file before
anything is yielded (nothing half-loaded); it collects the scopes the file states and finds which line
ids occur more than once, and spools the parsed lines to a temporary file. Pass 2
(:func:`yield_lines`) replays the spool into records, without reading or parsing the export again.

Pass 1 also keeps a digest of each scope's lines (their parsed values, in any order), which the
connector's cursor remembers: a changed export re-states only the scopes whose digest changed, so a
re-sync after one corrected line costs the file's read plus one scope's writes (issue 25).

Memory stays flat whatever the file size: the spool is on disk, and duplicate detection keeps a
fixed-size bitmap of id hashes plus the (few) ids whose hash was seen before; only those need an
occurrence counter in pass 2.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from hashlib import blake2b
from typing import IO, Any

from pmsync.connector import SkippedRow
from pmsync.model import CostLine

from .lines import LineBuilder, ParsedLine, RowError, RowProblem
from .tables import Row

#: how many bad rows an error message lists before "... and N more"
LISTED_PROBLEMS = 20
_SPOOL_BATCH = 2000
_MASK64 = (1 << 64) - 1


class Spool:
    """Pass 1's results in an anonymous temporary file (removed when closed), in batches."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="pmsync-finance-")  # noqa: SIM115 - closed by close()
        self._batch: list[Any] = []

    def add(self, entry: Any) -> None:
        self._batch.append(entry)
        if len(self._batch) >= _SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def __iter__(self) -> Iterator[Any]:
        self._flush()
        self._file.seek(0)
        while True:
            try:
                # our own file, written above by this process: not untrusted input
                batch = pickle.load(self._file)  # noqa: S301
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self._file.close()


@dataclass
class FileSummary:
    """What pass 1 learnt about a file."""

    spool: Spool = field(default_factory=Spool)
    scopes: set[str] = field(default_factory=set)
    #: ids whose hash collided in the bitmap: possibly repeated, counted exactly in pass 2
    repeated: set[str] = field(default_factory=set)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0
    lines: int = 0
    #: per scope, the sum (mod 2^64) of its lines' hashes (see :meth:`digests`)
    sums: dict[str, int] = field(default_factory=dict)

    def digests(self) -> dict[str, str]:
        """Each scope's digest, 16 hex digits: the sum of its lines' 64-bit BLAKE2b hashes over their
        parsed values, so the same lines in another order give the same digest (a sum, not a XOR:
        two identical lines must not cancel out)."""
        return {scope: f"{total:016x}" for scope, total in self.sums.items()}


def _pack(line: ParsedLine) -> tuple[Any, ...]:
    """A parsed line as plain values: pickling Decimal and date objects costs more than parsing them."""
    posting = line.posting_date.toordinal() if line.posting_date is not None else None
    return (*line[:2], str(line.amount), line.currency, line.period.toordinal(), posting, *line[6:])


def _unpack(values: tuple[Any, ...]) -> ParsedLine:
    code, kind, amount, currency, period, posting, *rest = values
    posting_date = date.fromordinal(posting) if posting is not None else None
    return ParsedLine(code, kind, Decimal(amount), currency, date.fromordinal(period), posting_date, *rest)


def _problem(where: str, number: int, exc: RowError) -> RowProblem:
    value = "" if exc.value is None else str(exc.value)
    return RowProblem(where, number, exc.column, value, exc.message)


def validate_table(
    rows: Iterator[tuple[int, Row]], builder: LineBuilder, where: str, *, bitmap_bits: int = 1 << 23
) -> FileSummary:
    summary = FileSummary()
    try:
        _validate_into(summary, rows, builder, where, bitmap_bits)
    except BaseException:
        summary.spool.close()
        raise
    return summary


def _validate_into(
    summary: FileSummary, rows: Iterator[tuple[int, Row]], builder: LineBuilder, where: str, bitmap_bits: int
) -> None:
    bitmap = bytearray(bitmap_bits // 8)
    mask = bitmap_bits - 1
    spool, scopes, repeated, sums = summary.spool, summary.scopes, summary.repeated, summary.sums
    # bound once: this loop runs once per line of a million-line export
    parse, add, count = builder.parse, spool.add, 0
    for number, cells in rows:
        try:
            lines = parse(cells)
        except RowError as exc:
            summary.bad_rows += 1
            problem = _problem(where, number, exc)
            if len(summary.problems) < LISTED_PROBLEMS:
                summary.problems.append(problem)
            add(tuple(problem))
            continue
        for line in lines:
            count += 1
            scope = line.scope_suffix()
            identity = line.identity(scope)
            scopes.add(scope)
            packed = _pack(line)
            digest = blake2b(repr(packed).encode("utf-8", "surrogatepass"), digest_size=8).digest()
            sums[scope] = (sums.get(scope, 0) + int.from_bytes(digest)) & _MASK64
            bit = hash(identity) & mask
            byte, flag = bit >> 3, 1 << (bit & 7)
            if bitmap[byte] & flag:
                repeated.add(identity)
            else:
                bitmap[byte] |= flag
            add((scope, identity, packed))
    summary.lines += count


def yield_lines(
    builder: LineBuilder, summary: FileSummary, superseded: set[str]
) -> Iterator[CostLine | SkippedRow]:
    """Records of the file, except those of the scopes in ``superseded`` (a later file in this run
    restates them, or they are unchanged since the file was last loaded)."""
    counts: dict[str, int] = {}
    repeated = summary.repeated
    try:
        for entry in summary.spool:
            if len(entry) == len(RowProblem._fields):
                problem = RowProblem(*entry)
                yield SkippedRow(
                    where=f"{problem.where} row {problem.row}",
                    reason=f"column {problem.column!r}: value {problem.value!r} {problem.message}",
                )
                continue
            scope, identity, values = entry
            if superseded and scope in superseded:
                continue
            occurrence = 1
            if identity in repeated:
                # the first occurrence of a repeated id was not flagged in pass 1 (its bit was still
                # clear), so every occurrence of an id in ``repeated`` is counted here, the first too
                occurrence = counts[identity] = counts.get(identity, 0) + 1
            yield builder.record(_unpack(values), occurrence, identity, scope)
    finally:
        summary.spool.close()
