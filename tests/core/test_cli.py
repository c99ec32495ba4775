"""The CLI as a user meets it: config errors that name the key, doctor, runs, db, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.store import Store

from .helpers import COUNTING, write_config


def invoke(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pmsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source_block", "expected"),
    [
        ("    count: many\n", "sources[0].count: Input should be a valid integer"),
        ("    cuont: 3\n", "sources[0].cuont: unknown key"),
        ("    name_suffix: ${PMSYNC_TEST_UNSET_VAR}\n", "sources[0].name_suffix: environment variable"),
    ],
)
def test_config_errors_name_the_key_path_and_exit_3(tmp_path: Path, source_block: str, expected: str) -> None:
    config = write_yaml(tmp_path, f"sources:\n  - name: plan\n    type: {COUNTING}\n{source_block}")
    result = invoke(config, "sync")
    assert result.exit_code == 3, result.output
    assert expected in result.output


def test_unknown_source_type_lists_the_known_ones(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "sources:\n  - name: plan\n    type: jria\n")
    result = invoke(config, "sync")
    assert result.exit_code == 3
    assert "sources[0].type: unknown source type 'jria'" in result.output
    assert "jira" in result.output


def test_unknown_source_option_is_a_usage_error_with_a_suggestion(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, plan={"count": 2})
    result = invoke(config, "sync", "--source", "nope")
    assert result.exit_code == 2
    assert "no source named 'nope'" in result.output
    typo = invoke(config, "sync", "--source", "plna")
    assert typo.exit_code == 2 and "did you mean 'plan'?" in typo.output
    runs = invoke(config, "runs", "--source", "plna")
    assert (
        runs.exit_code == 2
        and "did you mean 'plan'?" in runs.output
        and "no sync runs yet" not in runs.output
    )


def test_sync_then_runs_shows_counts(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, plan={"count": 12}, other={"count": 2})
    first = invoke(config, "sync")
    assert first.exit_code == 0, first.output
    assert "plan: ok" in first.output and "12 inserted" in first.output
    second = invoke(config, "sync", "-s", "plan")
    assert (
        "plan: ok" in second.output
        and "no changes (0 inserted, 0 updated, 0 deleted, 12 unchanged; 12 in store)" in second.output
    )
    table = invoke(config, "runs", "--source", "plan")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split()[:3] == ["RUN", "SOURCE", "STATUS"]
    assert len(lines) == 3 and all(" ok " in line for line in lines[1:])
    data = json.loads(invoke(config, "runs", "--json", "--limit", "2").output)
    assert [(r["source_name"], r["counts"]["unchanged"]) for r in data] == [("plan", 12), ("other", 0)]


def test_partial_failure_exits_4_and_shows_the_error(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, good={"count": 2}, bad={"count": 5, "crash_after": 1})
    result = invoke(config, "sync")
    assert result.exit_code == 4
    assert "bad: FAILED" in result.output and "amount 'abc' is not a number" in result.output
    runs = invoke(config, "runs")
    assert "       error: row 7" in runs.output  # the SOURCE column names it: said once, not twice


def test_all_failed_exits_1(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, bad={"count": 5, "crash_after": 1})
    assert invoke(config, "sync").exit_code == 1


def test_doctor_reports_each_check_with_its_fix(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, good={"count": 2}, bad={"check_fails": True})
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("ok    config:")
    assert lines[1].startswith("warn  store:") and "is empty" in lines[1]
    assert "ok    source good" in result.output
    assert (
        "FAIL  source bad (core.pmsync_testconnector:CountingConnector): counting reachable" in result.output
    )
    assert "      fix: set check_fails: false" in result.output
    healthy = write_config(tmp_path, store_url, good={"count": 2})
    assert invoke(healthy, "db", "upgrade").exit_code == 0
    ok = invoke(healthy, "doctor")
    assert ok.exit_code == 0, ok.output
    assert "ok    store:" in ok.output and f"revision {Store.head_revision()}" in ok.output


def test_doctor_says_when_the_store_is_unreachable(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql://pmsync@127.0.0.1:1/nowhere", good={"count": 1})
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    assert "FAIL  store: cannot reach the store" in result.output
    assert "fix: check store.url" in result.output


def test_doctor_on_a_broken_config_exits_3(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "store: [oops\n")
    result = invoke(config, "doctor")
    assert result.exit_code == 3
    assert result.output.startswith("FAIL  config:") and "not valid YAML" in result.output


def test_db_upgrade_and_status(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url)
    before = invoke(config, "db", "status")
    assert before.exit_code == 1 and "none (empty database)" in before.output
    up = invoke(config, "db", "upgrade")
    assert up.exit_code == 0 and f"upgraded from empty to revision {Store.head_revision()}" in up.output
    assert "up to date" in invoke(config, "db", "upgrade").output
    assert invoke(config, "db", "status").exit_code == 0


def test_starter_config_from_init_loads(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.yaml"
    assert CliRunner().invoke(cli, ["--config", str(path), "init"]).exit_code == 0
    config = load_config(path)
    assert [s.type for s in config.sources] == ["finance_file"]
    assert config.store_url() == f"sqlite:///{tmp_path.resolve() / 'pmsync.db'}"


def test_json_log_format_gives_one_structured_line_per_source(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, plan={"count": 4}, bad={"count": 3, "crash_after": 1})
    result = CliRunner().invoke(cli, ["--config", str(config), "--log-format", "json", "sync"])
    assert result.exit_code == 4
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    summaries = {line["source"]: line for line in lines if "run_id" in line}
    assert summaries["plan"]["status"] == "ok" and summaries["plan"]["inserted"] == 4
    assert summaries["bad"]["status"] == "failed" and summaries["bad"]["level"] == "error"
    assert "amount 'abc'" in summaries["bad"]["error"]
    assert result.stdout == ""


def test_doctor_checks_what_the_configured_pdf_engine_needs(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", good={"count": 1})
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text + "reports:\n  formats: [html, pdf]\n  pdf_engine: chromium\n  chromium_path: /nowhere/chrome\n",
        encoding="utf-8",
    )
    result = invoke(config, "doctor")
    assert result.exit_code == 1, result.output
    assert "ok    reports: formats html, pdf into " in result.output
    assert (
        "FAIL  reports: PDF (chromium engine): reports.chromium_path '/nowhere/chrome' is not an executable"
        in (result.output)
    )
    assert "fix: install Chromium (Debian/Ubuntu: apt-get install chromium)" in result.output
    config.write_text(text + "reports:\n  formats: [html, xlsx]\n", encoding="utf-8")
    result = invoke(config, "doctor")
    assert "ok    reports: formats html, xlsx into " in result.output and "PDF" not in result.output


def test_doctor_names_a_bad_reports_section(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", good={"count": 1})
    config.write_text(
        config.read_text(encoding="utf-8") + "reports:\n  pdf_engine: reportlab\n", encoding="utf-8"
    )
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    assert "FAIL  reports:" in result.output and "reports.pdf_engine" in result.output


def test_doctor_passes_the_weasyprint_engine_when_weasyprint_loads(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", good={"count": 1})
    config.write_text(
        config.read_text(encoding="utf-8") + "reports:\n  formats: [pdf]\n  pdf_engine: weasyprint\n",
        encoding="utf-8",
    )
    result = invoke(config, "doctor")
    assert "ok    reports: PDF (weasyprint engine): PDF by WeasyPrint" in result.output


def test_doctor_says_which_engine_auto_chose_and_warns_when_it_fell_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'pmsync.db'}", good={"count": 1})
    config.write_text(config.read_text(encoding="utf-8") + "reports:\n  formats: [pdf]\n", encoding="utf-8")
    shell = tmp_path / "bin" / "chromium-headless-shell"
    shell.parent.mkdir()
    shell.write_text("#!/bin/sh\n")
    shell.chmod(0o755)
    monkeypatch.setenv("PATH", str(shell.parent))
    result = invoke(config, "doctor")
    assert f"ok    reports: PDF (auto engine): PDF by Chromium ({shell}, found by" in result.output
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # a fresh machine: no browser
    result = invoke(config, "doctor")
    assert result.exit_code == 0, "WeasyPrint prints: a warning, not a failure"
    assert "warn  reports: PDF (auto engine): PDF by WeasyPrint: no Chromium found" in result.output
    assert "fix: install Chromium's headless shell" in result.output


def test_an_unexpected_error_is_one_line_without_a_traceback_unless_verbose() -> None:
    """A defect must not greet an operator with a traceback: one line, exit 1; -v shows the trace."""
    import click as _click

    from pmsync.cli import cli as group

    @_click.command("boom-for-test")
    def boom() -> None:
        raise ValueError("token=abc the parser fell over")

    group.add_command(boom)
    try:
        quiet = CliRunner().invoke(group, ["boom-for-test"])
        verbose = CliRunner().invoke(group, ["-v", "boom-for-test"])
    finally:
        group.commands.pop("boom-for-test")
    assert quiet.exit_code == 1 and "Traceback" not in quiet.output
    assert "error: unexpected ValueError: token=abc the parser fell over" in quiet.output
    assert "-v for the traceback" in quiet.output
    assert verbose.exit_code == 1 and "Traceback" in verbose.output
