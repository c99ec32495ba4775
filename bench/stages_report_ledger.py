"""Report benchmark stages over realistic projects and a large finance ledger (issue 25, points 3 and 7).

``prepare_*`` (not timed) fills a SQLite store the way two monthly syncs would, then the stage times
``build_report`` for November 2026 (every project measured now and at the previous period end, the
RAID log, oversight, changes and restatements), as ``report_build`` in ``stages_report`` does:

- ``report_build_realistic``: ``size`` projects of realistic size: each a schedule of
  :data:`TASKS` tasks (a WBS of summary rows, detail tasks and milestones) and a ledger of
  :data:`LINES_PER_PROJECT` cost lines (two years of fortnightly payroll by person, vendor invoices
  on purchase orders, commitments, budget and forecast lines by fiscal period, credits);
- ``report_build_ledger``: 200 projects over a ledger of ``size`` lines in all (the same ledger
  generator, more lines per project, plus 2 % of lines booked to finance codes no project owns);
  10^6 lines is a large agency's year of project spend. Their schedules are ``report_build``'s small
  ones (five tasks and a milestone), so that the stage measures what the ledger costs a report: with
  :data:`TASKS`-task schedules the work items' reads take most of the time (see
  ``report_build_realistic`` and docs/report.md).

The ledger is seeded through the store's own writer (``Writer.upsert``) with rows encoded here
(:func:`ledger_rows`) rather than by validating a :class:`CostLine` per line: the encoding is checked
against :func:`pmsync.store.to_row` on sample lines, so the store holds what a sync would write. The
November sync adds October's lines and corrects 0.1 % of earlier ones (restatements). Each stage
reports ``cpu_s`` (the CPU seconds of this process and of the process that sums half of the ledger
with it: SQLite runs in them) beside the wall time.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from stages_report import BUILT_AT, NOV, OCT, PERIOD, _config, _keys, _oversight, _raid, _schedule, _sync

from pmsync import clock
from pmsync.config import load_config
from pmsync.model import CostLine, Project, Record, SourceRef, WorkItem
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.report.build import build_report
from pmsync.store import EncodedJson, Store, StoredRow, to_row

#: detail tasks per project (plus a summary row per 10 and a milestone per 50)
TASKS = 300
#: cost lines per project in the realistic-projects stage
LINES_PER_PROJECT = 2_000
#: projects in the large-ledger stage
LEDGER_PROJECTS = 200
FIRST_DAY = date(2025, 7, 1)  # the start of fiscal year 2026
CATEGORIES = ("Labour", "Contractors", "Software", "Hardware", "Services")
VENDORS = ("Acme Consulting", "Globex Software", "Initech Hardware", "Umbrella Services", "Hooli Cloud")


def _ref(system: str, ident: str) -> SourceRef:
    return SourceRef(system=system, instance=system, external_id=ident)


def schedule(key: str, i: int, month: int) -> list[Record]:
    """A project of :data:`TASKS` detail tasks from July 2026 to February 2027 under summary rows,
    with milestones; November moves progress and slips every third project's tasks."""
    start = date(2026, 7, 1)
    slip = 10 if month == 11 and i % 3 == 0 else 0
    status = date(2026, month, 20)
    records: list[Record] = [
        Project(source=_ref("msproject", f"{key}/p"), project=key, key=key, name=f"Project {i}")
    ]
    for t in range(TASKS):
        if t % 10 == 0:
            records.append(
                WorkItem(source=_ref("msproject", f"{key}/s{t // 10}"), project=key, name=f"Phase {t // 10}",
                         kind="summary")
            )  # fmt: skip
        begin = start + timedelta(days=(t * 240) // TASKS)
        finish = begin + timedelta(days=14 + (slip if t > TASKS // 2 else 0))
        elapsed = (status - begin).days
        pct = 100.0 if finish < status else max(0.0, min(95.0, elapsed * 100 / 14)) if elapsed > 0 else 0.0
        records.append(
            WorkItem(
                source=_ref("msproject", f"{key}/{t}"), project=key, parent=f"{key}/s{t // 10}",
                name=f"Task {t}", key=f"{key}.{t}", start=begin, finish=finish,
                cost=Decimal(2_000 + 37 * (t % 50)), percent_complete=pct,
                status_category="done" if pct >= 100 else ("in_progress" if pct else "not_started"),
                actual_finish=finish if pct >= 100 else None,
                kind="milestone" if t % 50 == 49 else "task",
            )
        )  # fmt: skip
    return records


def _line_values(key: str | None, code: str, n: int, per_project: int) -> dict[str, Any]:
    """Line ``n`` of a project's ledger: fields as a :class:`CostLine` would carry them."""
    span = 730  # two fiscal years of postings
    day = FIRST_DAY + timedelta(days=(n * span) // per_project)
    share = n % 20
    category = CATEGORIES[n % len(CATEGORIES)]
    vendor = po = None
    if share < 12:  # fortnightly payroll, one line per person: actuals on Fridays
        kind, amount = "actual", f"{1_800 + (n * 37) % 2_400}.{n % 100:02d}"
        day -= timedelta(days=(day.weekday() - 4) % 7)
        category = "Labour"
    elif share < 16:  # vendor invoices on purchase orders
        vendor = VENDORS[n % len(VENDORS)]
        po = f"PO-{key or code}-{n % 7}"
        kind, amount = "actual", f"{4_000 + (n * 131) % 40_000}.00"
    elif share == 16:  # a credit note reversing part of an invoice
        vendor = VENDORS[n % len(VENDORS)]
        po = f"PO-{key or code}-{n % 7}"
        kind, amount = "actual", f"-{500 + n % 900}.00"
    elif share == 17:
        vendor = VENDORS[n % len(VENDORS)]
        po = f"PO-{key or code}-{n % 7}"
        kind, amount = "commitment", f"{10_000 + (n * 17) % 30_000}.00"
    elif share == 18:
        kind, amount = "budget", f"{20_000 + (n * 7) % 10_000}.00"
    else:
        kind, amount = "forecast", f"{15_000 + (n * 11) % 10_000}.00"
    fiscal_year = day.year + (1 if day.month >= 7 else 0)
    return {
        "account": f"6{(n % 4) + 1}00",
        "amount": amount,
        "category": category,
        "currency": "USD",
        "description": f"{category} {n}",
        "fiscal_period": (day.month - 7) % 12 + 1,
        "fiscal_year": fiscal_year,
        "kind": kind,
        "period": day.replace(day=1).isoformat(),
        "po_number": po,
        "posting_date": day.isoformat(),
        "project": key,
        "project_code": code,
        "record_type": "cost_line",
        "scope": "",
        "source": {"external_id": f"{code}/{n}", "instance": "finance_file", "system": "finance_file"},
        "source_modified": None,
        "task_code": f"{key}.{n % TASKS}" if key else None,
        "url": None,
        "vendor": vendor,
    }


def _row(values: dict[str, Any]) -> StoredRow:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    source = values["source"]
    return StoredRow(
        key=("cost_line", source["system"], source["instance"], source["external_id"]),
        project=values["project"],
        scope="",
        payload=EncodedJson(text),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_modified=None,
    )


def _check_encoding(values: dict[str, Any]) -> None:
    """The bulk rows must be what a sync of the same line writes."""
    expected = to_row(CostLine.model_validate(values))
    assert (expected.payload.text, expected.content_hash) == (
        _row(values).payload.text,
        _row(values).content_hash,
    )


def _in_sync(values: dict[str, Any], n: int, since: date | None, through: date, corrected: bool) -> bool:
    day = date.fromisoformat(values["posting_date"])
    posted = values["kind"] in ("actual", "commitment")
    if corrected:
        return posted and n % 1000 == 7 and since is not None and day <= since
    if not posted:
        return since is None
    return day <= through and (since is None or day > since)


def ledger_rows(
    keys: list[str], lines: int, since: date | None, through: date, corrected: bool = False
) -> Iterator[StoredRow]:
    """``lines`` cost lines over ``keys`` (2 % on codes no project owns): the actuals and commitments
    posted after ``since`` and by ``through``, and (without ``since``) every budget and forecast line;
    ``corrected``: 0.1 % of those posted by ``since`` with a corrected amount (a restatement). A
    sync of the whole export writes just these: the lines it finds unchanged cost a read."""
    unowned = lines // 50
    per_project = (lines - unowned) // len(keys)
    owners: list[tuple[str | None, str, int]] = [(key, f"P-{key}", per_project) for key in keys]
    owners += [(None, f"OH-{c}", unowned // 10) for c in range(10)]  # overhead codes nobody owns
    for key, code, count in owners:
        for n in range(count):
            values = _line_values(key, code, n, count)
            if not _in_sync(values, n, since, through, corrected):
                continue
            if corrected:
                values["amount"] = str(Decimal(values["amount"]) + Decimal("100.00"))
            if n < 3:
                _check_encoding(values)
            yield _row(values)


def _seed(workdir: Path, projects: int, lines: int, plan: Callable[[str, int, int], list[Record]]) -> None:
    config = _config(projects, workdir)
    keys = _keys(projects)
    with Store.open(config.store_url()) as store:
        for month, at in ((10, OCT), (11, NOV)):
            since, through = (
                (None, date(2026, 9, 30)) if month == 10 else (date(2026, 9, 30), date(2026, 10, 31))
            )
            _sync(
                store,
                "schedule",
                "msproject",
                [r for i, k in enumerate(keys) for r in plan(k, i, month)],
                at,
            )
            _sync(store, "raid", "raid", [r for i, k in enumerate(keys) for r in _raid(k, i, month)], at)
            _sync(
                store,
                "oversight",
                "oversight_file",
                [r for i, k in enumerate(keys) for r in _oversight(k, i, month)],
                at,
            )
            clock.set_now(at)
            with store.writer("finance") as writer:
                writer.start_run("finance_file", {})
                counts = writer.upsert(ledger_rows(keys, lines, since, through))
                if month == 11:
                    counts += writer.upsert(ledger_rows(keys, lines, since, through, corrected=True))
                writer.finish_run("ok", counts=counts, cursor_after={})
            if month == 10:
                clock.set_now(datetime(2026, 10, 21, tzinfo=UTC))
                for key in keys:
                    register = BaselineRegister(store, key)
                    baseline, _ = register.capture("Plan")
                    register.approve(baseline.number, by="Board", reason="Approved business case")
    clock.set_now(None)


def _build(workdir: Path) -> dict[str, Any]:
    config = load_config(workdir / "pmsync.yaml")
    clock.set_now(BUILT_AT)
    cpu = _cpu_seconds()
    with Store.open(config.store_url()) as store:
        report = build_report(store, config, PERIOD)
    return {"items": len(report.projects), "cpu_s": round(_cpu_seconds() - cpu, 2)}


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended (the totals' second process)."""
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def prepare_report_build_realistic(size: int, workdir: Path) -> None:
    _seed(workdir, size, size * LINES_PER_PROJECT, schedule)


def report_build_realistic(size: int, workdir: Path) -> dict[str, Any]:
    return _build(workdir)


def prepare_report_build_ledger(size: int, workdir: Path) -> None:
    _seed(workdir, LEDGER_PROJECTS, size, _schedule)
    # the bare loop is timed here, before the build and outside its time: the stage's own time is the
    # build's alone (until 2026-12-07 it took in the bare loop too, 13 s of the 72 s at 10^7 lines)
    (workdir / BARE_SCAN_FILE).write_text(f"{bare_scan(workdir):.2f}", encoding="utf-8")


#: where the prepared stage leaves the bare loop's seconds for the timed one to report
BARE_SCAN_FILE = "bare-scan-seconds.txt"


def bare_scan(workdir: Path) -> float:
    """Seconds of the bare loop: one SQL ``GROUP BY`` summing the ledger's amounts by project (exactly,
    with the store's decimal sum), the least any report that reads the whole ledger can cost."""
    config = load_config(workdir / "pmsync.yaml")
    with Store.open(config.store_url()) as store, store.engine.connect() as conn:
        start = time.perf_counter()
        conn.exec_driver_sql(
            "SELECT project, pmsync_decimal_sum(payload ->> '$.amount') FROM records"
            " WHERE record_type = 'cost_line' GROUP BY project"
        ).fetchall()
        return time.perf_counter() - start


def report_build_ledger(size: int, workdir: Path) -> dict[str, Any]:
    result = _build(workdir)
    bare = float((workdir / BARE_SCAN_FILE).read_text(encoding="utf-8"))  # the ratio's denominator
    return {**result, "items": size, "projects": result["items"], "bare_scan_s": bare}


STAGES = [
    (
        "report: build the model, realistic projects (projects)",
        report_build_realistic,
        [50, 100, 200],
        [4],
    ),
    (
        "report: build the model, 200 projects over a large ledger (cost lines)",
        report_build_ledger,
        # 10^7 is issue 25's target: seeding it takes ~15 minutes and ~6 GB of disk (--timeout 3000)
        [1_000_000, 2_000_000, 4_000_000, 10_000_000],
        [20_000],
    ),
]
