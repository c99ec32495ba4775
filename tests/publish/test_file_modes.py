"""Report files and folder-published copies honour the umask, as any other program's files do; a
committee's shared folder must be able to read them. Only secret caches are owner-only (tested in
tests/guarantees/test_secrets.py)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from report.sample import sample_report

from pmsync.config import load_config
from pmsync.publish import ProjectStatusRow, ReportFile, publish
from pmsync.report.writers import write_report
from pmsync.store import Store

from .test_folder_publish import config_file


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_report_files_and_published_copies_get_the_umask_mode(tmp_path: Path, umask: int) -> None:
    expected = 0o666 & ~umask
    paths = write_report(sample_report(), tmp_path / "reports", ["html", "xlsx", "json"])
    assert {p.name: mode(p) for p in paths} == {p.name: expected for p in paths}

    config = load_config(config_file(tmp_path))
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        results = list(
            publish(
                config,
                store,
                [ReportFile(path=p, period="2026-11") for p in paths],
                [ProjectStatusRow(project="ERP", period="2026-11", overall="green")],
            )
        )
    published = [Path(r.url.removeprefix("file://")) for r in results]
    assert published and {mode(p) for p in published} == {expected}
    assert not [p for p in (tmp_path / "published").rglob("*.tmp")]  # no temporary file left behind
