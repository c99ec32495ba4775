"""A small agency portfolio lived through three months, synced into a real store by the sync engine.

Sources (each a :class:`ScriptedConnector` replaying a JSON file): ``schedule`` (MS Project-like work
items), ``finance`` (budget, actuals, commitments) and ``raid`` (risks, issues, decisions, actions).
Projects: ERP (large; narrative from a per-period file), WEB (small; narrative from its source record;
re-baselined in November), HR (configured, no data yet: every figure "not rated").

Timeline (the store's clock is simulated, so history carries these moments):
- 2026-09-15 first sync; ERP and WEB baselines captured and approved on 09-16.
- 2026-10-20 sync: progress, actuals, risk R1 opened.
- 2026-11-10 WEB re-baselined (CR-9).
- 2026-11-20 sync: ERP go-live slips three weeks, risk R2 opened (hostile text), cost overrun grows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import yaml

from pmsync import clock
from pmsync.config import PmsyncConfig, load_config
from pmsync.model import (
    ActionItem,
    CostLine,
    Decision,
    Issue,
    Project,
    Record,
    Risk,
    SourceRef,
    WorkItem,
)
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.store import Store
from pmsync.sync import sync_sources

from .scripted_connector import write_records

CONNECTOR = "report.scripted_connector:ScriptedConnector"
SEPT = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HOSTILE_RISK = 'Vendor <script>alert("owned")</script> insolvency'
HOSTILE_OWNER = '=HYPERLINK("http://evil.invalid","click")'


def _ref(system: str, instance: str, ident: str) -> SourceRef:
    return SourceRef(system=system, instance=instance, external_id=ident)


def _task(
    project: str, ident: str, name: str, start: date, finish: date, cost: int, pct: float, **kw: object
) -> WorkItem:
    done = pct >= 100
    return WorkItem(
        source=_ref("msproject", f"{project.lower()}-plan", ident),
        project=project,
        name=name,
        kind=kw.pop("kind", "task"),  # type: ignore[arg-type]
        start=start,
        finish=finish,
        cost=Decimal(cost),
        percent_complete=pct,
        status_category="done" if done else ("in_progress" if pct > 0 else "not_started"),
        actual_finish=finish if done else None,
        **kw,  # type: ignore[arg-type]
    )


def schedule(month: int) -> list[Record]:
    build = {9: 10.0, 10: 40.0, 11: 70.0}[month]
    golive = date(2027, 2, 1) if month < 11 else date(2027, 2, 22)
    web_pct = {9: 20.0, 10: 60.0, 11: 90.0}[month]
    return [
        Project(
            source=_ref("msproject", "erp-plan", "project"), project="ERP", key="ERP", name="ERP upgrade"
        ),
        _task("ERP", "1", "Design", date(2026, 7, 1), date(2026, 8, 31), 300_000, 100),
        _task("ERP", "2", "Build", date(2026, 9, 1), date(2026, 11, 30), 600_000, build),
        _task(
            "ERP", "3", "Test", date(2026, 12, 1), golive if month == 11 else date(2027, 1, 29), 300_000, 0
        ),
        _task("ERP", "4", "Go-live", golive, golive, 0, 0, kind="milestone"),
        Project(
            source=_ref("msproject", "web-plan", "project"),
            project="WEB",
            key="WEB",
            name="Public website",
            narrative="Beta launched to staff; public launch on track.",
        ),
        _task("WEB", "1", "Content & design", date(2026, 9, 1), date(2026, 12, 18), 40_000, web_pct),
        _task("WEB", "2", "Launch", date(2026, 12, 18), date(2026, 12, 18), 0, 0, kind="milestone"),
    ]


def _line(project: str, ident: str, kind: str, amount: int, day: date, category: str) -> CostLine:
    return CostLine(
        source=_ref("finance_file", "ledger", ident),
        project=project,
        kind=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        period=day.replace(day=1),
        posting_date=day,
        fiscal_year=2027 if day.month >= 7 else 2026,
        fiscal_period=(day.month - 7) % 12 + 1,
        category=category,
    )


def finance(month: int) -> list[Record]:
    lines: list[Record] = [
        _line("ERP", "B1", "budget", 900_000, date(2026, 7, 1), "Labour"),
        _line("ERP", "B2", "budget", 300_000, date(2026, 7, 1), "Software"),
        _line("ERP", "A7", "actual", 150_000, date(2026, 7, 31), "Labour"),
        _line("ERP", "A8", "actual", 170_000, date(2026, 8, 31), "Labour"),
        _line("ERP", "C1", "commitment", 120_000, date(2026, 9, 5), "Software"),
        _line("WEB", "B3", "budget", 40_000, date(2026, 9, 1), "Labour"),
    ]
    if month >= 10:
        lines += [
            _line("ERP", "A9", "actual", 180_000, date(2026, 9, 30), "Labour"),
            _line("ERP", "A9S", "actual", 90_000, date(2026, 9, 30), "Software"),
            _line("WEB", "A9W", "actual", 15_000, date(2026, 9, 30), "Labour"),
        ]
    if month >= 11:
        lines += [
            _line("ERP", "A10", "actual", 260_000, date(2026, 10, 31), "Labour"),
            _line("WEB", "A10W", "actual", 12_000, date(2026, 10, 31), "Labour"),
        ]
    return lines


def raid(month: int) -> list[Record]:
    r = "register"
    records: list[Record] = [
        Decision(
            source=_ref("raid", r, "D1"),
            project="ERP",
            title="Adopt vendor SaaS",
            decided_by="Board",
            decided_on=date(2026, 9, 10),
            status="Approved",
        ),  # fmt: skip
    ]
    if month >= 10:
        records += [
            Risk(
                source=_ref("raid", r, "R1"),
                project="ERP",
                title="Data migration quality",
                owner="Ann Lee",
                status="Open",
                status_category="in_progress",
                probability=0.5,
                impact=4,
                score=12,
                due=date(2026, 12, 15),
                mitigation="Trial migrations",
            ),  # fmt: skip
            Issue(
                source=_ref("raid", r, "I1"),
                project="ERP",
                title="Test environment late",
                owner="Ops",
                status="Open",
                priority="High",
                due=date(2026, 11, 30),
            ),  # fmt: skip
            ActionItem(
                source=_ref("raid", r, "A1"),
                project="ERP",
                title="Confirm cutover window",
                owner="Dana",
                status="Open",
                due=date(2026, 11, 10),
            ),  # fmt: skip
        ]
    if month >= 11:
        records += [
            Risk(
                source=_ref("raid", r, "R2"),
                project="ERP",
                title=HOSTILE_RISK,
                owner=HOSTILE_OWNER,
                status="Open",
                status_category="in_progress",
                probability=0.8,
                impact=5,
                score=20,
                due=date(2026, 12, 1),
            ),  # fmt: skip
        ]
    return records


def write_config(root: Path, store_url: str, **reports: object) -> Path:
    (root / "narratives").mkdir(exist_ok=True)
    (root / "narratives" / "ERP-2026-11.md").write_text(
        "Build is 70 % complete.\n\nGo-live moves three weeks: <b>vendor</b> delay.", encoding="utf-8"
    )
    config = {
        "store": {"url": store_url},
        "portfolio": {"name": "Department of Examples", "currency": "USD", "fiscal_year_start_month": 7},
        "projects": [
            {
                "key": "ERP",
                "name": "ERP upgrade",
                "program": "Modernisation",
                "tier": "large",
                "sponsor": "CFO",
                "manager": "Dana",
                "approved_budget": "1200000",
                "narrative_file": "narratives/ERP-{period}.md",
                "links": {"schedule": "erp-plan", "finance": "ERP", "raid": "ERP"},
            },  # fmt: skip
            {
                "key": "WEB",
                "name": "Public website",
                "tier": "small",
                "approved_budget": "40000",
                "links": {"schedule": "web-plan", "finance": "WEB"},
            },  # fmt: skip
            {"key": "HR", "name": "HR system", "tier": "medium", "program": "Modernisation"},
        ],
        "sources": [
            {"name": name, "type": CONNECTOR, "records_file": f"{name}.json"}
            for name in ("schedule", "finance", "raid")
        ],
        "reports": {"stale_after_hours": 24 * 40, **reports},
    }
    path = root / "pmsync.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def sync_month(root: Path, config: PmsyncConfig, store: Store, month: int, moment: datetime) -> None:
    write_records(root / "schedule.json", schedule(month))
    write_records(root / "finance.json", finance(month))
    write_records(root / "raid.json", raid(month))
    clock.set_now(moment)
    runs = sync_sources(config, store)
    assert [r.status for r in runs] == ["ok", "ok", "ok"], [r.error for r in runs]


def live_through(root: Path, store_url: str, last_month: int = 11) -> tuple[PmsyncConfig, Store]:
    """Build the store up to ``last_month`` (9, 10 or 11); the clock is left at that month's sync."""
    config = load_config(write_config(root, store_url))
    store = Store.open(config.store_url())
    sync_month(root, config, store, 9, SEPT)
    clock.set_now(datetime(2026, 9, 16, 9, 0, tzinfo=UTC))
    for key in ("ERP", "WEB"):
        register = BaselineRegister(store, key)
        baseline, _ = register.capture("Plan of record")
        register.approve(baseline.number, by="Portfolio board", reason="Business case approved")
    if last_month >= 10:
        sync_month(root, config, store, 10, OCT)
    if last_month >= 11:
        live_november(root, config, store)
    return config, store


def live_november(root: Path, config: PmsyncConfig, store: Store) -> None:
    clock.set_now(datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    BaselineRegister(store, "WEB").rebaseline(
        by="Portfolio board", reason="Scope added: accessibility audit", change_request="CR-9"
    )
    sync_month(root, config, store, 11, NOV)
