"""Reading export files as a header row and a stream of numbered rows: CSV (delimiter and encoding
detected or configured) and XLSX (openpyxl read-only streaming, any sheet, header row anywhere in the
first rows). The header row is the first row that names every column the mapping uses, which also
settles the delimiter when it is not configured.

Reading is bounded (:class:`ReadLimits`), so one hostile or broken file can neither hang a sync nor
hold its source's lock for ever: a workbook's declared used range is not trusted (one stray cell at
``XFD1048576`` made openpyxl pad a million empty rows to 16,384 cells each), the uncompressed size and
compression ratio of its parts are checked before anything is parsed, rows are counted, and a file
that takes longer than its time limit is abandoned with a clear error.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import re
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: how far down a file the header row is looked for
HEADER_SEARCH_ROWS = 50
DELIMITERS = (",", ";", "\t", "|")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

Row = Sequence[Any]
#: rows between two looks at the clock (reading the clock per row would cost more than the check)
_CLOCK_EVERY = 4096


class ReadLimits(BaseModel):
    """Bounds on reading one export file (``limits:`` of a finance_file source)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: data rows one file may have (an XLSX sheet has at most 1,048,576)
    max_rows: int = Field(default=5_000_000, gt=0)
    #: columns a worksheet row may have values in; a used range declared wider is not trusted, and a
    #: value past this many columns is an error naming its cell
    max_columns: int = Field(default=1024, gt=0)
    #: total uncompressed size of an XLSX's parts
    max_uncompressed_bytes: int = Field(default=2 << 30, gt=0)
    #: uncompressed / compressed size of any XLSX part over 1 MiB (a zip bomb is 1000:1 and more;
    #: real sheets are 5:1 to 50:1)
    max_compression_ratio: float = Field(default=200.0, gt=1)
    #: seconds one file may take to read, so no file holds the source's lock for ever
    max_seconds: float = Field(default=900.0, gt=0)

    def deadline(self) -> float:
        return time.monotonic() + self.max_seconds

    def check_clock(self, deadline: float, number: int) -> None:
        if time.monotonic() > deadline:
            raise FileProblem(
                f"reading stopped at row {number}: the file took longer than {self.max_seconds:g} s",
                "is the file far larger than usual? raise limits.max_seconds for this source if it is "
                "genuine",
            )

    def check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise FileProblem(
                f"the file has more than {self.max_rows} rows",
                "split the export, or raise limits.max_rows for this source",
            )


DEFAULT_LIMITS = ReadLimits()


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
    #: a line that is not UTF-8 in a file whose other non-ASCII text is (CSV only): decoding the
    #: whole file as cp1252 would turn every "Café" elsewhere into "CafÃ©"
    mixed_line: int | None = None
    #: whether a NUL byte occurs (UTF-8 and cp1252 text only; UTF-16 is full of them)
    has_nul: bool = True


#: a UTF-8 multi-byte sequence; cp1252 text almost never contains one
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def inspect_file(path: Path, chunk_size: int = 1 << 20) -> FileFacts:
    """Hash a file and, for text files, find its encoding, in one read."""
    digest = hashlib.sha256()
    is_xlsx = path.suffix.lower() in XLSX_SUFFIXES
    utf8: Any = None if is_xlsx else codecs.getincrementaldecoder("utf-8")()
    cp1252: Any = None if is_xlsx else codecs.getincrementaldecoder("cp1252")()
    encoding: str | None = None
    lines_before = 0
    bad_utf8_line: int | None = None
    has_nul = False
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
            if utf8 is not None:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8 = None
                    bad_utf8_line = lines_before + chunk.count(b"\n", 0, exc.start) + 1
            if cp1252 is not None:
                try:
                    cp1252.decode(chunk)
                except UnicodeDecodeError:
                    cp1252 = None
            if not is_xlsx:
                lines_before += chunk.count(b"\n")
                has_nul = has_nul or b"\x00" in chunk
    mixed_line = None
    if not is_xlsx and encoding is None:
        if utf8 is not None:
            encoding = "utf-8"
        elif cp1252 is not None:
            encoding = "cp1252"
            if _has_utf8_text(path, chunk_size):  # read again only for files that are not UTF-8
                mixed_line = bad_utf8_line
    # XML cannot hold a NUL at all, so a workbook's cells never contain one
    nul = False if is_xlsx else (has_nul or encoding == "utf-16")
    return FileFacts(digest.hexdigest(), encoding, mixed_line, nul)


def _has_utf8_text(path: Path, chunk_size: int) -> bool:
    with path.open("rb") as handle:
        tail = b""
        while chunk := handle.read(chunk_size):
            if _UTF8_SEQUENCE.search(tail + chunk):
                return True
            tail = chunk[-4:]
    return False


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


def _header_problem(
    missing: list[str], number: int, row: Row | None, header_row: int | None, check: HeaderCheck
) -> FileProblem:
    if row is None:
        return FileProblem("the file has no rows", "is it the right file? an export has a header row")
    where = f"row {header_row}" if header_row else f"the first {HEADER_SEARCH_ROWS} rows"
    names = [str(c) for c in (row or []) if c not in (None, "")]
    closest = ""
    if names and len(missing) < len(check(())):
        # Shown only when the row names some mapped column, so it really is a header candidate: a
        # path pointed at the wrong file (a token, a key) must not have its content quoted.
        closest = f"; closest is row {number}: {', '.join(n[:40] for n in names[:12])}"
    elif names:
        closest = "; no row names any of them (is it an export?)"
    hint = "check the mapping's column names against the export, or set header_row"
    if row is not None and any(c in (None, "") for c in row[: len(names) + 1]) and names:
        hint = (
            "the header has empty cells; merged header cells are not supported: unmerge them so each "
            "column has its own name, or set header_row to a row with one name per column"
        )
    return FileProblem(f"no header row in {where} names the columns {', '.join(missing)}{closest}", hint)


@contextmanager
def open_csv(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    header_row: int | None,
    check: HeaderCheck,
    limits: ReadLimits = DEFAULT_LIMITS,
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
            yield Table(header, number, _csv_rows(path, reader, rest, limits), candidate, encoding)
            return
    assert best_missing is not None
    raise _header_problem(*best_missing, header_row, check)


def _csv_rows(
    path: Path, reader: Any, buffered: list[tuple[int, Row]], limits: ReadLimits
) -> Iterator[tuple[int, Row]]:
    yield from buffered
    deadline = limits.deadline()
    count = len(buffered)
    try:
        for row in reader:
            count += 1
            if count % _CLOCK_EVERY == 0:
                limits.check_clock(deadline, reader.line_num)
                limits.check_rows(count)
            yield reader.line_num, row
        limits.check_rows(count)
    except csv.Error as exc:
        raise FileProblem(f"line {reader.line_num + 1}: {exc}", "is the file a well-formed CSV?") from None
    except UnicodeDecodeError as exc:
        raise FileProblem(f"after line {reader.line_num}: {exc}", "set the encoding the file uses") from None


def check_xlsx_parts(path: Path, limits: ReadLimits) -> None:
    """Refuse a workbook whose parts would inflate past the limits, before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(f"not a readable XLSX workbook: {exc}", "save it as .xlsx from Excel") from None
    total = sum(part.file_size for part in parts)
    if total > limits.max_uncompressed_bytes:
        raise FileProblem(
            f"the workbook unpacks to {total} bytes, more than the limit of {limits.max_uncompressed_bytes}",
            "export a smaller file (CSV is read faster), or raise limits.max_uncompressed_bytes",
        )
    for part in parts:
        if part.file_size > 1 << 20:
            ratio = part.file_size / max(part.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise FileProblem(
                    f"the workbook's part {part.filename!r} is compressed {ratio:.0f}:1, beyond the limit "
                    f"of {limits.max_compression_ratio:g}:1 (a zip bomb?)",
                    "open and save the file in Excel, or raise limits.max_compression_ratio",
                )


@contextmanager
def open_xlsx(
    path: Path,
    *,
    sheet: str | None,
    header_row: int | None,
    check: HeaderCheck,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Iterator[Table]:
    # openpyxl is imported here so CSV-only users never pay for it
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_xlsx_parts(path, limits)
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
        numbered = _xlsx_rows(worksheet, limits)
        head = list(itertools.islice(numbered, header_row or HEADER_SEARCH_ROWS))
        index, number, missing, row = _pick_header(head, check, header_row)
        if index < 0:
            raise _header_problem(missing, number, row, header_row, check)
        header = list(head[index][1])
        yield Table(header, number, itertools.chain(head[index + 1 :], numbered))
    finally:
        workbook.close()


def _xlsx_rows(worksheet: Any, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, Row]]:
    """Numbered non-empty rows of a sheet, each padded to the sheet's width; a sheet that cannot be
    parsed (malformed or hostile XML, e.g. entity expansion, refused by defusedxml) is a
    :class:`FileProblem`, not a crash.

    The sheet's declared used range is not trusted: openpyxl pads every row up to it, and every
    missing row below, so one stray cell at XFD1048576 cost 1.7 * 10^10 empty cells. Rows are read
    as stored (``reset_dimensions``); missing rows are skipped, and each row is padded only to the
    declared width when that is within ``limits.max_columns``, so a short row still lines up with
    the header."""
    declared = worksheet.max_column if isinstance(worksheet.max_column, int) else 0
    width = declared if declared <= limits.max_columns else 0
    reset = getattr(worksheet, "reset_dimensions", None)
    if reset is not None:
        reset()
    deadline = limits.deadline()
    number = 0
    rows = 0
    try:
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number % _CLOCK_EVERY == 0:
                limits.check_clock(deadline, number)
            if not row:
                continue  # a row the sheet does not store
            rows += 1
            if len(row) > limits.max_columns:
                stray = next((i for i in range(limits.max_columns, len(row)) if row[i] is not None), None)
                if stray is not None:
                    raise FileProblem(
                        f"row {number} has a value in column {_column_name(stray + 1)}, past the "
                        f"{limits.max_columns} columns pmsync reads",
                        "delete the stray cell (Ctrl+End in Excel shows it), or raise limits.max_columns",
                    )
                row = row[: limits.max_columns]  # empty cells that only widen the used range
            if len(row) < width:
                row = (*row, *([None] * (width - len(row))))
            if rows % _CLOCK_EVERY == 0:
                limits.check_rows(rows)
            yield number, row
        limits.check_rows(rows)
    except FileProblem:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FileProblem(
            f"after row {number}: the worksheet cannot be read ({type(exc).__name__}: {detail})",
            "open and save the file in Excel; pmsync refuses XML entities and DTDs",
        ) from None


def _column_name(number: int) -> str:
    """Excel's name of a 1-based column number (1 -> A, 16384 -> XFD)."""
    name = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        name = chr(ord("A") + remainder) + name
    return name
