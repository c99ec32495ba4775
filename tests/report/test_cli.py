"""``pmsync report`` as a user runs it: files written, re-runs identical, clear errors with exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmsync import clock
from pmsync.cli import cli
from pmsync.report.writers.json import shipped_schema_text

from .scenario import live_through


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli")
    config, store = live_through(root, f"sqlite:///{root / 'pmsync.db'}")
    store.close()
    clock.set_now(datetime(2026, 12, 2, tzinfo=UTC))
    assert config.path is not None
    yield config.path
    clock.set_now(None)


def run(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config_path), "report", *args])
    return result.exit_code, result.output


def test_report_writes_each_format_and_a_rerun_is_identical(config_path: Path, tmp_path: Path) -> None:
    code, output = run(
        config_path, "--period", "2026-11", "--format", "html,json,xlsx", "--out", str(tmp_path / "a")
    )
    assert code == 0, output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "report-2026-11.html",
        "report-2026-11.json",
        "report-2026-11.xlsx",
    ]
    assert f"wrote {tmp_path / 'a' / 'report-2026-11.html'}" in output
    code, _ = run(
        config_path, "--period", "2026-11", "--format", "html,json,xlsx", "--out", str(tmp_path / "b")
    )
    assert code == 0
    for name in ("report-2026-11.html", "report-2026-11.json", "report-2026-11.xlsx"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_one_project_report_is_named_after_it(config_path: Path, tmp_path: Path) -> None:
    code, output = run(
        config_path, "--period", "2026-11", "--project", "WEB", "--format", "json", "--out", str(tmp_path)
    )
    assert code == 0, output
    data = json.loads((tmp_path / "report-2026-11-WEB.json").read_text())
    assert data["meta"]["scope"] == "projects" and [p["key"] for p in data["projects"]] == ["WEB"]


def test_program_report_covers_its_projects_only(config_path: Path, tmp_path: Path) -> None:
    code, output = run(
        config_path,
        "--period",
        "2026-11",
        "--program",
        "Modernisation",
        "--format",
        "json",
        "--out",
        str(tmp_path),
    )
    assert code == 0, output
    data = json.loads((tmp_path / "report-2026-11-Modernisation.json").read_text())
    assert data["meta"]["scope"] == "program" and data["meta"]["program"] == "Modernisation"
    assert [row["key"] for row in data["portfolio"]] == ["ERP", "HR"]


def test_as_of_rebuilds_the_report_as_it_was(config_path: Path, tmp_path: Path) -> None:
    code, output = run(
        config_path,
        "--period",
        "2026-11",
        "--as-of",
        "2026-11-15T00:00:00Z",
        "--format",
        "json",
        "--out",
        str(tmp_path),
    )
    assert code == 0, output
    data = json.loads((tmp_path / "report-2026-11.json").read_text())
    # the report reads what the store held at that moment: the newest sync finished by then
    store = data["meta"]["store"]
    assert store["as_of"] == store["data_through"] and store["data_through"] < "2026-11-15T00:00:00Z"
    erp = next(p for p in data["projects"] if p["key"] == "ERP")
    assert [r["title"] for r in erp["risks"]] == ["Data migration quality"]  # the 11-20 sync had not happened


def test_default_formats_and_folder_come_from_pmsync_yaml(config_path: Path) -> None:
    code, output = run(config_path, "--period", "2026-10")
    assert code == 0, output
    out = config_path.parent / "reports"
    assert {p.suffix for p in out.glob("report-2026-10.*")} == {".html", ".xlsx", ".json"}


def test_schema_option_prints_the_published_schema(config_path: Path) -> None:
    code, output = run(config_path, "--schema")
    assert code == 0 and output == shipped_schema_text()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--period", "2026-13"], 2, "period '2026-13' is not a month"),
        (["--period", "2026-11", "--as-of", "yesterday"], 2, "--as-of 'yesterday' is not an ISO 8601 moment"),
        (["--period", "2026-11", "--as-of", "2026-11-15T00:00:00"], 2, "has no time zone"),
        (["--period", "2026-11", "--project", "NOPE"], 2, "unknown project NOPE"),
        (["--period", "2026-11", "--format", "docx"], 2, "unknown report format docx"),
        (["--project", "ERP", "--portfolio"], 2, "one of --portfolio, --program or --project"),
        (["--period", "2026-11", "--program", "Nope"], 2, "programs in pmsync.yaml: Modernisation"),
    ],
)
def test_bad_options_give_one_clear_line_and_an_exit_code(
    config_path: Path, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    exit_code, output = run(config_path, *args, "--out", str(tmp_path))
    assert exit_code == code, output
    assert message in output
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_publish_sends_the_files_to_a_folder_target_and_a_rerun_publishes_nothing_new(
    config_path: Path, tmp_path: Path
) -> None:
    import yaml

    with_target = tmp_path / "pmsync.yaml"
    raw = yaml.safe_load(config_path.read_text())
    raw["publish"] = {"targets": [{"name": "archive", "type": "folder", "path": str(tmp_path / "published")}]}
    for source in raw["sources"]:
        source["records_file"] = str(config_path.parent / source["records_file"])
    with_target.write_text(yaml.safe_dump(raw))
    args = ("--period", "2026-11", "--format", "html,json", "--out", str(tmp_path / "out"), "--publish")
    # HR is configured but no source has data for it: the report says so and is not published...
    code, output = run(with_target, *args)
    assert code == 6, output
    assert "2026-11 HR: no data valid at the status date 2026-11-30" in output
    assert not (tmp_path / "published").exists()
    # ...unless the user accepts the gap
    args = (*args, "--allow-incomplete")
    code, output = run(with_target, *args)
    assert code == 0, output
    assert "archive: report-2026-11.html: published" in output
    published = sorted(p.name for p in (tmp_path / "published").rglob("*") if p.is_file())
    assert "report-2026-11.html" in published and "report-2026-11.json" in published
    code, output = run(with_target, *args)
    assert code == 0, output
    assert "archive: report-2026-11.html: unchanged, nothing to do" in output


def test_agency_templates_dir_from_pmsync_yaml_overrides_the_logo(config_path: Path, tmp_path: Path) -> None:
    import yaml

    (tmp_path / "agency").mkdir()
    (tmp_path / "agency" / "logo.html.j2").write_text('<p class="agency">Department of Examples</p>')
    raw = yaml.safe_load(config_path.read_text())
    raw["reports"]["templates_dir"] = "agency"  # relative to pmsync.yaml
    for source in raw["sources"]:
        source["records_file"] = str(config_path.parent / source["records_file"])
    (tmp_path / "pmsync.yaml").write_text(yaml.safe_dump(raw))
    code, output = run(
        tmp_path / "pmsync.yaml", "--period", "2026-11", "--format", "html", "--out", str(tmp_path)
    )
    assert code == 0, output
    assert '<p class="agency">Department of Examples</p>' in (tmp_path / "report-2026-11.html").read_text()
