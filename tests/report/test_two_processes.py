"""A portfolio measured on two cores gives the report one process gives (reconcile/two_processes.py).

Six projects, the threshold lowered to two so that the last three are measured in a forked child.
The first half's schedule was synced in October and November; the second half's comes from another
source first synced on December 3, after the November status date (a later snapshot the report must
name), with a ledger only the measures read. The views' notes (records read, late snapshots) after
a split are those of one process reading everything. Both dialects: the child opens its own
connections to the same SQLite file or PostgreSQL database.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, event

from pmsync import clock
from pmsync.config import PmsyncConfig, ProjectConfig, load_config
from pmsync.errors import ReconcileError
from pmsync.forked import ChildTraceback, can_fork
from pmsync.model import CostLine, Project, Record, SourceRef, WorkItem
from pmsync.reconcile import two_processes
from pmsync.reconcile.measures import measure_project
from pmsync.reconcile.portfolio import MeasureProject
from pmsync.reconcile.results import ProjectMeasures
from pmsync.report.build import build_report
from pmsync.report.model import Report
from pmsync.report.period import Period
from pmsync.store import Store, totals

pytestmark = pytest.mark.skipif(not can_fork(), reason="the second half is measured in a forked process")

KEYS = ("A", "B", "C", "D", "E", "F")
BUILT_AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
NOVEMBER = Period(2026, 11)


def _schedule(system: str, key: str, progress: float, code: str | None = None) -> list[Record]:
    def ref(ident: str) -> SourceRef:
        return SourceRef(system=system, instance=system, external_id=f"{key}/{ident}")

    return [
        Project(source=ref("p"), project=key, key=key, name=f"Project {key}"),
        WorkItem(
            source=ref("build"),
            project=key,
            name="Build",
            start=date(2026, 9, 1),
            finish=date(2027, 1, 29),
            cost=Decimal(300_000),
            percent_complete=progress,
            status_category="in_progress",
            links={"finance": code} if code else {},
        ),  # fmt: skip
        WorkItem(
            source=ref("live"),
            project=key,
            name="Go-live",
            kind="milestone",
            start=date(2027, 2, 1),
            finish=date(2027, 2, 1),
        ),  # fmt: skip
    ]


def _ledger(key: str) -> list[Record]:
    def line(ident: str, kind: str, amount: int, day: date) -> CostLine:
        return CostLine(
            source=SourceRef(system="finance_file", instance="ledger", external_id=f"{key}/{ident}"),
            project=key, kind=kind, amount=Decimal(amount), period=day.replace(day=1), posting_date=day,
            task_code=f"{key}-BUILD",
        )  # fmt: skip

    return [
        line("b", "budget", 500_000, date(2026, 7, 1)),
        line("a9", "actual", 90_000, date(2026, 9, 30)),
        line("a10", "actual", 110_000, date(2026, 10, 31)),
    ]


def _sync(
    store: Store, source: str, records: list[Record], at: datetime, source_type: str = "msproject"
) -> None:
    clock.set_now(at)
    with store.writer(source) as writer:
        writer.start_run(source_type, {})
        counts = writer.upsert(records)
        writer.finish_run("ok", counts=counts, cursor_after={})


@pytest.fixture
def portfolio(store_url: str, tmp_path: Path) -> Iterator[PmsyncConfig]:
    raw = {
        "store": {"url": store_url},
        "portfolio": {"name": "Two halves"},
        "projects": [
            {
                "key": key,
                "name": f"Project {key}",
                "approved_budget": "500000",
                "links": {("plan-early" if key in KEYS[:3] else "plan-late"): [key]},
            }
            for key in KEYS
        ],  # fmt: skip
        "sources": [
            {"name": "plan-early", "type": "msproject", "path": "early.xml"},
            {"name": "plan-late", "type": "msproject", "path": "late.xml"},
            {
                "name": "ledger",
                "type": "finance_file",
                "path": "ledger.csv",
                "mapping": "finance-oracle-ebs.yaml",
            },
        ],
    }
    path = tmp_path / "pmsync.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    config = load_config(path)
    with Store.open(store_url) as store:
        for at, progress in (
            (datetime(2026, 10, 20, tzinfo=UTC), 20.0),
            (datetime(2026, 11, 20, tzinfo=UTC), 45.0),
        ):
            _sync(
                store,
                "plan-early",
                [r for k in KEYS[:3] for r in _schedule("msproject", k, progress, f"{k}-BUILD")],
                at,
            )
        # linked to the ledger by a task code: its spend by task code is read as the projects are measured
        late = [r for k in KEYS[3:] for r in _schedule("msproject-late", k, 50.0, f"{k}-BUILD")]
        _sync(store, "plan-late", late, datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
        # the second half's money: only the measures read it (as totals), in the child
        ledger = [r for k in KEYS[3:] for r in _ledger(k)]
        _sync(store, "ledger", ledger, datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "finance_file")
    clock.set_now(BUILT_AT)
    try:
        yield config
    finally:
        clock.set_now(None)


def _report(
    config: PmsyncConfig, split_from: int, monkeypatch: pytest.MonkeyPatch, **kwargs: object
) -> Report:
    monkeypatch.setattr(two_processes, "SPLIT_FROM_PROJECTS", split_from)
    with Store.open(config.store_url()) as store:
        return build_report(store, config, NOVEMBER, **kwargs)  # type: ignore[arg-type]


def test_two_processes_build_the_report_one_process_builds(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    split = _report(portfolio, 2, monkeypatch)
    alone = _report(portfolio, 10**6, monkeypatch)
    assert split.model_dump() == alone.model_dump()
    # what only the child's reads noted reached the report: the late snapshot, and that D-F have data
    assert not [gap for gap in split.meta.gaps if gap.project in KEYS[3:]]
    late = next(s for s in split.projects if s.key == "E")
    freshness = {f.source: f for f in late.freshness}
    assert "after the status date" in freshness["plan-late"].note
    assert [s.key for s in split.projects] == [s.key for s in alone.projects]


def test_a_late_snapshot_read_before_the_fork_is_named_in_the_childs_sections_too(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # D-F's narratives come from a file, so building their sections (in the child) reads nothing of
    # plan-late, whose only snapshot came after the status date: the measures (read before the
    # sections) met it, and each section's freshness must still name it as one process's does
    assert portfolio.path is not None
    (portfolio.path.parent / "narrative-2026-11.md").write_text("On track.", encoding="utf-8")
    raw = yaml.safe_load(portfolio.path.read_text(encoding="utf-8"))
    for project in raw["projects"][3:]:
        project["narrative_file"] = "narrative-{period}.md"
    portfolio.path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    config = load_config(portfolio.path)
    split, alone = _report(config, 2, monkeypatch), _report(config, 10**6, monkeypatch)
    notes = {s.key: {f.source: f.note for f in s.freshness} for s in split.projects}
    assert all("after the status date" in notes[key]["plan-late"] for key in KEYS[3:])
    assert split.model_dump() == alone.model_dump()


def test_a_child_may_sum_a_large_ledger_in_two_halves_itself(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The spend by task code is read at the first project that links a task code, in the child here;
    # on a ledger big enough it is summed in two halves, a fork from the forked child (multiprocessing
    # refuses that to a daemon process: the report failed).
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    split = _report(portfolio, 2, monkeypatch)
    alone = _report(portfolio, 10**6, monkeypatch)
    assert split.model_dump() == alone.model_dump()
    spent = next(s for s in split.projects if s.key == "F").measures.cost.actual_to_date
    assert spent == Decimal(200_000)


def test_the_ledger_is_scanned_once_not_once_per_process(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The totals the measures ask for are read before the fork: a child reading them for itself
    # would read the ledger (its kept totals, or its lines) again, and projects of both halves link
    # task codes here, so each half would read the spend by task code. Statements are written to a
    # file, which the child appends to as well.
    log = tmp_path / "scans.log"

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "cost_rows" in statement or "FROM cost_deltas" in statement:
            with log.open("a", encoding="utf-8") as out:
                out.write(f"{os.getpid()}\n")

    def scans(split_from: int) -> list[str]:
        log.write_text("", encoding="utf-8")
        event.listen(Engine, "before_cursor_execute", record)
        try:
            _report(portfolio, split_from, monkeypatch)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        return log.read_text(encoding="utf-8").split()

    alone, split = scans(10**6), scans(2)
    assert set(split) == {str(os.getpid())}, "the child scanned the ledger for itself"
    assert 0 < len(split) <= len(alone)


def _measuring_but(key: str, misbehave: Callable[[], ProjectMeasures]) -> MeasureProject:
    """measure_project, except for project ``key``: ``misbehave()`` instead."""

    def measure(
        store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
    ) -> ProjectMeasures:
        if project.key == key:
            return misbehave()
        return measure_project(store, project, status_date, as_of=as_of)

    return measure


def _no_finish() -> ProjectMeasures:
    raise ReconcileError("the schedule has no finish", source="plan-early")


def _a_loop() -> ProjectMeasures:
    raise ReconcileError("the schedule has a loop", source="plan-late", hint="fix the plan")


def _keyerror_in_the_child() -> ProjectMeasures:
    return {}["no such figure"]  # type: ignore[no-any-return]


class _Unpicklable(Exception):
    def __init__(self, text: str, handle: object) -> None:
        super().__init__(text)
        self.handle = handle


def _unpicklable() -> ProjectMeasures:
    raise _Unpicklable("bad state", handle=lambda: None)


def _killed() -> ProjectMeasures:
    os._exit(3)  # what the kernel's OOM killer leaves: no word, no traceback


def test_an_error_in_this_processs_half_stops_the_child(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ReconcileError) as info:
        _report(portfolio, 2, monkeypatch, measure=_measuring_but("B", _no_finish))
    assert (info.value.source, info.value.record) == ("plan-early", "project B")
    assert multiprocessing.active_children() == [], "the measuring child outlived the report"


def test_a_bug_in_the_child_shows_where_it_happened(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what `pmsync -v` prints for a bug report: the child's own traceback, as the error's cause
    with pytest.raises(KeyError) as info:
        _report(portfolio, 2, monkeypatch, measure=_measuring_but("E", _keyerror_in_the_child))
    cause = info.value.__cause__
    assert isinstance(cause, ChildTraceback)
    assert "_keyerror_in_the_child" in str(cause) and "KeyError: 'no such figure'" in str(cause)


def _in_a_daemon(split_from: int, answers: Any) -> None:
    two_processes.SPLIT_FROM_PROJECTS = split_from
    try:
        answers.put(two_processes.each_in_two_processes([1, 2, 3, 4], lambda n: (n, os.getpid()), []))
    except BaseException as exc:
        answers.put(repr(exc))


def test_inside_a_daemon_process_everything_is_measured_in_it() -> None:
    # a multiprocessing.Pool worker (a daemon) may not have children: it measures alone, not fails
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    worker = context.Process(target=_in_a_daemon, args=(1, answers), daemon=True)
    worker.start()
    found = answers.get(timeout=60)
    worker.join(timeout=60)
    assert isinstance(found, list), found
    assert [n for n, _ in found] == [1, 2, 3, 4]
    assert {pid for _, pid in found} == {worker.pid}


def test_when_the_system_refuses_to_fork_one_process_measures_everything(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    def refused(self: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refused)
    monkeypatch.setattr(two_processes, "SPLIT_FROM_PROJECTS", 1)
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store, caplog.at_level(logging.INFO):
        found = two_processes.each_in_two_processes([1, 2, 3, 4], lambda n: (n, os.getpid()), [store])
    assert found == [(n, os.getpid()) for n in (1, 2, 3, 4)]
    assert "measuring in one process: [Errno 11] cannot fork: Resource temporarily unavailable" in caplog.text


def _pid_noted(
    store: Store, project: ProjectConfig, status_date: date, *, as_of: datetime
) -> ProjectMeasures:
    measures = measure_project(store, project, status_date, as_of=as_of)
    return measures.model_copy(update={"notes": [*measures.notes, f"measured by process {os.getpid()}"]})


def test_the_second_half_is_measured_in_another_process(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _report(portfolio, 2, monkeypatch, measure=_pid_noted)
    by = {s.key: next(n for n in s.measures.notes if n.startswith("measured by")) for s in report.projects}
    here = f"measured by process {os.getpid()}"
    assert [by[k] == here for k in KEYS] == [True, True, True, False, False, False]


def test_an_error_in_the_child_arrives_whole(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ReconcileError) as info:
        _report(portfolio, 2, monkeypatch, measure=_measuring_but("E", _a_loop))
    error = info.value
    assert (str(error.args[0]), error.source, error.record, error.hint) == (
        "the schedule has a loop",
        "plan-late",
        "project E",
        "fix the plan",
    )


def test_an_error_that_cannot_travel_is_named_with_its_type(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(
        ReconcileError, match="measuring half of the projects failed: _Unpicklable: bad state"
    ):
        _report(portfolio, 2, monkeypatch, measure=_measuring_but("F", _unpicklable))


def test_a_child_that_dies_is_a_clear_error_not_a_hang(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ReconcileError, match=r"died before it finished \(exit code 3\)") as info:
        _report(portfolio, 2, monkeypatch, measure=_measuring_but("D", _killed))
    assert info.value.hint is not None and "memory" in info.value.hint


def test_an_in_memory_store_is_measured_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # the child could not open it: it lives in this process's one connection
    with Store.open("sqlite://") as store:
        assert not store.readable_from_a_fork
    monkeypatch.setattr(two_processes, "SPLIT_FROM_PROJECTS", 1)
    with Store.open("sqlite://") as store:
        pids = two_processes.each_in_two_processes([1, 2, 3, 4], lambda _: os.getpid(), [store])
    assert pids == [os.getpid()] * 4


def test_what_the_childs_reads_noted_is_noted_here_too(
    portfolio: PmsyncConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a report states what its reads noted (records read per project and source, late snapshots):
    # after a split the views hold the same notes as after one process read everything
    def noted(split_from: int) -> tuple[dict[tuple[str | None, str], int], dict[str, datetime]]:
        monkeypatch.setattr(two_processes, "SPLIT_FROM_PROJECTS", split_from)
        with Store.open(portfolio.store_url()) as store:
            view = store.at(
                known_at=BUILT_AT,
                valid_at=datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
                valid_on=date(2026, 11, 30),
            )
            # read before the split (the ledger's totals are): noted once, not again by the child
            assert len(list(view.iter_records(WorkItem, project="E"))) == 2
            counts = two_processes.each_in_two_processes(
                list(KEYS), lambda key: len(list(view.iter_records(WorkItem, project=key))), [view]
            )
            assert counts == [2] * len(KEYS)
            assert view.valid_time is not None
            return dict(view.valid_time.notes.records), dict(view.valid_time.notes.snapshot_after)

    split, alone = noted(2), noted(10**6)
    assert split == alone
    assert set(split[0]) == {(k, "plan-early") for k in KEYS[:3]} | {(k, "plan-late") for k in KEYS[3:]}
    assert set(split[1]) == {"plan-late"}
