"""Config mistakes that would misallocate silently are errors; links no source delivers are doctor
warnings. Through the real ``pmsync`` command line."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pmsync.cli import cli
from pmsync.sandbox.finance_gen import month_lines, write_export

from .helpers import write_yaml


def _config(folder: Path, projects: list[dict[str, Any]], *extra: dict[str, Any]) -> Path:
    exports = folder / "exports"
    exports.mkdir(exist_ok=True)
    write_export(
        exports / "costs.csv", month_lines(["P-100", "P-101"], date(2026, 10, 1), 20, random.Random(2))
    )
    finance = {
        "name": "finance",
        "type": "finance_file",
        "path": "exports",
        "mapping": "finance-oracle-ebs.yaml",
    }
    return write_yaml(folder, f"sqlite:///{folder / 'pmsync.db'}", finance, *extra, projects=projects)


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_two_projects_with_one_key_are_refused(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        [
            {"key": "ERP", "name": "ERP upgrade"},
            {"key": "CRM", "name": "CRM"},
            {"key": "erp", "name": "ERP 2"},
        ],
    )
    for command in ("sync", "doctor"):
        result = _run(config, command)
        assert result.exit_code == 3
        assert "projects[2].key: the project key 'erp' is already used by projects[0]" in result.output


def test_one_finance_code_linked_to_two_projects_is_refused(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        [
            {"key": "ERP", "name": "ERP upgrade", "links": {"finance": ["P-100"]}},
            {"key": "CRM", "name": "CRM", "links": {"finance_file": ["P-101", "P-100"]}},  # by type
        ],
    )
    result = _run(config, "sync")
    assert result.exit_code == 3
    assert "'P-100' of source 'finance' is linked to the projects 'ERP' and 'CRM'" in result.output
    assert "all its records would go to 'CRM'" in result.output
    assert "inserted" not in result.output  # nothing was synced


def test_one_jira_project_linked_to_two_projects_is_refused(tmp_path: Path) -> None:
    jira = {"name": "jira", "type": "jira", "url": "http://127.0.0.1:9", "email": "a@b.c", "api_token": "x"}
    jira["projects"] = ["ERP"]
    config = _config(
        tmp_path,
        [
            {"key": "ERP", "name": "ERP upgrade", "links": {"jira": ["ERP"]}},
            {"key": "ERP2", "name": "ERP phase 2", "links": {"jira": ["ERP"]}},
        ],
        jira,
    )
    result = _run(config, "doctor")
    assert (
        result.exit_code == 3
        and "'ERP' of source 'jira' is linked to the projects 'ERP' and 'ERP2'" in result.output
    )


def test_doctor_warns_about_links_no_source_delivers(tmp_path: Path) -> None:
    jira = {"name": "jira", "type": "jira", "url": "http://127.0.0.1:9", "email": "a@b.c", "api_token": "x"}
    jira["projects"] = ["ERP"]
    jira["enabled"] = False
    config = _config(
        tmp_path,
        [
            {"key": "ERP", "name": "ERP upgrade", "links": {"finance": ["P-100"], "jira": ["ERP"]}},
            {"key": "CRM", "name": "CRM", "links": {"finance": ["P-1O1"], "jria": ["CRM"], "jira": ["CRMX"]}},
        ],
        jira,
    )
    assert _run(config, "sync", "--source", "finance").exit_code == 0
    result = _run(config, "doctor")
    lines = result.output.splitlines()
    assert any(
        line.startswith("warn  project CRM: links jria: no source is named or typed 'jria'") for line in lines
    )
    assert any(
        line.startswith("warn  project CRM: links jira: no Jira source reads the project(s) CRMX")
        for line in lines
    )
    assert any(
        line.startswith(
            "warn  project CRM: links finance: finance synced but delivered no record of this project"
        )
        and "P-1O1" in line
        for line in lines
    )
    assert not any("project ERP:" in line for line in lines)  # its links are all delivered
