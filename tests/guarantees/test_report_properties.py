"""Property: whatever text the sources send -- control characters, markup, formula leads, template
syntax, in any mix -- put into EVERY text field of a full report, the HTML holds it as text, the XLSX as
strings (formula leads quoted), and the JSON reads back. The writers never crash on it."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from report.htmlcheck import parse
from report.sample import sample_report
from report.test_hostile_text import hostile

from pmsync.report.model import Report
from pmsync.report.writers.html import render_html
from pmsync.report.writers.json import json_bytes
from pmsync.report.writers.xlsx import xlsx_bytes

PAYLOADS = [
    "<script>alert(1)</script>",
    "</textarea></title><svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "javascript:alert(1)",
    "<a href='javascript:alert(1)'>x</a>",
    "<!-- ]]> --!>",
    "{{ 7*191 }}{% if true %}x{% endif %}",
    '=HYPERLINK("http://evil.invalid","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]
TEXT = st.builds(
    lambda a, p, b: a + p + b, st.text(max_size=8), st.sampled_from(PAYLOADS), st.text(max_size=8)
) | st.builds(lambda p, b: p + b, st.sampled_from(PAYLOADS), st.text(max_size=8))
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
BASE = sample_report()


# Each example renders a whole report three ways; no shrinking (it would take minutes), so a failure
# shows the generated text as it was.
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(text=TEXT)
def test_any_text_in_every_field_stays_text_in_every_format(text: str) -> None:
    report: Report = hostile(BASE, text)

    page_text = render_html(report)
    page_text.encode("utf-8")  # what write_report does
    page = parse(page_text)
    for tag in ("script", "img", "iframe", "object", "embed"):
        assert page.find(tag) == [], tag  # the report itself has none: any would come from the data
    for element in page.elements:
        for name, value in element.attrs.items():
            assert not name.startswith("on"), (element, name)
            assert not str(value or "").strip().lower().startswith("javascript:"), (element, name)
    assert "1337" not in page_text  # templates never evaluate data ({{ 7*191 }})

    data = xlsx_bytes(report)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                body = archive.read(name)
                assert b"<f>" not in body and b"<f " not in body, name
    book = openpyxl.load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_LEADS):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate, cell.value)

    assert json.loads(json_bytes(report))["meta"]
