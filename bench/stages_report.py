"""Report benchmark stages: a portfolio of ``size`` projects, from the store to every format.

``prepare_*`` (not timed) fills a SQLite store the way two monthly syncs would: per project a schedule
(tasks, a milestone), an approved pmsync baseline, budget / actual / commitment lines and a RAID log;
the November sync moves progress, slips every third project's milestone and opens a risk on every
fourth. The stages time:

- building the report model (reconcile's measures now and at the previous period end, RAID log,
  narratives, freshness, changes) — ``report_build``;
- rendering HTML, XLSX and JSON from the model — ``report_render``;
- printing the PDF from the HTML with the default engine (``pdf_engine: auto``: Chromium when one is
  installed, else WeasyPrint), tagged as a user gets it — ``report_pdf``; the same untagged, to show
  what tagging costs — ``report_pdf_untagged``; with WeasyPrint, the fallback — ``report_pdf_weasyprint``
  (slow: small sizes, extrapolated by the targets). Each reports the ``engine`` that printed, whether
  ``tagged``, and the pack's length: ``pages``, ``pages_per_project`` and the longest project
  summary (``summary_pages_max``, from the PDF's bookmarks; the target is 1-2); and the committee's front page
  (``front_pages``; the target is 1).

The portfolio carries the oversight pack (issue 27): California's rules, per project a contract,
gates and a staffing plan, and the maintained inputs (a CIO rating on every fifth project, an open
IV&V finding on every third, a gate decision on each).
"""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from pmsync import clock
from pmsync.config import PmsyncConfig, load_config
from pmsync.model import (
    ActionItem,
    CioRating,
    CostLine,
    Decision,
    GateDecision,
    OversightFinding,
    Project,
    Record,
    Risk,
    SourceRef,
    WorkItem,
)
from pmsync.reconcile.baselines import BaselineRegister
from pmsync.report.build import build_report
from pmsync.report.model import Report
from pmsync.report.period import Period
from pmsync.report.writers import write_report
from pmsync.report.writers.pdf import PdfEngine, report_to_pdf, resolve_engine
from pmsync.store import Store

OCT = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
BUILT_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PERIOD = Period(2026, 11)
SOURCES = (
    ("schedule", "msproject"),
    ("finance", "finance_file"),
    ("raid", "raid"),
    ("oversight", "oversight_file"),
)


def _ref(system: str, ident: str) -> SourceRef:
    return SourceRef(system=system, instance=system, external_id=ident)


def _schedule(key: str, i: int, month: int) -> list[Record]:
    progress = {10: 30.0, 11: 55.0}[month]
    slip = 15 if month == 11 and i % 3 == 0 else 0
    golive = date(2027, 3, 1 + slip)
    tasks: list[Record] = [
        Project(source=_ref("msproject", f"{key}/p"), project=key, key=key, name=f"Project {i}")
    ]
    for n, (start, finish, cost) in enumerate(
        [
            (date(2026, 7, 1), date(2026, 8, 31), 200_000),
            (date(2026, 9, 1), date(2026, 12, 31), 500_000),
            (date(2027, 1, 4), date(2027, 2, 26), 250_000),
            (date(2026, 8, 1), date(2027, 2, 26), 50_000),
        ]
    ):
        pct = 100.0 if n == 0 else (progress if n in (1, 3) else 0.0)
        tasks.append(
            WorkItem(
                source=_ref("msproject", f"{key}/{n}"),
                project=key,
                name=f"Task {n}",
                start=start,
                finish=finish,
                cost=Decimal(cost),
                percent_complete=pct,
                status_category="done" if pct >= 100 else ("in_progress" if pct else "not_started"),
                actual_finish=finish if pct >= 100 else None,
            )  # fmt: skip
        )
    tasks.append(
        WorkItem(
            source=_ref("msproject", f"{key}/m"),
            project=key,
            name="Go-live",
            kind="milestone",
            start=golive,
            finish=golive,
        )  # fmt: skip
    )
    return tasks


def _finance(key: str, i: int, month: int) -> list[Record]:
    def line(ident: str, kind: str, amount: int, day: date, category: str) -> CostLine:
        return CostLine(
            source=_ref("finance_file", f"{key}/{ident}"), project=key, kind=kind, amount=Decimal(amount),  # type: ignore[arg-type]
            period=day.replace(day=1), posting_date=day, fiscal_year=2027,
            fiscal_period=(day.month - 7) % 12 + 1, category=category,
        )  # fmt: skip

    lines: list[Record] = [
        line("b1", "budget", 800_000, date(2026, 7, 1), "Labour"),
        line("b2", "budget", 200_000, date(2026, 7, 1), "Software"),
        line("a8", "actual", 150_000 + 1_000 * (i % 50), date(2026, 8, 31), "Labour"),
        line("a9", "actual", 160_000, date(2026, 9, 30), "Labour"),
        line("c1", "commitment", 90_000, date(2026, 9, 5), "Software"),
    ]
    if month == 11:
        lines.append(line("a10", "actual", 170_000 + 2_000 * (i % 40), date(2026, 10, 31), "Labour"))
    return lines


def _raid(key: str, i: int, month: int) -> list[Record]:
    records: list[Record] = [
        Risk(
            source=_ref("raid", f"{key}/r1"),
            project=key,
            title="Data migration",
            owner="Owner A",
            status="Open",
            status_category="in_progress",
            score=12,
            due=date(2026, 12, 15),
        ),  # fmt: skip
        Decision(
            source=_ref("raid", f"{key}/d1"), project=key, title="Vendor chosen", decided_on=date(2026, 9, 1)
        ),
        ActionItem(
            source=_ref("raid", f"{key}/a1"),
            project=key,
            title="Book cutover",
            owner="Owner B",
            due=date(2026, 11, 10),
        ),  # fmt: skip
    ]
    if month == 11 and i % 4 == 0:
        records.append(
            Risk(
                source=_ref("raid", f"{key}/r2"),
                project=key,
                title="Key staff leaving",
                owner="Owner C",
                status="Open",
                status_category="in_progress",
                score=20,
            )  # fmt: skip
        )
    return records


def _oversight(key: str, i: int, month: int) -> list[Record]:
    def ref(ident: str) -> SourceRef:
        return _ref("oversight_file", f"{key}/{ident}")

    records: list[Record] = [
        GateDecision(
            source=ref("g1"),
            project=key,
            recorded_by="PRB",
            gate="Gate 1",
            decision="approved",
            decided_on=date(2026, 3, 2),
            funds_released=Decimal(400_000),
        )  # fmt: skip
    ]
    if i % 5 == 0:
        records.append(
            CioRating(
                source=ref("cio"),
                project=key,
                recorded_by="CIO",
                rating=1 + i % 5 + (i // 5) % 3,
                reason="Vendor staffing gaps",
                rated_on=date(2026, 10, 15),
            )  # fmt: skip
        )
    if i % 3 == 0:
        records.append(
            OversightFinding(
                source=ref("f1"),
                project=key,
                recorded_by="IV&V",
                title="No load test planned",
                severity="high",
                owner="Test lead",
                corrective_action="Load test plan",
                due=date(2026, 11, 15),
                raised_on=date(2026, 9, 30),
            )  # fmt: skip
        )
    return records


def _oversight_plan(i: int) -> dict[str, object]:
    return {
        "criticality_override": ("low", "medium", "high")[i % 3],
        "gates": [
            {"gate": "Gate 1", "planned": "2026-03-01", "funds_planned": 400000},
            {"gate": "Gate 2", "planned": "2026-11-15", "funds_planned": 600000},
        ],
        "contracts": [{"vendor": "Acme", "number": f"C-{i}", "value": 500000}],
        "staffing": [{"month": "2026-07-01", "fte": 6}],
    }


def _sync(store: Store, source: str, source_type: str, records: list[Record], at: datetime) -> None:
    clock.set_now(at)
    with store.writer(source) as writer:
        writer.start_run(source_type, {})
        counts = writer.upsert(records)
        writer.finish_run("ok", counts=counts, cursor_after={})


def _keys(size: int) -> list[str]:
    return [f"P{i:04d}" for i in range(size)]


def _config(size: int, workdir: Path) -> PmsyncConfig:
    tiers = ("small", "medium", "large")
    raw = {
        "store": {"url": f"sqlite:///{workdir / 'report-bench.db'}"},
        "portfolio": {"name": "Bench portfolio"},
        "projects": [
            {
                "key": key,
                "name": f"Project {i}",
                "tier": tiers[i % 3],
                "approved_budget": "1000000",
                "sponsor": f"Sponsor {i % 7}",
                "oversight": _oversight_plan(i),
            }  # fmt: skip
            for i, key in enumerate(_keys(size))
        ],
        "sources": [],
        "reports": {"formats": ["html", "xlsx", "json"]},
        "oversight": {"preset": "california"},
    }
    path = workdir / "pmsync.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_config(path)


def prepare_report_build(size: int, workdir: Path) -> None:
    config = _config(size, workdir)
    with Store.open(config.store_url()) as store:
        for month, at in ((10, OCT), (11, NOV)):
            for source, source_type in SOURCES:
                make = {"schedule": _schedule, "finance": _finance, "raid": _raid, "oversight": _oversight}[
                    source
                ]
                records = [r for i, key in enumerate(_keys(size)) for r in make(key, i, month)]
                _sync(store, source, source_type, records, at)
            if month == 10:
                clock.set_now(datetime(2026, 10, 21, tzinfo=UTC))
                for key in _keys(size):
                    register = BaselineRegister(store, key)
                    baseline, _ = register.capture("Plan")
                    register.approve(baseline.number, by="Board", reason="Approved business case")
    clock.set_now(None)


def _build(size: int, workdir: Path) -> Report:
    config = load_config(workdir / "pmsync.yaml")
    clock.set_now(BUILT_AT)
    with Store.open(config.store_url()) as store:
        return build_report(store, config, PERIOD)


def report_build(size: int, workdir: Path) -> dict[str, int]:
    report = _build(size, workdir)
    return {"items": len(report.projects), "changes": len(report.changes)}


def prepare_report_render(size: int, workdir: Path) -> None:
    prepare_report_build(size, workdir)
    (workdir / "model.json").write_text(_build(size, workdir).model_dump_json(), encoding="utf-8")


def report_render(size: int, workdir: Path) -> dict[str, int]:
    report = Report.model_validate_json((workdir / "model.json").read_text(encoding="utf-8"))
    paths = write_report(report, workdir / "out", ["html", "xlsx", "json"])
    return {"items": len(report.projects), "bytes": sum(p.stat().st_size for p in paths)}


prepare_report_pdf = prepare_report_render


def pack_length(path: Path, report: Report) -> dict[str, float]:
    """The pack's length from the PDF: pages, pages per project, and the longest project summary
    (a project's first bookmark is its summary, which runs to the next bookmark)."""
    import pikepdf

    with pikepdf.open(path) as document:
        page_of = {page.objgen: n for n, page in enumerate(document.pages)}
        with document.open_outline() as outline:
            flat: list[tuple[str, int, int]] = []

            def walk(items: list[Any], level: int) -> None:
                for item in items:
                    if item.destination is not None:
                        flat.append((item.title, page_of[item.destination[0].objgen], level))
                    walk(item.children, level + 1)

            walk(outline.root, 0)
        pages = len(document.pages)
    heads = {f"{p.key} — {p.name}" for p in report.projects}
    summary_pages = []
    front_pages = 0
    seen: set[str] = set()
    for n, (title, page, level) in enumerate(flat):
        # a section runs to the next bookmark at its level or above (its own h3s are below it)
        end = next((p for _, p, lv in flat[n + 1 :] if lv <= level), pages)
        if title in heads and title not in seen:
            seen.add(title)
            summary_pages.append(end - page)
        elif title.startswith("Committee summary") and not front_pages:
            front_pages = end - page
    projects = max(1, len(report.projects))
    return {
        "pages": pages,
        "pages_per_project": round(pages / projects, 2),
        "summary_pages_max": max(summary_pages, default=0),
        "front_pages": front_pages,
    }


class DescendantsCpu:
    """CPU seconds of every process this one starts while in use (the browser and its renderers,
    the join's process, WeasyPrint's workers), polled from /proc: their CPU is not in this process's
    rusage (a renderer is the browser's grandchild). On a machine shared with other work, CPU
    seconds say what the work costs where wall time says how busy the machine was. Linux only;
    elsewhere (or once a process outlives no poll) it counts less, never more."""

    def __init__(self) -> None:
        import threading

        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> DescendantsCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self._seen.values())

    def _poll(self) -> None:
        import os

        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.2):
            parents: dict[int, int] = {}
            times: dict[int, float] = {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
                times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
            mine = os.getpid()
            for pid in times:
                ancestor, hops = parents.get(pid), 0
                while ancestor not in (None, 0, 1, mine) and hops < 20:
                    ancestor, hops = parents.get(ancestor), hops + 1
                if ancestor == mine and pid != mine:
                    self._seen[pid] = max(self._seen.get(pid, 0.0), times[pid])


class CpuSeconds:
    """CPU seconds of this process (``own``) and of the processes it starts (``started``: browser,
    renderers, the join, WeasyPrint's workers) while in use."""

    def __enter__(self) -> CpuSeconds:
        import resource

        self._before = resource.getrusage(resource.RUSAGE_SELF)
        self._others = DescendantsCpu().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        import resource

        self._others.__exit__(*exc)
        after = resource.getrusage(resource.RUSAGE_SELF)
        before = self._before
        self.own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        self.started = self._others.seconds

    def figures(self) -> dict[str, float]:
        return {"cpu_pmsync_s": round(self.own, 1), "cpu_started_s": round(self.started, 1)}


def _print(workdir: Path, engine: PdfEngine, *, tagged: bool) -> dict[str, Any]:
    """The PDF as ``write_report`` prints it, written where :func:`pack_length` reads it; with the
    CPU seconds of this process and of the processes it started (browser, renderers, join)."""
    report = Report.model_validate_json((workdir / "model.json").read_text(encoding="utf-8"))
    path = workdir / "out" / "report.pdf"
    path.parent.mkdir(exist_ok=True)
    with CpuSeconds() as cpu:
        path.write_bytes(report_to_pdf(report, engine=engine, tagged=tagged))
    return {
        **cpu.figures(),
        "items": len(report.projects),
        "bytes": path.stat().st_size,
        "engine": resolve_engine(engine).engine,
        "tagged": int(tagged),
        **pack_length(path, report),
    }


def report_pdf(size: int, workdir: Path) -> dict[str, Any]:
    return _print(workdir, "auto", tagged=True)


def report_pdf_untagged(size: int, workdir: Path) -> dict[str, Any]:
    return _print(workdir, "auto", tagged=False)


def report_pdf_weasyprint(size: int, workdir: Path) -> dict[str, Any]:
    return _print(workdir, "weasyprint", tagged=True)


prepare_report_pdf_untagged = prepare_report_render
prepare_report_pdf_weasyprint = prepare_report_render


def prepare_pmsync_report(size: int, workdir: Path) -> None:
    prepare_report_build(size, workdir)
    raw = yaml.safe_load((workdir / "pmsync.yaml").read_text(encoding="utf-8"))
    raw["reports"] = {"formats": ["html", "xlsx", "json", "pdf"]}  # the default PDF engine
    (workdir / "pmsync.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")


def pmsync_report(size: int, workdir: Path) -> dict[str, Any]:
    """What a PM runs: ``pmsync report`` for the period, every format, in this process; with the CPU
    seconds of this process and of those it started (the browser, its renderers, the join), which
    say what the run costs where the wall time says how busy the machine was, and the PDF's pages."""
    from pmsync.cli import cli

    out = workdir / "cli-out"
    clock.set_now(BUILT_AT)
    args = ["--config", str(workdir / "pmsync.yaml"), "-q", "report", "--period", str(PERIOD)]
    # its "wrote ..." lines would break the table
    with CpuSeconds() as cpu, contextlib.redirect_stdout(io.StringIO()):
        cli.main([*args, "--out", str(out)], standalone_mode=False)
    files = sorted(out.iterdir())
    assert [f.suffix for f in files] == [".html", ".json", ".pdf", ".xlsx"], files
    return {
        **cpu.figures(),
        "items": size,
        "bytes": sum(f.stat().st_size for f in files),
        "engine": resolve_engine().engine,
        "pages": _pages(files[2]),
    }


def _pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as document:
        return len(document.pages)


STAGES = [
    ("report: build the model from the store (projects)", report_build, [64, 125, 250, 500], [8, 16]),
    ("report: render HTML + XLSX + JSON (projects)", report_render, [64, 125, 250, 500], [8, 16]),
    # The default engine (Chromium when installed: one headless browser, a tab per core printing
    # chunks of 20 projects, tagged, joined by the parent with their structure trees).
    ("report: print the PDF, default engine (projects)", report_pdf, [125, 250, 500], [8, 16]),
    # The same untagged: what the structure tree costs (never what a user gets).
    ("report: print the PDF, default engine, untagged (projects)", report_pdf_untagged, [500], [16]),
    # WeasyPrint, the fallback, lays out ~5 pages per project, ~0.7 s of one core each; chunks are
    # printed one per core (workers' memory is not in the peak column), so time grows linearly.
    ("report: print the PDF with WeasyPrint (projects)", report_pdf_weasyprint, [64, 125], [8]),
    # The whole command, in one process as a PM runs it: build, then HTML, XLSX, PDF and JSON.
    (
        "report: pmsync report, all formats, default PDF engine (projects)",
        pmsync_report,
        [125, 250, 500],
        [8, 16],
    ),
]
