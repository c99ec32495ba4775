"""Project Online was retired on 2026-09-30: the Microsoft docs say so once, with the migration paths,
and cite it nowhere else as a source."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def test_the_retirement_note_gives_both_migration_paths():
    text = (DOCS / "microsoft.md").read_text(encoding="utf-8")
    start = text.index("## Project Online was retired (30 September 2026)")
    note = text[start : text.index("\n## ", start + 1)]
    assert "`type: msproject`" in note and ".mpp" in note and "MSPDI" in note
    assert "`type: dataverse`" in note and "Planner (premium plans)" in note


def test_no_other_microsoft_doc_cites_project_online_as_a_source():
    for name in ("microsoft.md", "msproject.md", "publish.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        if name == "microsoft.md":
            start = text.index("## Project Online was retired")
            text = text[:start] + text[text.index("\n## ", start + 1) :]
        assert "Project Online" not in text, name
