"""Bounded reading: no export file can hang a sync or hold its source's lock for ever.

Each file goes through the real ``pmsync sync`` (CliRunner) into a SQLite store, as a user's would."""

from __future__ import annotations

import csv
import random
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.styles import Font

from pmsync.cli import cli
from pmsync.sandbox.finance_gen import month_lines, write_export
from pmsync.store import Store

from .helpers import write_yaml

LINES = 30


def _setup(folder: Path, **limits: Any) -> Path:
    (folder / "exports").mkdir()
    source: dict[str, Any] = {
        "name": "finance",
        "type": "finance_file",
        "path": "exports",
        "mapping": "finance-oracle-ebs.yaml",
    }
    if limits:
        source["limits"] = limits
    return write_yaml(folder, f"sqlite:///{folder / 'pmsync.db'}", source)


def _csv_export(path: Path, lines: int = LINES) -> Path:
    write_export(path, iter(list(month_lines(["P-100"], date(2026, 10, 1), lines, random.Random(4)))))
    return path


def _workbook(folder: Path) -> openpyxl.Workbook:
    """The CSV export, as the workbook Excel makes of it (values as text, title rows kept)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    with _csv_export(folder / "export.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    (folder / "export.csv").unlink()
    return book


def _sync(config: Path) -> tuple[Result, float]:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"])
    return result, time.monotonic() - started


def _live(folder: Path) -> int:
    with Store.open(f"sqlite:///{folder / 'pmsync.db'}") as store:
        return store.count_live("finance")


def test_a_used_range_inflated_to_xfd1048576_reads_in_proportion_to_the_content(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    book = _workbook(tmp_path / "exports")
    sheet = book.active
    assert sheet is not None
    sheet.cell(row=1_048_576, column=16_384).font = Font(bold=True)  # formatting only: no value
    book.save(tmp_path / "exports" / "costs.xlsx")
    with zipfile.ZipFile(tmp_path / "exports" / "costs.xlsx") as archive:
        assert b'<dimension ref="A1:XFD1048576"' in archive.read("xl/worksheets/sheet1.xml")

    result, took = _sync(config)
    assert result.exit_code == 0, result.output
    assert f"{LINES} inserted" in result.output and _live(tmp_path) == LINES
    assert took < 20  # was > 8 CPU-minutes without finishing


def test_a_stray_value_at_xfd1048576_is_a_clear_error_within_seconds(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    book = _workbook(tmp_path / "exports")
    sheet = book.active
    assert sheet is not None
    sheet.cell(row=1_048_576, column=16_384, value="x")
    book.save(tmp_path / "exports" / "costs.xlsx")

    result, took = _sync(config)
    assert result.exit_code == 1 and took < 20
    assert "costs.xlsx: row 1048576 has a value in column XFD, past the 1024 columns" in result.output
    assert "delete the stray cell" in result.output and _live(tmp_path) == 0
    # The lock was released: the next run is not "locked".
    again, _ = _sync(config)
    assert "locked" not in again.output


def test_a_workbook_that_inflates_like_a_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    config = _setup(tmp_path)
    _workbook(tmp_path / "exports").save(tmp_path / "bomb-source.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "bomb-source.xlsx") as source,
        zipfile.ZipFile(tmp_path / "exports" / "costs.xlsx", "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (8 << 20))  # 8 MiB of spaces
            bomb.writestr(item.filename, data)
    result, _ = _sync(config)
    assert result.exit_code == 1
    assert "part 'xl/worksheets/sheet1.xml' is compressed" in result.output and "zip bomb" in result.output


def test_the_unpacked_size_limit_is_checked_before_parsing(tmp_path: Path) -> None:
    config = _setup(tmp_path, max_uncompressed_bytes=4096)
    _workbook(tmp_path / "exports").save(tmp_path / "exports" / "costs.xlsx")
    result, _ = _sync(config)
    assert result.exit_code == 1 and "more than the limit of 4096" in result.output


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        ({"max_rows": 10}, "the file has more than 10 rows"),
        ({"max_seconds": 1e-6}, "the file took longer than 1e-06 s"),
    ],
)
def test_row_and_time_limits_stop_a_file_and_release_the_lock(
    tmp_path: Path, limits: dict[str, Any], words: str
) -> None:
    config = _setup(tmp_path, **limits)
    _csv_export(tmp_path / "exports" / "costs.csv", lines=5000)
    result, _ = _sync(config)
    assert result.exit_code == 1 and words in result.output and "costs.csv" in result.output
    assert _live(tmp_path) == 0
    again, _ = _sync(config)
    assert "locked" not in again.output
