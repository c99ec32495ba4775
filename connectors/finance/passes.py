"""The two passes over one export file: validate everything first, then yield.

Pass 1 (:func:`validate_table`) reads every row, so a bad row rejects the file before anything is
yielded (nothing half-loaded), collects the scopes the file states, and finds which line ids occur
more than once. Pass 2 (:func:`yield_lines`) reads the file again and yields the records. Memory stays
flat whatever the file size: pass 1 keeps a fixed-size bitmap of id hashes and the (few) ids whose
hash was seen before; only those need an occurrence counter in pass 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pmsync.connector import SkippedRow
from pmsync.model import CostLine

from .lines import LineBuilder, ParsedLine, RowError, RowProblem
from .tables import Row

#: how many bad rows an error message lists before "... and N more"
LISTED_PROBLEMS = 20


@dataclass
class FileSummary:
    """What pass 1 learnt about a file."""

    scopes: set[str] = field(default_factory=set)
    #: ids whose hash collided in the bitmap: possibly repeated, counted exactly in pass 2
    repeated: set[str] = field(default_factory=set)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0
    lines: int = 0


def _problem(where: str, number: int, exc: RowError) -> RowProblem:
    value = "" if exc.value is None else str(exc.value)
    return RowProblem(where, number, exc.column, value, exc.message)


def validate_table(
    rows: Iterator[tuple[int, Row]], builder: LineBuilder, where: str, *, bitmap_bits: int = 1 << 23
) -> FileSummary:
    summary = FileSummary()
    bitmap = bytearray(bitmap_bits // 8)
    mask = bitmap_bits - 1
    for number, cells in rows:
        try:
            lines = builder.parse(cells)
        except RowError as exc:
            summary.bad_rows += 1
            if len(summary.problems) < LISTED_PROBLEMS:
                summary.problems.append(_problem(where, number, exc))
            continue
        for line in lines:
            summary.lines += 1
            summary.scopes.add(builder.scope(line))
            identity = line.identity()
            bit = hash(identity) & mask
            byte, flag = bit >> 3, 1 << (bit & 7)
            if bitmap[byte] & flag:
                summary.repeated.add(identity)
            else:
                bitmap[byte] |= flag
    return summary


def yield_lines(
    rows: Iterator[tuple[int, Row]],
    builder: LineBuilder,
    where: str,
    summary: FileSummary,
    superseded: set[str],
) -> Iterator[CostLine | SkippedRow]:
    """Records of the file, except those of scopes a later file in this run restates."""
    counts: dict[str, int] = {}
    for number, cells in rows:
        try:
            lines = builder.parse(cells)
        except RowError as exc:
            problem = _problem(where, number, exc)
            yield SkippedRow(
                where=f"{where} row {number}",
                reason=f"column {problem.column!r}: value {problem.value!r} {problem.message}",
            )
            continue
        for line in lines:
            if superseded and builder.scope(line) in superseded:
                continue
            yield builder.record(line, _occurrence(line, summary.repeated, counts))


def _occurrence(line: ParsedLine, repeated: set[str], counts: dict[str, int]) -> int:
    identity = line.identity()
    if identity not in repeated:
        return 1
    # the first occurrence of a repeated id was not flagged in pass 1 (its bit was still clear), so
    # every occurrence of an id in ``repeated`` is counted here, the first included
    counts[identity] = counts.get(identity, 0) + 1
    return counts[identity]
