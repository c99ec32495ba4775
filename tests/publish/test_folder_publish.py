"""Publishing to a folder, and the `pmsync publish` command, through pmsync.yaml and a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.errors import ConfigError
from pmsync.publish import ProjectStatusRow, ReportFile, publish
from pmsync.store import Store


def config_file(tmp_path: Path, **target: object) -> Path:
    block = {"name": "archive", "type": "folder", "path": "published", "folder": "{period}", **target}
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump({"publish": {"targets": [block]}}), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as opened:
        yield opened


def test_publish_twice_is_a_no_op_and_a_change_keeps_the_previous_version(tmp_path, store):
    config = load_config(config_file(tmp_path))
    source = tmp_path / "report.html"
    source.write_text("v1")
    file = ReportFile(path=source, period="2026-11")

    first = list(publish(config, store, [file]))
    again = list(publish(config, store, [file]))
    source.write_text("v2")
    changed = list(publish(config, store, [file]))

    assert [r.action for r in first + again + changed] == ["created", "unchanged", "new_version"]
    target = tmp_path / "published" / "2026-11" / "report.html"
    assert target.read_text() == "v2"
    assert (target.parent / ".versions" / "report.html.1").read_text() == "v1"
    assert store.find_publication(target.resolve().as_uri(), first[0].content_hash) is not None


def test_rename_writes_beside_the_existing_file(tmp_path, store):
    config = load_config(config_file(tmp_path, on_conflict="rename"))
    source = tmp_path / "report.html"
    source.write_text("v1")
    list(publish(config, store, [ReportFile(path=source)]))
    source.write_text("v2")

    [result] = publish(config, store, [ReportFile(path=source)])

    assert result.action == "renamed"
    assert (tmp_path / "published" / "report.html").read_text() == "v1"
    assert (tmp_path / "published" / "report 1.html").read_text() == "v2"


def test_status_rows_upsert_into_one_json_file(tmp_path, store):
    config = load_config(config_file(tmp_path))
    source = tmp_path / "report.html"
    source.write_text("x")
    files = [ReportFile(path=source, period="2026-11")]
    rows = [ProjectStatusRow(project="ERP", period="2026-11", overall="amber")]

    first = list(publish(config, store, files, rows))
    second = list(publish(config, store, files, [rows[0].model_copy(update={"overall": "red"})]))

    assert [r.action for r in first] == ["created", "created"]
    assert [r.action for r in second] == ["unchanged", "updated"]
    saved = json.loads((tmp_path / "published" / "project-status.json").read_text())
    assert [(r["project"], r["overall"]) for r in saved] == [("ERP", "red")]
    assert saved[0]["report_url"] == first[0].url


def test_config_errors_name_the_key(tmp_path):
    bad = {"name": "x", "type": "sharepoint", "site_url": "http://contoso/sites/a", "tenant_id": "t",
           "client_id": "c", "client_secret": "s", "chunk_bytes": 1000}  # fmt: skip
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump({"publish": {"targets": [bad]}}))
    config = load_config(path)
    with pytest.raises(ConfigError) as failed:
        list(publish(config, None, []))  # type: ignore[arg-type]
    message = str(failed.value)
    assert "publish.targets[0].sharepoint.site_url" in message
    assert "chunk_bytes" in message and "320 KiB" in message


def test_unknown_target_lists_the_known_ones(tmp_path, store):
    config = load_config(config_file(tmp_path))
    with pytest.raises(ConfigError, match="no publish target named 'nope'.*archive"):
        list(publish(config, store, [], targets=("nope",)))


def test_cli_publishes_files_and_reports_what_happened(tmp_path):
    path = config_file(tmp_path)
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    runner = CliRunner()

    first = runner.invoke(cli, ["--config", str(path), "publish", str(report), "--period", "2026-11"])
    again = runner.invoke(cli, ["--config", str(path), "publish", str(report), "--period", "2026-11"])
    missing = runner.invoke(cli, ["--config", str(path), "publish"])

    assert first.exit_code == 0, first.output
    assert "archive: report.html: published" in first.output
    assert "unchanged, nothing to do" in again.output
    assert (tmp_path / "published" / "2026-11" / "report.html").is_file()
    assert missing.exit_code == 2 and "--from" in missing.output


def test_cli_errors_are_one_line_with_the_fix_and_an_exit_code(tmp_path):
    path = config_file(tmp_path)
    report = tmp_path / "report.html"
    report.write_text("x")

    unknown = CliRunner().invoke(cli, ["--config", str(path), "publish", "--target", "nope", str(report)])

    assert unknown.exit_code == 2  # a bad option value is a usage error
    assert "error: " in unknown.output and "no publish target named 'nope'" in unknown.output
    assert "targets: archive" in unknown.output and "Traceback" not in unknown.output


def test_a_target_that_cannot_be_written_fails_alone_exit_4_or_1_when_nothing_landed(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    path = tmp_path / "pmsync.yaml"
    targets = [
        {"name": "archive", "type": "folder", "path": "published"},
        {"name": "share", "type": "folder", "path": str(blocked)},
    ]
    path.write_text(yaml.safe_dump({"publish": {"targets": targets}}), encoding="utf-8")
    report = tmp_path / "report.html"
    report.write_text("<html></html>")

    both = CliRunner().invoke(cli, ["--config", str(path), "publish", str(report)])
    broken_only = CliRunner().invoke(
        cli, ["--config", str(path), "publish", "--target", "share", str(report)]
    )

    assert both.exit_code == 4, both.output
    assert "archive: report.html: published" in both.output
    assert "share: report.html: FAILED: " in both.output
    assert "1 of 2 publications failed: share: report.html" in both.output
    assert (tmp_path / "published" / "report.html").is_file()
    assert broken_only.exit_code == 1, broken_only.output
