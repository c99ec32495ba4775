"""Cost totals (``Store.cost_totals``) on SQLite and PostgreSQL: the ledger summed by the database gives
every figure the lines give, to the cent, now, at past moments and through valid-time views; the few
lines an exception names, and the lines that changed between two reports, are read exactly."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from pmsync import clock
from pmsync.connector import Deleted
from pmsync.cpus import usable_cpus
from pmsync.errors import StoreError
from pmsync.model import CostLine, SourceRef, WorkItem
from pmsync.reconcile.restatements import Restatement, restatements, restatements_by_project
from pmsync.store import CostTotal, Store, as_totals, cost_deltas, totals, two_halves
from pmsync.store.totals import KEY_SETS, KINDS, TotalsBy, grouped_totals

from .helpers import one_cpu

OCT = datetime(2026, 10, 20, 8, tzinfo=UTC)
NOV = datetime(2026, 11, 20, 8, tzinfo=UTC)
DEC = datetime(2026, 12, 2, 9, tzinfo=UTC)
VENDORS = ("Acme", "Globex", None)
LINE_KINDS = ("actual", "actual", "actual", "commitment", "budget", "forecast")


def line(n: int, amount: str, day: date, *, project: str | None = "ERP", **fields: object) -> CostLine:
    values: dict[str, object] = {
        "kind": LINE_KINDS[n % len(LINE_KINDS)],
        "category": ("Labour", "Software")[n % 2],
        "vendor": VENDORS[n % 3],
        "po_number": f"PO-{n % 4}" if n % 3 != 2 else None,
        "account": f"61{n % 2}0",
        "task_code": f"ERP.{n % 5}",
        "project_code": "P-100" if project else "P-999",
        "fiscal_year": day.year + (1 if day.month >= 7 else 0),
        "fiscal_period": (day.month - 7) % 12 + 1,
    }
    values.update(fields)
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"L{n}"),
        project=project,
        amount=Decimal(amount),
        period=day.replace(day=1),
        posting_date=day,
        **values,
    )


def ledger() -> list[CostLine]:
    """Several kinds, vendors, POs, fiscal years, credits, cents, and an unowned code."""
    lines = [
        line(n, f"{(n * 37) % 1000}.{n % 100:02d}", date(2026, 5 + n % 7, 1 + n % 28)) for n in range(60)
    ]
    lines += [
        line(100, "-250.10", date(2026, 9, 3)),  # a credit
        line(101, "0.10", date(2026, 9, 3)),
        line(102, "0.20", date(2026, 9, 3)),  # 0.1 + 0.2 must be 0.30, not a float's 0.30000000000000004
        line(103, "12345678901.23", date(2026, 8, 14), kind="actual"),
        line(104, "500.00", date(2026, 10, 2), project=None, kind="actual"),
        line(105, "75.00", date(2026, 10, 9), project="GONE", kind="commitment"),
        line(106, "19.99", date(2026, 11, 25), kind="actual"),  # after a November status date
    ]
    return lines


def write(store: Store, moment: datetime, lines: Iterable[CostLine], deleted: Iterable[str] = ()) -> None:
    clock.set_now(moment)
    with store.writer("finance") as writer:
        writer.upsert(list(lines))
        gone = [
            Deleted("cost_line", SourceRef(system="finance_file", instance="ledger", external_id=x))
            for x in deleted
        ]
        if gone:
            writer.mark_deleted(gone)


@pytest.fixture
def corrected(store: Store) -> Store:
    """October's load; in November, corrections (amounts, dates, a move to another project), new
    lines and deletions."""
    write(store, OCT, ledger())
    write(
        store,
        NOV,
        [
            line(1, "999.99", date(2026, 6, 2)),  # amount corrected
            line(2, "12.00", date(2026, 10, 31)),  # moved to another month
            line(7, "40.00", date(2026, 6, 8), project="CRM"),  # moved to another project
            line(200, "310.00", date(2026, 9, 15), kind="actual"),  # added, back-dated
            line(201, "-80.00", date(2026, 11, 2), kind="actual"),
        ],
        deleted=["L12", "L18"],
    )
    return store


PURPOSES: tuple[TotalsBy, ...] = ("period", "task_code", "spend")


def figures(
    totals: Iterable[CostTotal], by: TotalsBy, cutoffs: tuple[date, ...] = ()
) -> Counter[tuple[object, ...]]:
    """Totals as a purpose's figures see them: its fields, the date (exact, or with ``cutoffs`` its
    month and side of each cut-off) and, for periods, the period's month; summed amount and lines."""
    fields = [f for f in KEY_SETS[by] if "." not in f and f not in ("created_at", "history")]
    sums: Counter[tuple[object, ...]] = Counter()
    counts: Counter[tuple[object, ...]] = Counter()
    for t in totals:
        if KINDS[by] is not None and t.kind not in KINDS[by]:
            continue
        day = t.day
        when: object = day
        if cutoffs and day is not None:  # periods by month; every purpose by side of each status date
            when = ((day.replace(day=1),) if by == "period" else ()) + tuple(day <= c for c in cutoffs)
        month = t.period or t.posting_date
        key = (t.project, t.system, t.instance, *(getattr(t, f) for f in fields), when)
        if by == "period":
            key += (month.replace(day=1) if month else None,)
        sums[key] += t.amount
        counts[key] += t.lines
    return Counter({(*k, "amount", v): 1 for k, v in sums.items()}) + Counter(
        {(*k, "lines", v): 1 for k, v in counts.items()}
    )


@pytest.mark.parametrize("by", PURPOSES)
@pytest.mark.parametrize("moment", [None, OCT, NOV, DEC, datetime(2026, 11, 1, tzinfo=UTC)])
@pytest.mark.parametrize("project", ["ERP", "CRM", None])
def test_totals_equal_the_lines_now_and_at_past_moments(
    corrected: Store, moment: datetime | None, project: str | None, by: TotalsBy
) -> None:
    lines = as_totals(corrected.iter_records(CostLine, project=project, as_of=moment))
    assert figures(corrected.cost_totals(project, as_of=moment, by=by), by) == figures(lines, by)


def test_a_past_report_sees_a_corrected_line_at_its_old_amount(corrected: Store) -> None:
    def actual_to_date(moment: datetime) -> Decimal:
        return sum(
            (t.amount for t in corrected.cost_totals("ERP", as_of=moment) if t.kind == "actual"), Decimal(0)
        )

    old = {x.source.external_id: x.amount for x in ledger() if x.kind == "actual"}
    # L1 and L2 corrected, L7 moved to CRM, L12 and L18 deleted, L200 and L201 added
    change = (
        Decimal("999.99") - old["L1"] + Decimal("12.00") - old["L2"] - old["L7"] - old["L12"] - old["L18"]
    )
    change += Decimal("310.00") - Decimal("80.00")
    assert actual_to_date(DEC) - actual_to_date(OCT) == change
    assert actual_to_date(NOV - timedelta(seconds=1)) == actual_to_date(OCT)


def test_amounts_are_exact_decimals_on_both_databases(store: Store) -> None:
    same = {"kind": "actual", "category": "Labour", "vendor": "Acme", "po_number": "PO-1", "account": "6100"}
    same["task_code"] = "ERP.1"
    write(store, OCT, [line(n, amount, date(2026, 9, 3), **same) for n, amount in ((1, "0.10"), (2, "0.20"))])
    write(store, OCT, [line(105, "12345678901.23", date(2026, 9, 3), kind="budget")])
    for by in PURPOSES:
        [both] = [t for t in store.cost_totals("ERP", by=by) if t.lines == 2]
        assert (both.amount, type(both.amount)) == (Decimal("0.30"), Decimal)
    assert [t.amount for t in store.cost_totals("ERP") if t.kind == "budget"] == [Decimal("12345678901.23")]


def view(store: Store, known_at: datetime, valid_on: date) -> Store:
    return store.at(
        known_at=known_at, valid_at=datetime.combine(valid_on, time.max, tzinfo=UTC), valid_on=valid_on
    )


@pytest.mark.parametrize("by", PURPOSES)
@pytest.mark.parametrize("valid_on", [date(2026, 9, 30), date(2026, 10, 15), date(2026, 11, 30)])
@pytest.mark.parametrize("known_at", [OCT, NOV, DEC])
def test_a_views_totals_equal_its_lines(
    corrected: Store, valid_on: date, known_at: datetime, by: TotalsBy
) -> None:
    lines = as_totals(view(corrected, known_at, valid_on).iter_records(CostLine))
    totals = view(corrected, known_at, valid_on).cost_totals(by=by)
    assert figures(totals, by, (valid_on,)) == figures(lines, by, (valid_on,))
    # a total's date is its earliest line's: in the month, on the same side of the status date
    if by == "period":
        assert any(t.lines > 1 for t in totals)


@pytest.mark.parametrize("together", [(), PURPOSES, ("spend", "period")], ids=["alone", "all", "two"])
@pytest.mark.parametrize("by", PURPOSES)
def test_two_views_read_in_one_scan_get_what_their_lines_give(
    corrected: Store, by: TotalsBy, together: tuple[TotalsBy, ...]
) -> None:
    """Alone, or read in the same scan as other purposes (what a report does for period and spend
    figures), each purpose's totals are what the lines give."""
    cutoffs = (date(2026, 10, 31), date(2026, 11, 30))
    now, before = view(corrected, DEC, cutoffs[1]), view(corrected, NOV, cutoffs[0])
    now.load_cost_totals(before, together=together)
    for read, known_at, valid_on in ((now, DEC, cutoffs[1]), (before, NOV, cutoffs[0])):
        # every line as the view reads it (its latest version, whichever project that puts it in)
        lines = as_totals(view(corrected, known_at, valid_on).iter_records(CostLine))
        for key in ("ERP", "CRM", "GONE"):
            mine = [x for x in lines if x.project == key]
            assert figures(read.cost_totals(key, by=by), by, cutoffs) == figures(mine, by, cutoffs)
        assert figures(read.cost_totals(by=by), by, cutoffs) == figures(lines, by, cutoffs)
    # the view counts what each project got from the finance source (the report's data gaps), once
    now.cost_totals(by="period")
    alone = view(corrected, DEC, cutoffs[1])
    alone.cost_totals(by="period")
    assert now.valid_time is not None and alone.valid_time is not None
    assert now.valid_time.notes.records == alone.valid_time.notes.records
    assert now.valid_time.notes.records[("ERP", "finance")] > 0


def _ledger_scans(store: Store) -> list[str]:
    """The statements that read the ledger for totals (its lines, or the totals the writer keeps),
    recorded from now on."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "cost_rows" in statement or "FROM cost_deltas" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return seen


def test_the_purposes_read_together_come_from_one_scan(corrected: Store) -> None:
    cutoffs = (date(2026, 10, 31), date(2026, 11, 30))
    now, before = view(corrected, DEC, cutoffs[1]), view(corrected, NOV, cutoffs[0])
    now.load_cost_totals(before, together=("period", "spend"))
    scans = _ledger_scans(corrected)
    before.cost_totals("ERP", by="spend")
    now.cost_totals("ERP", by="period")
    before.cost_totals("CRM", by="period")
    assert len(scans) == 1
    now.cost_totals("ERP", by="task_code")  # not announced: a scan of its own when asked for
    assert len(scans) == 2


def test_a_large_ledger_summed_in_two_processes_gives_one_scans_totals_in_its_order(
    corrected: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a SQLite file, a ledger of ``SPLIT_FROM_LINES`` lines or more is summed in two halves of its
    projects at once, one in a forked process (here every ledger counts as large). The report must
    not tell the difference: same totals, same order, lines of no project included. PostgreSQL
    reads in one scan, and so does a read of the current state (a sync could commit between two).
    A read with status dates (a report's views) reads the totals the writer keeps, not the lines."""
    cases: list[tuple[list[datetime | None], tuple[TotalsBy, ...], list[date]]] = [
        ([DEC, NOV], PURPOSES, [date(2026, 10, 31), date(2026, 11, 30)]),
        ([NOV], ("spend",), []),
        ([None], ("period", "task_code"), []),
    ]
    scans = _ledger_scans(corrected)
    one_scan = [list(grouped_totals(corrected.engine, m, by=by, cutoffs=c)) for m, by, c in cases]
    assert not any("project >=" in statement for statement in scans)  # small: below SPLIT_FROM_LINES
    assert any(g.total.project is None for g in one_scan[0])  # the unowned line is in a half too
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    scans.clear()
    for (m, by, c), expected in zip(cases, one_scan, strict=True):
        assert list(grouped_totals(corrected.engine, m, by=by, cutoffs=c)) == expected
    # this process read only its half of the projects (the other half was the child's)
    halved = corrected.engine.dialect.name == "sqlite"
    assert [("project >=" in statement) for statement in scans] == [False, halved, False]
    assert "FROM cost_deltas" in scans[0]


def test_on_one_cpu_a_large_ledger_is_summed_in_one_scan(
    corrected: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two halves at once need two CPUs: on one (``taskset -c 0``, a container's cpuset or CPU quota)
    the second process would only share its time, so the ledger is read in one scan, same totals."""
    if corrected.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL reads in one scan on any number of CPUs")
    expected = list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES))
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    scans = _ledger_scans(corrected)
    with one_cpu():
        assert list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES)) == expected
    assert scans and not any("project >=" in statement for statement in scans)
    scans.clear()
    list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES))  # the same on every CPU: halves
    assert any("project >=" in statement for statement in scans) == (usable_cpus() >= 2)


def test_a_dead_summing_process_is_a_clear_error(corrected: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    if corrected.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sums the ledger in one scan, in the server")
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    parent, scan_on = os.getpid(), totals._scan_on

    def die_in_the_child(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(1)  # as a process the kernel killed for memory would
        return scan_on(*args)

    monkeypatch.setattr(totals, "_scan_on", die_in_the_child)
    with pytest.raises(StoreError, match="summing half of the cost lines died") as raised:
        list(grouped_totals(corrected.engine, [DEC, NOV], by="period"))
    assert raised.value.hint and "memory" in raised.value.hint


@pytest.mark.threads
def test_the_two_halves_read_one_state_while_a_sync_commits(
    corrected: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync whose versions are stamped before the report's moment commits while the halves start
    reading (L7 moves from CRM, the child's half, to ERP, this process's). Were one half to read
    before the commit and the other after, L7 would be counted in neither. The sync waits until
    both halves have taken their first read, then lands."""
    if corrected.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sums the ledger in one scan, in the server")
    before = list(grouped_totals(corrected.engine, [DEC], by="period"))
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    parent, first_read = os.getpid(), two_halves._first_read
    sync = threading.Thread(
        target=write, args=(corrected, DEC - timedelta(hours=1), [line(7, "40.00", date(2026, 6, 8))])
    )

    def first_read_then_a_sync_commits(conn: Any) -> None:
        first_read(conn)
        if os.getpid() == parent and not sync.is_alive() and sync.ident is None:
            sync.start()  # its commit lands now, unless writers are held back
            sync.join(timeout=1.0)

    monkeypatch.setattr(two_halves, "_first_read", first_read_then_a_sync_commits)
    halves = list(grouped_totals(corrected.engine, [DEC], by="period"))
    sync.join()
    assert halves == before
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 10**9)
    after = {
        t.total.project for t in grouped_totals(corrected.engine, [DEC]) if t.total.amount == Decimal("40.00")
    }
    assert after == {"ERP"}  # the sync was held back a moment, not lost


def test_a_sync_holding_the_write_lock_means_one_scan_not_a_wait(
    corrected: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if corrected.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sums the ledger in one scan, in the server")
    expected = list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES))
    monkeypatch.setattr(totals, "SPLIT_FROM_LINES", 1)
    monkeypatch.setattr(two_halves, "WRITERS_WAIT_S", 0.05)
    scans = _ledger_scans(corrected)
    syncing = sqlite3.connect(corrected.engine.url.database or "", isolation_level=None)
    try:
        syncing.execute("BEGIN IMMEDIATE")
        assert list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES)) == expected
    finally:
        syncing.close()
    assert ["project >=" in statement for statement in scans] == [False]


def test_a_view_that_read_totals_alone_can_join_others_later(corrected: Store) -> None:
    """A view that already read a purpose on its own and is then read with another view: the other
    view gets every purpose too, and nothing is counted twice."""
    cutoffs = (date(2026, 10, 31), date(2026, 11, 30))
    now, before = view(corrected, DEC, cutoffs[1]), view(corrected, NOV, cutoffs[0])
    first = figures(now.cost_totals("ERP"), "period", cutoffs)
    now.load_cost_totals(before, together=("period", "spend"))
    # every line as the view reads it (its latest version, whichever project that puts it in)
    every = as_totals(view(corrected, NOV, cutoffs[0]).iter_records(CostLine))
    lines = [x for x in every if x.project == "ERP"]
    assert figures(before.cost_totals("ERP"), "period", cutoffs) == figures(lines, "period", cutoffs)
    assert figures(before.cost_totals("ERP", by="spend"), "spend", cutoffs) == figures(
        lines, "spend", cutoffs
    )
    assert figures(now.cost_totals("ERP"), "period", cutoffs) == first
    alone = view(corrected, DEC, cutoffs[1])
    alone.cost_totals(by="period")
    assert now.valid_time is not None and alone.valid_time is not None
    assert now.valid_time.notes.records == alone.valid_time.notes.records


def test_a_line_moved_to_another_project_after_the_status_date_counts_once(corrected: Store) -> None:
    """L7 moved from ERP to CRM in November's sync: the October report rebuilt with November's
    knowledge counts it in CRM only (a restated export is the latest knowledge of earlier periods),
    where reading ERP's lines alone used to count it in both projects."""
    october = view(corrected, NOV, date(2026, 10, 31))
    moved = Decimal("40.00")
    crm = [t for t in october.cost_totals("CRM") if t.kind == "actual"]
    assert [(t.amount, t.lines) for t in crm] == [(moved, 1)]
    everything = [t for t in october.cost_totals() if t.kind == "actual"]
    projects = [t for key in ("ERP", "CRM", "GONE") for t in october.cost_totals(key) if t.kind == "actual"]
    projects += [t for t in everything if t.project is None]
    assert sum((t.lines for t in projects), 0) == sum((t.lines for t in everything), 0)


def test_unowned_lines_are_the_lines_no_configured_project_carries(corrected: Store) -> None:
    now = corrected.at(known_at=DEC, valid_at=DEC, valid_on=date(2026, 11, 30))
    unowned = [x.source.key() for x in now.unowned_cost_lines(["ERP", "CRM"], as_of=DEC)]
    every = corrected.at(known_at=DEC, valid_at=DEC, valid_on=date(2026, 11, 30)).iter_records(CostLine)
    expected = [x.source.key() for x in every if x.project not in ("ERP", "CRM")]
    assert sorted(unowned) == sorted(expected) == ["finance_file:ledger:L104", "finance_file:ledger:L105"]


def _restatements_from_every_line(
    store: Store, since: datetime, until: datetime, through: date, project: str = "ERP"
) -> list[Restatement]:
    """The rule applied to every line of the project at both moments (what restatements read before)."""
    from collections import defaultdict

    def reported(moment: datetime) -> dict[str, CostLine]:
        return {
            x.source.key(): x
            for x in store.iter_records(CostLine, project=project, as_of=moment)
            if x.kind == "actual" and (x.posting_date or x.period or date.max) <= through
        }

    before, now = reported(since), reported(until)
    months: dict[str, Restatement] = defaultdict(lambda: Restatement(period=""))

    def month(x: CostLine) -> Restatement:
        day = x.posting_date or x.period
        assert day is not None
        found = months[f"{day:%Y-%m}"]
        found.period = f"{day:%Y-%m}"
        return found

    for key, old in before.items():
        new = now.get(key)
        if new is None:
            month(old).before += old.amount
            month(old).removed.append(key)
        elif new.amount != old.amount or (new.posting_date or new.period) != (old.posting_date or old.period):
            month(old).before += old.amount
            month(new).after += new.amount
            month(new).changed.append(key)
    for key, new in now.items():
        if key not in before:
            month(new).after += new.amount
            month(new).added.append(key)
    return [months[k] for k in sorted(months) if months[k].amount or months[k].records]


@pytest.mark.parametrize("through", [date(2026, 9, 30), date(2026, 10, 31)])
def test_restatements_from_changed_lines_equal_those_from_every_line(corrected: Store, through: date) -> None:
    found = restatements(corrected, "ERP", OCT, DEC, through)
    assert found == _restatements_from_every_line(corrected, OCT, DEC, through)
    assert any(r.removed for r in found) and any(r.added for r in found)


@pytest.mark.parametrize("through", [date(2026, 6, 30), date(2026, 9, 30), date(2026, 10, 31)])
def test_every_projects_restatements_from_one_read_equal_each_projects_own(
    corrected: Store, through: date
) -> None:
    """The report reads every project's restatements at once: the same months, amounts and lines as
    each project's own read, and a line moved to another project is removed from one, added to the
    other."""
    # a line booked with a period and no posting date (dated by its period), added back-dated
    undated = line(300, "55.50", date(2026, 6, 9), kind="actual", project="CRM").model_copy(
        update={"posting_date": None}
    )
    write(corrected, NOV + timedelta(hours=1), [undated])
    everyone = restatements_by_project(corrected, OCT, DEC, through)
    for key in ("ERP", "CRM", "GONE"):
        expected = _restatements_from_every_line(corrected, OCT, DEC, through, key)
        assert everyone.get(key, []) == restatements(corrected, key, OCT, DEC, through) == expected
    assert set(everyone) <= {"ERP", "CRM"}
    assert any("finance_file:ledger:L300" in r.added for r in everyone["CRM"])
    # a report on some projects reads theirs only
    assert restatements_by_project(corrected, OCT, DEC, through, ["CRM"]) == {"CRM": everyone["CRM"]}
    moved = "finance_file:ledger:L7"
    assert any(moved in r.removed for r in everyone["ERP"])
    assert any(moved in r.added for r in everyone["CRM"])


def test_whether_work_items_link_elsewhere_decides_reading_task_codes_early(store: Store) -> None:
    # a split report reads the spend by task code before forking only when some item links one
    # (the extra GROUP BY cost 3 s at 10^6 lines for nothing)
    def item(ident: str, links: dict[str, str]) -> WorkItem:
        ref = SourceRef(system="jira", instance="jira", external_id=ident)
        return WorkItem(source=ref, project="ERP", name=ident, links=links)

    assert not store.work_items_link_elsewhere()  # empty store
    clock.set_now(OCT)
    with store.writer("jira") as writer:
        writer.upsert([item("ERP-1", {}), *ledger()])
    assert not store.work_items_link_elsewhere()  # items and cost lines, no link
    clock.set_now(NOV)
    with store.writer("jira") as writer:
        writer.upsert([item("ERP-2", {"finance": "P-100.02"})])
    assert store.work_items_link_elsewhere()


# -- the totals the writer keeps (pmsync.store.cost_deltas) ---------------------------------------


def _by_moment(
    grouped: Iterable[totals.GroupedTotal], moments: int, by: TotalsBy, cutoffs: tuple[date, ...]
) -> list[Counter[tuple[object, ...]]]:
    """What each moment's figures of ``by`` are, from totals read for several moments at once."""
    listed = [g for g in grouped if g.by == by]
    return [figures([g.total for g in listed if g.held[i]], by, cutoffs) for i in range(moments)]


MOMENTS = [OCT - timedelta(seconds=1), OCT, NOV - timedelta(hours=1), NOV, DEC]
STATUS_DATES = [
    (date(2026, 10, 31), date(2026, 11, 30)),  # month ends: no line is read
    (date(2026, 10, 15), date(2026, 11, 20)),  # inside two months: their lines are read
    (date(2026, 9, 3),),  # the day of the credit and the cents
    (date(2026, 11, 1), date(2026, 6, 30), date(2026, 12, 31)),
]


@pytest.mark.parametrize("cutoffs", STATUS_DATES, ids=["month-ends", "mid-month", "one-day", "three"])
def test_the_totals_the_writer_keeps_give_what_every_line_gives(
    corrected: Store, cutoffs: tuple[date, ...]
) -> None:
    """At every moment (before the first load, at each write and between), with status dates on
    month ends or inside months, the totals a report reads give each purpose the figures a scan of
    every line gives: corrections, a line moved to another project, deletions, back-dated lines,
    credits, cents, lines of no project."""
    for project in (None, "ERP", "CRM"):
        kept = list(grouped_totals(corrected.engine, MOMENTS, project, by=PURPOSES, cutoffs=cutoffs))
        with corrected.engine.connect() as conn:
            scanned = list(totals._scan_on(conn, MOMENTS, project, PURPOSES, cutoffs, None))
        for by in PURPOSES:
            expected = _by_moment(scanned, len(MOMENTS), by, cutoffs)
            assert _by_moment(kept, len(MOMENTS), by, cutoffs) == expected
            assert expected[0] == Counter() and expected[-1] != Counter()


def test_a_report_reads_the_lines_of_the_months_its_status_dates_cut_and_no_others(corrected: Store) -> None:
    scans = _ledger_scans(corrected)
    list(grouped_totals(corrected.engine, [DEC, NOV], by=PURPOSES, cutoffs=[date(2026, 11, 30)]))
    assert len(scans) == 1 and "FROM cost_deltas" in scans[0]
    scans.clear()
    cut = list(grouped_totals(corrected.engine, [DEC], by="period", cutoffs=[date(2026, 11, 20)]))
    assert len(scans) == 2 and "cost_rows" in scans[1]  # November's lines
    # November's totals lie on both sides of the 20th, as its lines do (the kept totals are by month)
    november = {g.total.day for g in cut if g.total.day and g.total.day.month == 11}
    assert min(november) <= date(2026, 11, 20) < max(november)
    if corrected.engine.dialect.name == "sqlite":
        with corrected.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + scans[1].replace("?", "NULL")).all()
        assert any("ix_records_cost_line_day" in str(step) for step in plan)


def test_a_failed_write_leaves_the_kept_totals_as_the_lines(corrected: Store) -> None:
    """A sync that fails after writing a batch rolls back its lines and its totals together, also
    when the writer goes on to commit the run's ledger (what the sync engine does on a failure)."""
    cutoffs = (date(2026, 11, 30),)

    def period_figures() -> list[Counter[tuple[object, ...]]]:
        kept = grouped_totals(corrected.engine, [DEC], by=PURPOSES, cutoffs=cutoffs)
        return _by_moment(kept, 1, "period", cutoffs)

    before = period_figures()
    clock.set_now(DEC - timedelta(hours=2))
    gone = Deleted("cost_line", SourceRef(system="finance_file", instance="ledger", external_id="L3"))
    with pytest.raises(RuntimeError), corrected.writer("finance") as writer:
        writer.upsert([line(1, "5.00", date(2026, 6, 2)), line(300, "7.00", date(2026, 11, 3))])
        writer.mark_deleted([gone])
        raise RuntimeError("the source broke mid-sync")
    assert period_figures() == before
    with corrected.writer("finance") as writer:
        writer.upsert([line(1, "5.00", date(2026, 6, 2)), line(300, "7.00", date(2026, 11, 3))])
        writer.mark_deleted([gone])
        writer.rollback()
        writer.set_cursor({"failed": True})  # written and committed after the rollback
    assert period_figures() == before


def test_upgrading_a_store_written_before_the_kept_totals_builds_them_from_its_history(
    corrected: Store,
) -> None:
    """Revision 0007 fills the totals from the lines and their versions: a report after the upgrade
    reads what one before it read, at every moment."""
    from alembic import command

    from pmsync.store.migrate import alembic_config

    cutoffs = (date(2026, 10, 15), date(2026, 11, 30))

    def read() -> list[list[Counter[tuple[object, ...]]]]:
        grouped = list(grouped_totals(corrected.engine, MOMENTS, by=PURPOSES, cutoffs=cutoffs))
        return [_by_moment(grouped, len(MOMENTS), by, cutoffs) for by in PURPOSES]

    expected = read()
    with corrected.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0006_records_by_change_time")
    assert "cost_deltas" not in sa_inspect(corrected.engine).get_table_names()
    assert corrected.upgrade() == corrected.head_revision()
    assert read() == expected


def test_totals_written_out_in_several_parts_of_one_transaction_add_up(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large write sends its pending totals to the store before its commit (memory stays flat);
    a group changed again later in the same transaction adds to what was sent, and a line changed
    and deleted after its group was sent is taken away from it."""
    monkeypatch.setattr(cost_deltas, "FLUSH_AT_GROUPS", 3)
    clock.set_now(OCT)
    with store.writer("finance") as writer:
        for part in (ledger()[:20], ledger()[20:], [line(1, "999.99", date(2026, 6, 2))]):
            writer.upsert(part)
        writer.mark_deleted(
            [Deleted("cost_line", SourceRef(system="finance_file", instance="ledger", external_id="L5"))]
        )
    cutoffs = (date(2026, 9, 30),)
    kept = list(grouped_totals(store.engine, [OCT], by=PURPOSES, cutoffs=cutoffs))
    lines = as_totals(store.iter_records(CostLine, as_of=OCT))
    for by in PURPOSES:
        assert _by_moment(kept, 1, by, cutoffs) == [figures([x for x in lines], by, cutoffs)]


def test_text_with_copys_special_characters_is_kept_as_it_is(store: Store) -> None:
    """The writer sends its totals to PostgreSQL as ``COPY`` text, where a backslash, a tab or a line
    end would otherwise split or change a field: a project, source, vendor or purchase order holding
    them is summed under its own name, on both databases; and a line corrected or deleted later is
    taken away from the very group it was added to."""
    odd = "A\\B\tC\nD\r\\N é"
    lines = [
        line(
            1, "10.00", date(2026, 9, 3), project=odd, kind="actual", vendor=odd, po_number=odd, account="6"
        ),
        line(2, "2.50", date(2026, 9, 4), project=odd, kind="actual", vendor=odd, po_number=odd, account="6"),
        line(3, "1.00", date(2026, 9, 5), project="ERP", kind="actual", vendor="Acme\\", task_code="T\t1"),
    ]
    source = "fin\\ance\t2"
    clock.set_now(OCT)
    with store.writer(source) as writer:
        writer.upsert(lines)
    clock.set_now(NOV)
    corrected = [lines[0].model_copy(update={"amount": Decimal("11.00")}), lines[2]]
    with store.writer(source) as writer:
        writer.upsert(corrected)
        writer.mark_deleted([Deleted("cost_line", lines[1].source)])
    cutoffs = (date(2026, 9, 30),)
    for moment, held in ((OCT, lines), (NOV, corrected)):
        for project in (odd, "ERP", None):
            kept = list(grouped_totals(store.engine, [moment], project, by=PURPOSES, cutoffs=cutoffs))
            owned = [x for x in held if project is None or x.project == project]
            for by in PURPOSES:
                assert _by_moment(kept, 1, by, cutoffs) == [figures(as_totals(owned), by, cutoffs)]
    spend = [g.total for g in grouped_totals(store.engine, [OCT, NOV], odd, by="spend", cutoffs=cutoffs)]
    assert sorted((t.project, t.vendor, t.po_number, t.amount) for t in spend) == [
        (odd, odd, odd, Decimal("11.00")),
        (odd, odd, odd, Decimal("12.50")),
    ]
