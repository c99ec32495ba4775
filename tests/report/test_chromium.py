"""The HTML report in a real browser: headless Chromium renders it with no console message at all (no
script, no blocked request, no CSP violation) and takes a screenshot. Skipped when Chromium is absent."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pmsync.report.writers.html import render_html

from .sample import sample_report

CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
        if p and Path(p).exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium to run this test)"
)
CONSOLE = re.compile(r":CONSOLE[:(]")


def screenshot(page: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Render ``page`` headless; returns the screenshot and every console line Chromium logged."""
    shot = tmp_path / f"{page.stem}.png"
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), result.stderr[-2000:]
    return shot, [line for line in result.stderr.splitlines() if CONSOLE.search(line)]


def test_the_report_renders_in_chromium_without_console_messages(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")
    shot, console = screenshot(page, tmp_path)
    assert console == []
    assert shot.stat().st_size > 20_000  # a real page of tables and charts, not a blank frame


def test_the_console_check_catches_a_blocked_script(tmp_path: Path) -> None:
    # The control: the same check on a page that breaks the rules must see it.
    page = tmp_path / "bad.html"
    html = render_html(sample_report()).replace("</body>", "<script>console.error('boom')</script></body>")
    page.write_text(html, encoding="utf-8")
    _, console = screenshot(page, tmp_path)
    assert any("Content Security Policy" in line for line in console)
