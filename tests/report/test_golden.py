"""Golden files: the rendered HTML and JSON of the hand-made sample report, byte for byte.

A change to a template, a writer or the model shows up here as a diff to review. When the change is
intended, regenerate with ``PMSYNC_UPDATE_GOLDEN=1 pytest tests/report/test_golden.py`` and commit the
new files with the change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pmsync.report.model import Report
from pmsync.report.writers.html import render_html
from pmsync.report.writers.json import json_text

from .sample import sample_report

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    ("name", "render"),
    [("report-2026-11.html", render_html), ("report-2026-11.json", json_text)],
)
def test_rendered_output_matches_the_golden_file(name: str, render: Callable[[Report], str]) -> None:
    text = render(sample_report())
    path = GOLDEN / name
    if os.environ.get("PMSYNC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff_at = next(
            (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b),
            min(len(text), len(expected)),
        )
        pytest.fail(
            f"{name} differs from the golden file near character {diff_at}: "
            f"{text[max(0, diff_at - 80) : diff_at + 80]!r}; "
            "regenerate with PMSYNC_UPDATE_GOLDEN=1 if intended"
        )
