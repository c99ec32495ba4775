"""Reading export files as a header row and a stream of numbered rows: CSV (delimiter and encoding
detected or configured) and XLSX (openpyxl read-only streaming, any sheet, header row anywhere in the
first rows). The header row is the first row that names every column the mapping uses, which also
settles the delimiter when it is not configured.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: how far down a file the header row is looked for
HEADER_SEARCH_ROWS = 50
DELIMITERS = (",", ";", "\t", "|")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

Row = Sequence[Any]


class FileProblem(Exception):
    """The file as a whole cannot be read (encoding, header, format); ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    #: the text encoding found (CSV only): utf-8-sig (BOM), utf-8, utf-16 (BOM) or cp1252
    encoding: str | None


def inspect_file(path: Path, chunk_size: int = 1 << 20) -> FileFacts:
    """Hash a file and, for text files, find its encoding, in one read."""
    digest = hashlib.sha256()
    is_xlsx = path.suffix.lower() in XLSX_SUFFIXES
    utf8: Any = None if is_xlsx else codecs.getincrementaldecoder("utf-8")()
    cp1252: Any = None if is_xlsx else codecs.getincrementaldecoder("cp1252")()
    encoding: str | None = None
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            if first and not is_xlsx:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    encoding = "utf-8-sig"
                elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    encoding = "utf-16"
                    utf8 = cp1252 = None
            for name, decoder in (("utf8", utf8), ("cp1252", cp1252)):
                if decoder is None:
                    continue
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    if name == "utf8":
                        utf8 = None
                    else:
                        cp1252 = None
    if not is_xlsx and encoding is None:
        if utf8 is not None:
            encoding = "utf-8"
        elif cp1252 is not None:
            encoding = "cp1252"
    return FileFacts(digest.hexdigest(), encoding)


@dataclass
class Table:
    """An open file: the header row, its row number, and the numbered data rows after it."""

    header: list[Any]
    header_row: int
    rows: Iterator[tuple[int, Row]]
    delimiter: str | None = None
    encoding: str | None = None


#: tries a header candidate; returns the mapped columns it lacks (empty when it is the header)
HeaderCheck = Callable[[Row], list[str]]


def _pick_header(
    rows: list[tuple[int, Row]], check: HeaderCheck, header_row: int | None
) -> tuple[int, int, list[str], Row | None]:
    """(index in rows or -1, row number, missing columns of the closest row, closest row)."""
    best: tuple[int, int, list[str], Row | None] = (-1, 0, ["(no rows)"], None)
    for index, (number, row) in enumerate(rows):
        if header_row is not None and number != header_row:
            continue
        missing = check(row)
        if not missing:
            return index, number, [], row
        if best[3] is None or len(missing) < len(best[2]):
            best = (-1, number, missing, row)
    return best


def _header_problem(missing: list[str], number: int, row: Row | None, header_row: int | None) -> FileProblem:
    if row is None:
        return FileProblem("the file has no rows", "is it the right file? an export has a header row")
    where = f"row {header_row}" if header_row else f"the first {HEADER_SEARCH_ROWS} rows"
    names = [str(c) for c in (row or []) if c not in (None, "")]
    closest = f"; closest is row {number}: {', '.join(names[:12])}" if names else ""
    hint = "check the mapping's column names against the export, or set header_row"
    if row is not None and any(c in (None, "") for c in row[: len(names) + 1]) and names:
        hint = (
            "the header has empty cells; merged header cells are not supported: unmerge them so each "
            "column has its own name, or set header_row to a row with one name per column"
        )
    return FileProblem(f"no header row in {where} names the columns {', '.join(missing)}{closest}", hint)


@contextmanager
def open_csv(
    path: Path, *, encoding: str, delimiter: str, header_row: int | None, check: HeaderCheck
) -> Iterator[Table]:
    candidates = DELIMITERS if delimiter == "auto" else (delimiter,)
    best_missing: tuple[list[str], int, Row | None] | None = None
    for candidate in candidates:
        with path.open("r", encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=candidate, strict=True)
            try:
                head: list[tuple[int, Row]] = []
                for record in itertools.islice(reader, header_row or HEADER_SEARCH_ROWS):
                    head.append((reader.line_num, record))
            except (csv.Error, UnicodeDecodeError) as exc:
                raise FileProblem(f"line {reader.line_num + 1}: {exc}", "is the file a CSV export?") from None
            index, number, missing, row = _pick_header(head, check, header_row)
            if index < 0:
                if best_missing is None or len(missing) < len(best_missing[0]):
                    best_missing = (missing, number, row)
                continue
            header = list(head[index][1])
            rest = head[index + 1 :]
            yield Table(header, number, _csv_rows(path, reader, rest), candidate, encoding)
            return
    assert best_missing is not None
    raise _header_problem(*best_missing, header_row)


def _csv_rows(path: Path, reader: Any, buffered: list[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    yield from buffered
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise FileProblem(f"line {reader.line_num + 1}: {exc}", "is the file a well-formed CSV?") from None
    except UnicodeDecodeError as exc:
        raise FileProblem(f"after line {reader.line_num}: {exc}", "set the encoding the file uses") from None


@contextmanager
def open_xlsx(
    path: Path, *, sheet: str | None, header_row: int | None, check: HeaderCheck
) -> Iterator[Table]:
    # openpyxl is imported here so CSV-only users never pay for it
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise FileProblem(f"not a readable XLSX workbook: {exc}", "save it as .xlsx from Excel") from None
    except Exception as exc:  # openpyxl raises many types for broken or hostile workbooks
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FileProblem(
            f"not a readable XLSX workbook ({type(exc).__name__}: {detail})",
            "open and save it in Excel; pmsync refuses XML entities and DTDs",
        ) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise FileProblem(
                f"no worksheet named {sheet!r}", f"the workbook has: {', '.join(workbook.sheetnames)}"
            )
        numbered = _xlsx_rows(worksheet)
        head = list(itertools.islice(numbered, header_row or HEADER_SEARCH_ROWS))
        index, number, missing, row = _pick_header(head, check, header_row)
        if index < 0:
            raise _header_problem(missing, number, row, header_row)
        header = list(head[index][1])
        yield Table(header, number, itertools.chain(head[index + 1 :], numbered))
    finally:
        workbook.close()


def _xlsx_rows(worksheet: Any) -> Iterator[tuple[int, Row]]:
    """Numbered rows of a sheet; a sheet that cannot be parsed (malformed or hostile XML, e.g. entity
    expansion, refused by defusedxml) is a :class:`FileProblem`, not a crash."""
    number = 0
    try:
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, row
    except FileProblem:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FileProblem(
            f"after row {number}: the worksheet cannot be read ({type(exc).__name__}: {detail})",
            "open and save the file in Excel; pmsync refuses XML entities and DTDs",
        ) from None
