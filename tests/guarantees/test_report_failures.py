"""A ``pmsync report`` that fails writes nothing half-done: a format that cannot be rendered leaves the
folder exactly as the previous run left it, a file that cannot be written leaves no temporary file
behind, and both say in one line what failed and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from pmsync.cli import cli

from .conftest import Written

ARGS = ["report", "--period", "2026-11", "--format", "html,xlsx,json"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_format_that_fails_to_render_leaves_the_previous_files_untouched(
    written: Written,
    tmp_path: Path,
) -> None:
    out = tmp_path / "reports"
    shutil.copytree(written.folder / "reports", out)
    before = snapshot(out)
    # The HTML template override is broken; the XLSX and JSON would render fine.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "logo.html.j2").write_text("{{ report.no_such_field }}", encoding="utf-8")
    config = yaml.safe_load((written.folder / "pmsync.yaml").read_text(encoding="utf-8"))
    config["store"]["url"] = f"sqlite:///{written.folder / 'pmsync.db'}"
    config["reports"] = {"templates_dir": str(templates)}
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    # json first: it would be written first if files were written as each format rendered.
    result = CliRunner().invoke(cli, ["--config", str(path), *ARGS[:-1], "json,xlsx,html", "--out", str(out)])
    assert result.exit_code != 0 and "logo.html.j2" in result.output
    assert snapshot(out) == before


def test_a_file_that_cannot_be_written_is_a_clear_error_and_leaves_no_temporary_file(
    written: Written,
    tmp_path: Path,
) -> None:
    out = tmp_path / "reports"
    (out / "report-2026-11.xlsx").mkdir(parents=True)  # something in the way of the workbook
    result = CliRunner().invoke(
        cli, ["--config", str(written.folder / "pmsync.yaml"), *ARGS, "--out", str(out)]
    )
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0  # an error, not a crash
    assert result.output.startswith("error: ") and "report-2026-11.xlsx" in result.output
    assert "Is a directory" in result.output and "writable" in result.output
    assert len(result.output.strip().splitlines()) <= 2
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
