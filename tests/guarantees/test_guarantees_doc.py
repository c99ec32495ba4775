"""docs/guarantees.md is the reviewer's list of guarantees: every test it names must exist, and every
test in tests/guarantees must be listed there (a guarantee nobody can find is not one)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "guarantees.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_the_table_names_exists() -> None:
    named = NAMED.findall(DOC.read_text(encoding="utf-8"))
    assert len(named) > 40
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in _test_names(ROOT / path)
    ]
    assert missing == []


def test_every_guarantee_test_is_in_the_table() -> None:
    named = set(NAMED.findall(DOC.read_text(encoding="utf-8")))
    here = Path(__file__).resolve().parent
    unlisted = [
        f"{path.relative_to(ROOT)}::{name}"
        for path in sorted(here.glob("test_*.py"))
        if path != Path(__file__).resolve()
        for name in sorted(_test_names(path))
        if (str(path.relative_to(ROOT)), name) not in named
    ]
    assert unlisted == []
