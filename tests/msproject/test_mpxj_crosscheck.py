"""pmsync's native MSPDI reader against MPXJ, the reference reader, on every test file and on generated
schedules: task count, names, outline structure, start/finish, baseline start/finish, cost and baseline
cost, milestones, links. MPXJ's values are read straight from its Java objects here, not through
pmsync's bridge, so the two sides are independent.

Also the MPXJ path for formats pmsync does not parse itself: a project built with MPXJ's API is
written as .mpx (and as MSPDI) and read back through the connector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pmsync.connectors.msproject import read_mspdi

from pmsync.model import BaselineItem, Project, WorkItem
from pmsync.sandbox.mspdi_gen import ScheduleSpec, advance, write_schedule

from .conftest import DATA_FILES, connector, records

pytestmark = pytest.mark.java


@dataclass(frozen=True)
class TaskView:
    name: str
    parent: int | None
    start: date | None
    finish: date | None
    milestone: bool
    summary: bool
    cost: Decimal | None
    percent: float | None
    predecessors: tuple[tuple[int, str, float], ...]
    baselines: tuple[tuple[int, date | None, date | None, Decimal | None], ...]


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value.toString())[:10]) if value is not None else None


def _money(value: Any) -> Decimal | None:
    return (
        Decimal(str(round(float(value.doubleValue()), 2))).quantize(Decimal("0.01"))
        if value is not None
        else None
    )


_TYPES = {"FINISH_START": "FS", "START_START": "SS", "FINISH_FINISH": "FF", "START_FINISH": "SF"}


def mpxj_view(path: Path) -> dict[int, TaskView]:
    """Every non-blank task as MPXJ reads it, by unique ID."""
    import jpype

    project = jpype.JClass("org.mpxj.reader.UniversalProjectReader")().read(str(path))
    props = project.getProjectProperties()
    days = jpype.JClass("org.mpxj.TimeUnit").DAYS
    elapsed_days = jpype.JClass("org.mpxj.TimeUnit").ELAPSED_DAYS
    view: dict[int, TaskView] = {}
    for task in project.getTasks():
        if task.getNull():
            continue
        parent = task.getParentTask()
        links = []
        for relation in task.getPredecessors():
            lag = relation.getLag()
            unit = str(lag.getUnits().toString())
            if unit in ("%", "e%"):
                pred_duration = (
                    relation.getPredecessorTask().getDuration().convertUnits(days, props).getDuration()
                )
                lag_days = float(pred_duration) * float(lag.getDuration()) / 100
            else:
                lag_days = float(
                    lag.convertUnits(elapsed_days if unit.startswith("e") else days, props).getDuration()
                )
            links.append(
                (
                    int(relation.getPredecessorTask().getUniqueID()),
                    _TYPES[str(relation.getType().name())],
                    round(lag_days, 4),
                )
            )
        baselines = []
        for number in range(11):
            args = () if number == 0 else (number,)
            values = (_day(task.getBaselineStart(*args)), _day(task.getBaselineFinish(*args)))
            cost = _money(task.getBaselineCost(*args))
            if values != (None, None) or cost is not None:
                baselines.append((number, *values, cost))
        percent = task.getPercentageComplete()
        view[int(task.getUniqueID())] = TaskView(
            name=str(task.getName()) if task.getName() is not None else "",
            parent=int(parent.getUniqueID()) if parent is not None else None,
            start=_day(task.getStart()),
            finish=_day(task.getFinish()),
            milestone=bool(task.getMilestone()),
            summary=bool(task.getSummary()),
            cost=_money(task.getCost()),
            percent=float(percent.doubleValue()) if percent is not None else None,
            predecessors=tuple(sorted(links)),
            baselines=tuple(baselines),
        )
    return view


def pmsync_view(path: Path, tmp_path: Path) -> dict[int, TaskView]:
    items = records(connector(tmp_path, path=str(path)).extract({}))
    baselines: dict[str, list[BaselineItem]] = {}
    for item in items:
        if isinstance(item, BaselineItem):
            baselines.setdefault(item.item, []).append(item)

    def uid(external_id: str) -> int:
        return int(external_id.rsplit("#", 1)[1])

    view: dict[int, TaskView] = {}
    for item in items:
        if not isinstance(item, WorkItem):
            continue
        mine = sorted(baselines.get(item.source.external_id, []), key=lambda b: b.baseline_number)
        view[uid(item.source.external_id)] = TaskView(
            name=item.name,
            parent=uid(item.parent) if item.parent else None,
            start=item.start,
            finish=item.finish,
            milestone=item.kind == "milestone",
            summary=item.kind == "summary",
            cost=item.cost,
            percent=item.percent_complete,
            predecessors=tuple(sorted((uid(d.predecessor), d.type, d.lag_days) for d in item.predecessors)),
            baselines=tuple(
                (b.baseline_number, b.start, b.finish, b.cost)
                for b in mine
                if (b.start, b.finish) != (None, None) or b.cost is not None
            ),
        )
    return view


def assert_same(mine: dict[int, TaskView], reference: dict[int, TaskView]) -> None:
    assert sorted(mine) == sorted(reference), "task unique IDs differ"
    for uid, ref in reference.items():
        got = mine[uid]
        assert got.name == ref.name, uid
        # MPXJ hangs level-1 tasks under the project summary task (UID 0) when the file has one
        assert got.parent == ref.parent, (uid, got.parent, ref.parent)
        assert (got.start, got.finish) == (ref.start, ref.finish), (uid, ref.name)
        assert got.summary == ref.summary, (uid, ref.name)
        if not ref.summary:
            assert got.milestone == ref.milestone, (uid, ref.name)
        assert (got.cost or Decimal(0)) == (ref.cost or Decimal(0)), (uid, ref.name)
        assert got.percent == ref.percent, (uid, ref.name)
        assert got.predecessors == ref.predecessors, (uid, ref.name)
        ref_baselines = tuple((n, s, f, c if c else None) for n, s, f, c in ref.baselines)
        got_baselines = tuple((n, s, f, c if c else None) for n, s, f, c in got.baselines)
        assert got_baselines == ref_baselines, (uid, ref.name)


@pytest.mark.parametrize("path", DATA_FILES, ids=[p.name for p in DATA_FILES])
def test_hand_made_files_read_as_mpxj_reads_them(path: Path, tmp_path: Path, jvm: None) -> None:
    reference = mpxj_view(path)
    assert reference, "MPXJ read no tasks"
    assert_same(pmsync_view(path, tmp_path), reference)


@pytest.mark.parametrize(
    "spec",
    [
        ScheduleSpec(tasks=10, seed=1),
        ScheduleSpec(tasks=137, seed=2, baselines=(0, 1)),
        advance(ScheduleSpec(tasks=400, seed=3, baselines=(0, 1, 2)), 10),
    ],
    ids=["10-tasks", "137-tasks-2-baselines", "400-tasks-10-weeks-in"],
)
def test_generated_schedules_read_as_mpxj_reads_them(spec: ScheduleSpec, tmp_path: Path, jvm: None) -> None:
    path = write_schedule(spec, tmp_path / "generated.xml")
    reference = mpxj_view(path)
    assert len(reference) == spec.tasks + 1  # and the project summary task
    assert_same(pmsync_view(path, tmp_path), reference)


def test_the_mpxj_path_reads_the_same_records_as_the_native_reader(tmp_path: Path, jvm: None) -> None:
    path = DATA_FILES[0]
    native = records(connector(tmp_path, path=str(path)).extract({}))
    via_mpxj = records(connector(tmp_path, path=str(path), reader="mpxj").extract({}))

    def comparable(items: list[Any]) -> list[dict[str, Any]]:
        # MPXJ computes BCWS/BCWP from timephased data rather than reading them from MSPDI
        return [r.model_dump(exclude={"source_modified", "bcws", "bcwp"}) for r in items]

    assert comparable(via_mpxj) == comparable(native)


def _build_with_mpxj(tmp_path: Path) -> tuple[Path, Path]:
    """A small project built with MPXJ's API, written as .mpx and as MSPDI."""
    import jpype

    jclass = jpype.JClass
    at = jclass("java.time.LocalDateTime").of
    duration = jclass("org.mpxj.Duration").getInstance
    days = jclass("org.mpxj.TimeUnit").DAYS
    money = jclass("java.lang.Double")
    project = jclass("org.mpxj.ProjectFile")()
    project.getProjectProperties().setProjectTitle("Data centre exit")
    project.setDefaultCalendar(project.addDefaultBaseCalendar())
    phase = project.addTask()
    phase.setName("Migration")
    phase.setStart(at(2026, 1, 5, 8, 0))
    phase.setFinish(at(2026, 1, 16, 17, 0))
    phase.setDuration(duration(10, days))
    inventory = phase.addTask()
    inventory.setName("Inventory")
    inventory.setStart(at(2026, 1, 5, 8, 0))
    inventory.setFinish(at(2026, 1, 9, 17, 0))
    inventory.setDuration(duration(5, days))
    inventory.setCost(money(4000.0))
    inventory.setBaselineStart(at(2026, 1, 5, 8, 0))
    inventory.setBaselineFinish(at(2026, 1, 8, 17, 0))
    inventory.setBaselineCost(money(3500.0))
    move = phase.addTask()
    move.setName("Move racks")
    move.setStart(at(2026, 1, 12, 8, 0))
    move.setFinish(at(2026, 1, 16, 17, 0))
    move.setDuration(duration(5, days))
    relation = jclass("org.mpxj.Relation$Builder")().predecessorTask(inventory)
    move.addPredecessor(relation.type(jclass("org.mpxj.RelationType").FINISH_START).lag(duration(0, days)))
    done = phase.addTask()
    done.setName("Exit complete")
    done.setMilestone(True)
    done.setStart(at(2026, 1, 16, 17, 0))
    done.setFinish(at(2026, 1, 16, 17, 0))
    done.setDuration(duration(0, days))
    writer = jclass("org.mpxj.writer.UniversalProjectWriter")
    formats = jclass("org.mpxj.writer.FileFormat")
    mpx, xml = tmp_path / "dc-exit.mpx", tmp_path / "dc-exit.xml"
    writer(formats.MPX).write(project, str(mpx))
    writer(formats.MSPDI).write(project, str(xml))
    return mpx, xml


def test_an_mpx_file_goes_through_mpxj(tmp_path: Path, jvm: None) -> None:
    mpx, xml = _build_with_mpxj(tmp_path)
    folder = tmp_path / "schedules"
    folder.mkdir()
    mpx.rename(folder / mpx.name)
    items = records(connector(tmp_path, path="schedules").extract({}))
    [project] = [r for r in items if isinstance(r, Project)]
    assert (project.name, project.key) == ("Data centre exit", "dc-exit")
    work = {r.name: r for r in items if isinstance(r, WorkItem)}
    assert list(work) == ["Migration", "Inventory", "Move racks", "Exit complete"]
    assert work["Inventory"].parent == work["Migration"].source.external_id
    assert (work["Inventory"].start, work["Inventory"].finish) == (date(2026, 1, 5), date(2026, 1, 9))
    assert work["Inventory"].cost == Decimal("4000.00")
    assert work["Exit complete"].kind == "milestone" and work["Migration"].kind == "summary"
    assert [d.predecessor for d in work["Move racks"].predecessors] == [work["Inventory"].source.external_id]
    [baseline] = [r for r in items if isinstance(r, BaselineItem)]
    assert (baseline.finish, baseline.cost) == (date(2026, 1, 8), Decimal("3500.00"))

    # the MSPDI MPXJ wrote from the same project reads natively to the same tasks
    schedule, _ = read_mspdi(xml)
    assert [t.name for t in schedule.tasks] == ["Migration", "Inventory", "Move racks", "Exit complete"]
    assert_same(pmsync_view(xml, tmp_path), mpxj_view(xml))


def test_a_file_mpxj_cannot_read_is_a_source_data_error(tmp_path: Path, jvm: None) -> None:
    from pmsync.errors import SourceDataError

    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "broken.mpp").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(SourceDataError, match="broken.mpp"):
        list(connector(tmp_path, path="schedules").extract({}))
