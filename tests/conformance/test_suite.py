"""The conformance suite itself: a connector that keeps every guarantee passes it; one that breaks a
guarantee fails exactly the check for it, with a message that says what went wrong. And every
built-in connector is run through the suite somewhere in this repository's tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pmsync.connector import BUILTIN_CONNECTORS
from pmsync.testing import CHECKS, ConformanceError, Scenario, check_connector
from pmsync.testing.conformance import run_check

TESTS = Path(__file__).resolve().parents[1]
ITEMS = {f"I{n}": f"Item {n}" for n in range(1, 8)}


def faulty(tmp_path: Path, fault: str) -> Scenario:
    data = tmp_path / "items.json"
    data.write_text(json.dumps({"items": ITEMS}))
    return Scenario(
        source={"type": "conformance.faulty:FaultyConnector", "path": "items.json", "fault": fault},
        folder=tmp_path,
        spoil=lambda: data.write_text(json.dumps({"items": ITEMS, "bad": True})),
        restore=lambda: data.write_text(json.dumps({"items": ITEMS})),
    )


def test_a_connector_that_keeps_the_guarantees_passes_every_check(tmp_path: Path) -> None:
    assert check_connector(faulty(tmp_path, "none")) == list(CHECKS)


@pytest.mark.parametrize(
    ("fault", "check", "message"),
    [
        ("set_cursor", "cursor_is_json", "not JSON"),
        ("frozen_cursor", "checkpoints_advance", "left the cursor at"),
        ("re_emit", "checkpoints_advance", "yielded again"),
        ("changing", "second_run_unchanged", "7 updated"),
        ("wide_sweep", "snapshot_keeps_its_scope", "deleted a record of scope"),
        ("raw_error", "bad_input_is_pmsync_error", "raised ValueError, not a PmsyncError"),
        ("early_checkpoint", "kill_safe", "the store differs"),
    ],
)
def test_a_broken_guarantee_fails_its_check(tmp_path: Path, fault: str, check: str, message: str) -> None:
    with pytest.raises(ConformanceError, match=message):
        run_check(check, faulty(tmp_path, fault))


def test_check_connector_lists_every_failure(tmp_path: Path) -> None:
    with pytest.raises(ConformanceError) as caught:
        check_connector(faulty(tmp_path, "frozen_cursor"), ["cursor_is_json", "checkpoints_advance"])
    assert str(caught.value).startswith("checkpoints_advance: the first run stored 7 records")


def test_without_a_way_to_spoil_the_input_the_bad_input_check_is_left_out(tmp_path: Path) -> None:
    scenario = faulty(tmp_path, "none")
    scenario.spoil = None
    assert "bad_input_is_pmsync_error" not in check_connector(scenario)


def test_every_builtin_connector_runs_the_suite() -> None:
    tested = set()
    for path in TESTS.rglob("test_*_conformance.py"):
        tested.update(re.findall(r'"type": "(\w+)"', path.read_text(encoding="utf-8")))
    assert sorted(set(BUILTIN_CONNECTORS) - tested) == []
