"""The XLSX writer: one sheet per section, real numbers and dates, ready to filter.

Each sheet has a frozen, bold header row, an autofilter over its data, column widths and number
formats (money ``#,##0.00``, indices ``0.00``, dates ``yyyy-mm-dd``). Per-project sections share one
sheet with a ``Project`` column, so a reader filters instead of hunting through tabs.

Text from source systems is untrusted: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would be read by Excel as a formula (CSV/formula injection, e.g. ``=HYPERLINK(...)``).
Such text is written as a string cell with the ``quotePrefix`` style (Excel's own "leading
apostrophe"), so it shows verbatim and can never be evaluated. Characters XML forbids are removed.

Reproducibility: document properties take the report's data timestamp and every zip entry gets the
same fixed date, so the same report model gives byte-identical files.

Written by XlsxWriter, row by row (its ``constant_memory`` mode): memory does not grow with the
portfolio, and every cell is written with its type said (``write_string``, ``write_number``, ...),
never guessed from the text, so no source text becomes a formula or a link by accident. It takes
about half the CPU of openpyxl's write-only mode, the writer before it (500 projects, 220,000 cells:
see docs/report.md). A text longer than Excel's limit of 32,767 characters per cell is cut there and
says so at its end, rather than giving a file Excel has to repair.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pmsync.errors import ReportError
from pmsync.report.model import Report
from pmsync.report.writers.xlsx_oversight import oversight_sheets
from pmsync.report.writers.xlsx_sheets import DATE, MOMENT, Column, sheets

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: characters XML 1.0 forbids (a worksheet is XML), and lone UTF-16 surrogates (a JSON source's
#: "\ud800", which UTF-8 cannot encode): removed from text
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037\ud800-\udfff]")
#: Excel's limit on one cell's text, in UTF-16 code units (an emoji takes two)
CELL_TEXT_LIMIT = 32_767
#: Excel's rows per sheet
SHEET_ROW_LIMIT = 1_048_576
CUT_NOTE = (
    " [cut: Excel holds at most 32,767 characters per cell; the HTML and JSON reports have the whole text]"
)
#: what Excel shows a date or moment in when its column names no format (openpyxl's defaults, the
#: writer's before XlsxWriter)
_DEFAULT_DATE, _DEFAULT_MOMENT = "yyyy-mm-dd", "yyyy-mm-dd h:mm:ss"
_HEADER = {"bold": True, "pattern": 1, "bg_color": "#F3F4F6", "text_wrap": True, "valign": "top"}


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones; the header says UTC and the model's moments are UTC.
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return _within_limit(ILLEGAL_CHARACTERS.sub("", value))
    return value


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _within_limit(text: str) -> str:
    """``text``, or its start and :data:`CUT_NOTE` when it is over Excel's limit. Counted in UTF-16
    units as Excel counts (XlsxWriter would cut a longer text itself, silently, without the note);
    a character is never cut in half."""
    if len(text) <= CELL_TEXT_LIMIT // 2 or _utf16_units(text) <= CELL_TEXT_LIMIT:
        return text
    room = CELL_TEXT_LIMIT - _utf16_units(CUT_NOTE)
    # decoding drops the half of a surrogate pair the byte cut may leave at the end
    return text.encode("utf-16-le")[: 2 * room].decode("utf-16-le", "ignore") + CUT_NOTE


def _is_rich_text_markup(text: str) -> bool:
    """XlsxWriter writes a text that starts with ``<r>`` and ends with ``</r>`` into the sheet's XML
    as it is (its own rich-text runs), unescaped: a source's text of that shape could otherwise
    inject any cell, a formula included."""
    return text.startswith("<r>") and text.endswith("</r>")


def _needs_quote(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


class _Formats:
    """The workbook's cell formats, each made once (XlsxWriter keeps one per distinct look)."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self.header = workbook.add_format(_HEADER)
        self.label = workbook.add_format({"bold": True})
        self.quoted = workbook.add_format({"quote_prefix": True})
        self.plain = workbook.add_format()
        self._numbers: dict[str, Format] = {}

    def number(self, number_format: str) -> Format:
        found = self._numbers.get(number_format)
        if found is None:
            found = self._numbers[number_format] = self._workbook.add_format({"num_format": number_format})
        return found


def _write(
    ws: Worksheet, formats: _Formats, row: int, column: int, value: Any, number_format: str | None
) -> None:
    """One cell for ``value`` (``None`` or no text: no cell), its type said, text that Excel would
    read as a formula quoted. A number format applies to numbers, dates and moments, never to text."""
    value = _cell_value(value)
    if value is None or value == "":
        return
    if isinstance(value, str):
        if _needs_quote(value):
            ws.write_string(row, column, value, formats.quoted)
        elif _is_rich_text_markup(value):
            # two plain runs: XlsxWriter escapes each run's text, and the cell reads back the same
            ws.write_rich_string(row, column, value[:3], formats.plain, value[3:])
        else:
            ws.write_string(row, column, value)
    elif isinstance(value, bool):
        ws.write_boolean(row, column, value)
    elif isinstance(value, datetime):
        ws.write_datetime(row, column, value, formats.number(number_format or _DEFAULT_MOMENT))
    elif isinstance(value, date):
        ws.write_datetime(row, column, value, formats.number(number_format or _DEFAULT_DATE))
    elif isinstance(value, (int, float, Decimal)):
        if not _fits_a_double(value):  # Excel has no NaN or infinity, and holds numbers as doubles
            ws.write_string(row, column, str(value))
        elif number_format:
            ws.write_number(row, column, value, formats.number(number_format))
        else:
            ws.write_number(row, column, value)
    else:
        raise TypeError(f"no XLSX cell for a {type(value).__name__}: {value!r}")


def _fits_a_double(value: int | float | Decimal) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past a double's range (10**400)
        return False


def _add_sheet(
    wb: xlsxwriter.Workbook,
    formats: _Formats,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
) -> None:
    """One sheet, streamed: each row is written as it comes (in ``constant_memory`` mode a row is
    flushed once the next one starts), so a 500-project portfolio's rows are never all held."""
    ws = wb.add_worksheet(title)
    for index, column in enumerate(columns):
        ws.set_column(index, index, column.width)
    ws.freeze_panes(1, 0)
    for index, column in enumerate(columns):
        ws.write_string(0, index, _cell_value(column.title), formats.header)
    count = 0
    for count, row in enumerate(rows, start=1):
        if count >= SHEET_ROW_LIMIT:  # XlsxWriter would drop the rest of the rows without a word
            raise ReportError(
                f"the XLSX sheet {title!r} would need more than Excel's {SHEET_ROW_LIMIT:,} rows",
                record=f"--format xlsx, sheet {title}",
                hint="report fewer projects at once (--project KEY, repeatable, or --program NAME), "
                "or read the JSON report",
            )
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            _write(ws, formats, count, index, value, column.format)
    ws.autofilter(0, 0, max(count, 1), len(columns) - 1)


def _about_rows(report: Report) -> list[list[Any]]:
    meta = report.meta
    return [
        ["Title", meta.title],
        ["Portfolio", meta.portfolio],
        ["Period", meta.period],
        ["Period start", meta.period_start],
        ["Period end", meta.period_end],
        ["Status date", meta.status_date],
        ["Status date time zone", meta.time_zone],
        ["State valid at (UTC)", meta.store.valid_at],
        ["Data gaps at the status date", len(meta.gaps)],
        ["Compared with period", meta.previous_period],
        ["Scope", meta.scope],
        ["Projects", ", ".join(meta.projects)],
        ["Currency", meta.currency],
        ["Recorded by pmsync as of (UTC)", meta.store.as_of],
        ["Newest change (UTC)", meta.store.data_through],
        ["Last successful sync run", meta.store.last_sync_run],
        ["pmsync version", meta.pmsync_version],
    ]


def xlsx_bytes(report: Report) -> bytes:
    """The workbook as bytes; identical for identical report models (the entries' dates are fixed
    by XlsxWriter, the document's by the report's data timestamp)."""
    buffer = io.BytesIO()
    # Each sheet's rows wait in a temporary file until the workbook is closed; in a folder of its
    # own, they are removed even when the report fails halfway (XlsxWriter removes them only when
    # it closes the workbook).
    with tempfile.TemporaryDirectory(prefix="pmsync-xlsx-") as folder:
        wb = xlsxwriter.Workbook(buffer, {"constant_memory": True, "tmpdir": folder})
        try:
            _write_workbook(wb, report)
        except BaseException:
            _close_row_files(wb)
            raise
    return buffer.getvalue()


def _close_row_files(wb: xlsxwriter.Workbook) -> None:
    """Close the sheets' open row files after a failure (only closing the workbook would, and a
    workbook that failed halfway is not worth assembling), so that their folder can go."""
    for ws in wb.worksheets():
        handle = getattr(ws, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()


def _write_workbook(wb: xlsxwriter.Workbook, report: Report) -> None:
    formats = _Formats(wb)
    about = wb.add_worksheet("About")
    about.set_column(0, 0, 26)
    about.set_column(1, 1, 60)
    for row, (label, value) in enumerate(_about_rows(report)):
        about.write_string(row, 0, label, formats.label)
        number_format = MOMENT if isinstance(value, datetime) else DATE if isinstance(value, date) else None
        _write(about, formats, row, 1, value, number_format)
    # The oversight sheets come first, right after About (xlsx_oversight builds on xlsx_sheets' columns).
    for title, columns, rows in oversight_sheets(report) + sheets(report):
        _add_sheet(wb, formats, title, columns, rows())
    wb.set_properties(
        {
            "title": _cell_value(report.meta.title),
            "author": "pmsync",
            "created": report.meta.generated_at.replace(tzinfo=None),
        }
    )
    wb.close()


__all__ = ["CELL_TEXT_LIMIT", "FORMULA_PREFIXES", "SHEET_ROW_LIMIT", "xlsx_bytes"]
