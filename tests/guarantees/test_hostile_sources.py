"""Hostile text that arrives from the SOURCES (Jira summaries of epics, stories, risks, issues and
decisions; a finance export's vendor and comment; the project's name and narrative in pmsync.yaml) and
goes through sync, the store, reconcile and ``pmsync report``: in the HTML it is text, never markup;
in the XLSX it is a string, never a formula; the JSON reads back. (The writers alone are tested with
every model field in tests/report/test_hostile_text.py; this proves the whole path.)
"""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
from report.htmlcheck import parse

from .conftest import Written


def test_html_shows_source_text_as_text_and_creates_no_markup(written: Written) -> None:
    page = parse(written.html)
    assert page.find("script") == [] and page.find("img") == []
    assert all(not name.startswith("on") for element in page.elements for name in element.attrs)
    shown = [what for what, text in written.planted.items() if text in page.text]
    # What this report shows of them (vendors and work item names are not in a first-period report).
    for must in ("project name", "narrative", "jira Risk ERP-14", "jira Impediment ERP-19"):
        assert must in shown, f"{must} is missing from the report: {sorted(shown)}"


def test_xlsx_holds_source_text_as_strings_never_formulas(written: Written) -> None:
    with zipfile.ZipFile(io.BytesIO(written.xlsx)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                body = archive.read(name)
                assert b"<f>" not in body and b"<f " not in body, name
    book = openpyxl.load_workbook(io.BytesIO(written.xlsx))
    planted = set(written.planted.values())
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value in planted]
    found = {c.value for c in cells}
    assert written.planted["project name"] in found and written.planted["jira Risk ERP-14"] in found
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_json_report_carries_the_text_unchanged(written: Written) -> None:
    text = json.dumps(written.json, ensure_ascii=False)
    assert json.dumps(written.planted["project name"], ensure_ascii=False)[1:-1] in text
