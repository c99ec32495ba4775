"""docs/bench.md says what every benchmark stage measures: a stage added to bench/ without a line
there fails here, and so does a line naming a stage that no longer exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bench.md"


def _stage_titles() -> set[str]:
    """Titles of the STAGES lists in bench/stages_*.py (first element of each tuple), read from the
    source so that the test needs none of the stages' optional dependencies."""
    titles = set()
    for path in sorted((ROOT / "bench").glob("stages_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = node.target if isinstance(node, ast.AugAssign | ast.AnnAssign) else None
            targets = node.targets if isinstance(node, ast.Assign) else [target] if target else []
            if not any(isinstance(t, ast.Name) and t.id == "STAGES" for t in targets):
                continue
            value = node.value
            assert isinstance(value, ast.List), f"{path.name}: STAGES is not a list literal"
            for entry in value.elts:
                assert isinstance(entry, ast.Tuple)
                first = entry.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    titles.add(first.value)
                else:  # a title kept in a constant of the same module
                    titles.add(_constant(path, first))
    return titles


def _constant(path: Path, node: ast.expr) -> str:
    name = node.id if isinstance(node, ast.Name) else ast.unparse(node)
    for found in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [t.id for t in found.targets if isinstance(t, ast.Name)] if isinstance(found, ast.Assign) else []
        )
        if name in names and isinstance(found.value, ast.Constant) and isinstance(found.value.value, str):
            return found.value.value
    raise AssertionError(f"{path.name}: cannot read the stage title {name}")


def test_every_stage_is_described_and_every_description_is_a_stage() -> None:
    listed = set(re.findall(r"^\| `([^`]+)` \|", DOC.read_text(encoding="utf-8"), flags=re.M))
    stages = _stage_titles()
    assert len(stages) > 40
    assert sorted(stages - listed) == []  # stages nobody documented
    assert sorted(listed - stages) == []  # documented stages that are gone
