"""The MSPDI generator the demo and benchmarks use: deterministic, exact in size, realistic, and
``advance`` moves a schedule on the way a real one moves (progress, slips, baselines kept)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pmsync.connectors.msproject import read_mspdi
from pmsync.connectors.msproject.mapping import MSProjectMapping
from pmsync.connectors.msproject.records import FileIdentity, ScheduleRecords

from pmsync.model import BaselineItem, WorkItem
from pmsync.sandbox.mspdi_gen import ScheduleSpec, advance, main, write_schedule


def _items(path: Path) -> tuple[dict[str, WorkItem], dict[str, BaselineItem]]:
    schedule, _ = read_mspdi(path)
    mapping = MSProjectMapping(links={"jira": ["Jira Key"], "finance": ["Finance Code"]})
    records = list(ScheduleRecords(schedule, FileIdentity("gen", path.name, "ERP"), mapping).records())
    work = {r.source.external_id: r for r in records if isinstance(r, WorkItem)}
    baselines = {r.item: r for r in records if isinstance(r, BaselineItem) and r.baseline_number == 0}
    return work, baselines


def test_the_same_spec_writes_the_same_bytes(tmp_path: Path) -> None:
    spec = ScheduleSpec(tasks=300, seed=11, baselines=(0, 1), weeks_elapsed=4)
    one = write_schedule(spec, tmp_path / "one.xml").read_bytes()
    two = write_schedule(spec, tmp_path / "two.xml").read_bytes()
    assert hashlib.sha256(one).digest() == hashlib.sha256(two).digest()
    other = write_schedule(ScheduleSpec(tasks=300, seed=12), tmp_path / "three.xml").read_bytes()
    assert other != one


@pytest.mark.parametrize("size", [10, 11, 47, 48, 1000])
def test_exactly_the_requested_number_of_rows(tmp_path: Path, size: int) -> None:
    schedule, _ = read_mspdi(write_schedule(ScheduleSpec(tasks=size), tmp_path / "s.xml"))
    assert len(schedule.tasks) == size + 1  # plus the project summary task


def test_sizes_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="10..100000"):
        ScheduleSpec(tasks=9)
    with pytest.raises(ValueError, match="Monday"):
        ScheduleSpec(start=ScheduleSpec().start.replace(day=6))


def test_a_realistic_schedule(tmp_path: Path) -> None:
    work, baselines = _items(write_schedule(ScheduleSpec(tasks=500, baselines=(0, 1)), tmp_path / "s.xml"))
    kinds = [w.kind for w in work.values()]
    assert kinds.count("summary") > 10 and kinds.count("milestone") > 5 and kinds.count("task") > 400
    types = {d.type for w in work.values() for d in w.predecessors}
    assert types == {"FS", "SS"}
    lags = {d.lag_days for w in work.values() for d in w.predecessors}
    assert {0.0, 1.0, 3.0} <= lags
    assert {w.constraint_type for w in work.values()} >= {"ASAP", "SNET", "MSO"}
    tasks = [w for w in work.values() if w.kind == "task"]
    assert sum(1 for t in tasks if t.links.get("jira", "").startswith("ERP-")) > 0.6 * len(tasks)
    assert all(t.links.get("finance", "").startswith("P-100.") for t in tasks)
    assert sum(1 for t in tasks if t.resources) > 0.9 * len(tasks)
    assert all(t.cost is not None for t in tasks)
    assert len(baselines) == len(work)  # every row, summaries included, has a baseline 0
    # summaries roll up their children's dates
    for item in work.values():
        children = [w for w in work.values() if w.parent == item.source.external_id]
        if children:
            assert item.start == min(c.start for c in children if c.start)
            assert item.finish == max(c.finish for c in children if c.finish)


def test_advancing_makes_progress_and_slips_but_keeps_the_baseline(tmp_path: Path) -> None:
    spec = ScheduleSpec(tasks=400, seed=5)
    for week in (0, 8, 16):
        (tmp_path / f"week{week}").mkdir()
    before, base_before = _items(write_schedule(spec, tmp_path / "week0" / "plan.xml"))
    after, base_after = _items(write_schedule(advance(spec, 8), tmp_path / "week8" / "plan.xml"))
    later, _ = _items(write_schedule(advance(spec, 16), tmp_path / "week16" / "plan.xml"))
    assert base_after == base_before  # the approved plan does not move
    assert all(w.percent_complete == 0 for w in before.values())
    done = [w for w in after.values() if w.status_category == "done"]
    assert done and all(w.actual_finish is not None for w in done)
    assert any(w.status_category == "in_progress" for w in after.values())
    for key, item in later.items():
        assert (item.percent_complete or 0) >= (after[key].percent_complete or 0)  # progress never goes back
    slipped = [
        k for k, w in after.items() if w.kind == "task" and w.finish and w.finish > base_after[k].finish
    ]
    assert slipped, "some tasks finish later than baselined"
    ev = [w for w in after.values() if w.kind == "task" and w.bcwp]
    assert ev and all(w.acwp is not None for w in ev)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(tmp_path / "cli.xml"), "--tasks", "25", "--weeks", "2", "--baselines", "0", "3"])
    assert capsys.readouterr().out.strip().endswith("cli.xml")
    schedule, _ = read_mspdi(tmp_path / "cli.xml")
    assert len(schedule.tasks) == 26
    assert {b.number for t in schedule.tasks for b in t.baselines} == {0, 3}
    assert schedule.properties.status_date is not None
