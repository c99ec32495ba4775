"""The XLSX writer: one sheet per section, real numbers and dates, ready to filter.

Each sheet has a frozen, bold header row, an autofilter over its data, column widths and number
formats (money ``#,##0.00``, indices ``0.00``, dates ``yyyy-mm-dd``). Per-project sections share one
sheet with a ``Project`` column, so a reader filters instead of hunting through tabs.

Text from source systems is untrusted: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would be read by Excel as a formula (CSV/formula injection, e.g. ``=HYPERLINK(...)``).
Such text is written as a string cell with the ``quotePrefix`` style (Excel's own "leading
apostrophe"), so it shows verbatim and can never be evaluated. Characters XML forbids are removed.

Reproducibility: document properties take the report's data timestamp and every zip entry gets the
same fixed date, so the same report model gives byte-identical files.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from pmsync.reconcile.results import RagRating
from pmsync.report import formatting
from pmsync.report.model import Report

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY = "#,##0.00"
RATIO = "0.00"
DAYS = "0.0"
DATE = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F3F4F6")


@dataclass(frozen=True)
class Column:
    title: str
    format: str | None = None
    width: int = 14


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones; the header says UTC and the model's moments are UTC.
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _needs_quote(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


class _PinnedZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one fixed date, so saving twice gives the same bytes."""

    FIXED = (1980, 1, 1, 0, 0, 0)

    def writestr(  # type: ignore[override]
        self, zinfo_or_arcname: str | zipfile.ZipInfo, data: bytes | str, *args: Any, **kwargs: Any
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._pinned(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(  # type: ignore[override]
        self, filename: str, arcname: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        # openpyxl writes worksheets via temporary files, whose mtime would end up in the archive.
        with open(filename, "rb") as handle:
            self.writestr(self._pinned(arcname or filename), handle.read())

    def _pinned(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.FIXED)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info


def _add_sheet(wb: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append([c.title for c in columns])
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    count = 0
    for row in rows:
        count += 1
        ws.append([_cell_value(v) for v in row])
        for column, cell in zip(columns, ws[ws.max_row], strict=True):
            if _needs_quote(cell.value):
                cell.data_type = "s"  # openpyxl guessed "f" (formula) from the leading "="
                cell.quotePrefix = True
            elif column.format and cell.value is not None and not isinstance(cell.value, str):
                cell.number_format = column.format
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A1:{last}{max(count + 1, 2)}"


def _rag(rating: RagRating) -> str:
    return formatting.rag_word(rating.status)


def _money_cols(*names: str) -> list[Column]:
    return [Column(name, MONEY, 15) for name in names]


Sheet = tuple[str, list[Column], Callable[[], Iterable[Sequence[Any]]]]


def _portfolio_sheets(report: Report) -> list[Sheet]:
    key = Column("Project", width=14)
    return [
        (
            "Portfolio",
            [
                key,
                Column("Name", width=30),
                Column("Program"),
                Column("Tier", width=9),
                *(Column(n, width=12) for n in ("Schedule", "Cost", "Scope", "Risk", "Overall", "Trend")),
                Column("Previous overall", width=12),
                Column("Why", width=50),
                Column("Currency", width=9),
                *_money_cols("Budget", "Actual", "Forecast"),
                Column("Next milestone", width=28),
                Column("Next milestone date", DATE, 12),
                Column("Needs attention", width=10),
            ],
            lambda: (
                [
                    r.key,
                    r.name,
                    r.program,
                    r.tier,
                    *(_rag(x) for x in r.ratings()),
                    formatting.trend_word(r.trend),
                    formatting.rag_word(r.previous_overall) if r.previous_overall else None,
                    r.overall.explanation,
                    r.currency,
                    r.budget,
                    r.actual,
                    r.forecast,
                    r.next_milestone.name if r.next_milestone else None,
                    r.next_milestone.date if r.next_milestone else None,
                    r.needs_attention,
                ]
                for r in report.portfolio
            ),
        ),
        (
            "Changes",
            [key, Column("Kind", width=18), Column("Change", width=60), Column("Before"), Column("After")],
            lambda: ([c.project, c.kind, c.text, c.before, c.after] for c in report.changes),
        ),
    ]


def _project_sheets(report: Report) -> list[Sheet]:
    projects = report.projects
    key = Column("Project", width=14)
    return [
        (
            "Status",
            [
                key,
                Column("Dimension", width=12),
                Column("RAG", width=12),
                Column("Why", width=70),
                Column("Rule", width=50),
            ],
            lambda: (
                [p.key, x.dimension, _rag(x), x.explanation, x.rule]
                for p in projects
                for x in p.measures.rag.as_list()
            ),
        ),
        (
            "Summary",
            [key, Column("Executive summary", width=100), Column("Narrative source", width=40)],
            lambda: ([p.key, p.summary.text, p.summary.narrative_source] for p in projects),
        ),
        (
            "Milestones",
            [
                key,
                Column("Milestone", width=34),
                Column("Record", width=24),
                Column("Baseline finish", DATE, 12),
                Column("Current finish", DATE, 12),
                Column("Actual finish", DATE, 12),
                Column("Variance (working days)", "0", 12),
                Column("State", width=12),
                Column("Explanation", width=50),
            ],
            lambda: (
                [
                    p.key,
                    ms.name,
                    ms.source.key(),
                    ms.baseline_finish,
                    ms.current_finish,
                    ms.actual_finish,
                    ms.variance_working_days,
                    formatting.milestone_word(ms.state),
                    ms.explanation,
                ]
                for p in projects
                for ms in p.measures.schedule.milestones
            ),
        ),
        (
            "EVM",
            [
                key,
                Column("Status date", DATE, 12),
                Column("Currency", width=9),
                *_money_cols("BAC", "PV", "EV", "AC", "SV", "CV"),
                Column("SPI", RATIO, 8),
                Column("CPI", RATIO, 8),
                *_money_cols("EAC", "ETC", "VAC"),
                Column("TCPI", RATIO, 8),
                Column("EAC formula", width=50),
                Column("Basis", width=40),
            ],
            lambda: (
                [
                    p.key,
                    e.status_date,
                    e.currency,
                    e.bac,
                    e.pv,
                    e.ev,
                    e.ac,
                    e.sv,
                    e.cv,
                    e.spi,
                    e.cpi,
                    e.eac,
                    e.etc,
                    e.vac,
                    e.tcpi,
                    e.eac_formula,
                    e.basis,
                ]
                for p in projects
                if (e := p.measures.evm) is not None
            ),
        ),
        (
            "S-curve",
            [key, Column("Period", width=10), Column("Period end", DATE, 12), *_money_cols("PV", "EV", "AC")],
            lambda: (
                [p.key, pt.label, pt.period_end, pt.pv, pt.ev, pt.ac]
                for p in projects
                if p.measures.evm is not None
                for pt in p.measures.evm.s_curve
            ),
        ),
        (
            "Budget",
            [
                key,
                Column("Category", width=24),
                Column("Fiscal year", width=10),
                Column("Fiscal period", width=10),
                *_money_cols("Budget", "Actual", "Committed", "Forecast", "Remaining"),
            ],
            lambda: (
                [
                    p.key,
                    b.category,
                    b.fiscal_year,
                    b.fiscal_period,
                    b.budget,
                    b.actual,
                    b.commitment,
                    b.forecast,
                    b.budget - b.actual - b.commitment,
                ]
                for p in projects
                for b in p.measures.cost.by_category
            ),
        ),
        (
            "Risks",
            [
                key,
                Column("Risk", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Status"),
                Column("Probability", RATIO, 10),
                Column("Impact", RATIO, 10),
                Column("Score", RATIO, 8),
                Column("Due", DATE, 12),
                Column("Mitigation", width=40),
            ],
            lambda: (
                [
                    p.key,
                    k.title,
                    k.ref,
                    k.owner,
                    k.status,
                    k.probability,
                    k.impact,
                    k.score,
                    k.due,
                    k.mitigation,
                ]
                for p in projects
                for k in p.risks
            ),
        ),
        (
            "Issues",
            [
                key,
                Column("Issue", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Status"),
                Column("Priority"),
                Column("Due", DATE, 12),
            ],
            lambda: (
                [p.key, i.title, i.ref, i.owner, i.status, i.priority, i.due]
                for p in projects
                for i in p.issues
            ),
        ),
        (
            "Decisions",
            [
                key,
                Column("Decision", width=40),
                Column("Ref", width=24),
                Column("Decided by", width=18),
                Column("Decided on", DATE, 12),
                Column("Status"),
            ],
            lambda: (
                [p.key, d.title, d.ref, d.decided_by, d.decided_on, d.status]
                for p in projects
                for d in p.decisions
            ),
        ),
        (
            "Actions",
            [
                key,
                Column("Action", width=40),
                Column("Ref", width=24),
                Column("Owner", width=18),
                Column("Due", DATE, 12),
                Column("Status"),
                Column("Overdue", width=9),
            ],
            lambda: (
                [p.key, a.title, a.ref, a.owner, a.due, a.status, a.overdue]
                for p in projects
                for a in p.actions
            ),
        ),
        (
            "Baselines",
            [
                key,
                Column("When (UTC)", MOMENT, 17),
                Column("Action", width=12),
                Column("Baseline", "0", 9),
                Column("By", width=18),
                Column("Change request"),
                Column("Reason", width=40),
                Column("Replaces", "0", 9),
                Column("Used", width=7),
            ],
            lambda: (
                [
                    p.key,
                    ev.at,
                    ev.action,
                    ev.number,
                    ev.by,
                    ev.change_request,
                    ev.reason,
                    ev.replaces,
                    p.measures.baseline is not None and p.measures.baseline.number == ev.number,
                ]
                for p in projects
                for ev in p.measures.baseline_history
            ),
        ),
        (
            "Health",
            [
                key,
                Column("Schedule", width=22),
                Column("DCMA", "0", 6),
                Column("Check", width=26),
                Column("Result", width=10),
                Column("Flagged", "0", 8),
                Column("Population", "0", 10),
                Column("Value", RATIO, 10),
                Column("Threshold", width=16),
                Column("Explanation", width=60),
            ],
            lambda: (
                [
                    p.key,
                    h.schedule,
                    c.dcma_number,
                    c.title,
                    "n/a" if c.passed is None else ("pass" if c.passed else "fail"),
                    c.flagged,
                    c.population,
                    c.metric,
                    c.threshold_text,
                    c.explanation,
                ]
                for p in projects
                for h in p.measures.health
                for c in h.checks
            ),
        ),
        (
            "Exceptions",
            [
                key,
                Column("Kind", width=20),
                Column("Severity", width=10),
                Column("Records", width=40),
                Column("Detail", width=70),
            ],
            lambda: (
                [p.key, x.kind, x.severity, ", ".join(x.records), x.description]
                for p in projects
                for x in p.measures.exceptions
            ),
        ),
        (
            "Freshness",
            [
                key,
                Column("Source", width=20),
                Column("System", width=14),
                Column("Last sync (UTC)", MOMENT, 17),
                Column("Stale", width=7),
                Column("Note", width=40),
            ],
            lambda: (
                [p.key, f.source, f.system, f.last_sync, f.stale, f.note]
                for p in projects
                for f in p.freshness
            ),
        ),
    ]


def _appendix_sheets(report: Report) -> list[Sheet]:
    return [
        (
            "Sources",
            [
                Column("Source", width=20),
                Column("Type", width=16),
                Column("Last successful sync (UTC)", MOMENT, 20),
            ],
            lambda: ([s.name, s.type, s.last_successful_sync] for s in report.appendix.sources),
        ),
        (
            "Sync runs",
            [
                Column("Run", width=16),
                Column("Source", width=20),
                Column("Started (UTC)", MOMENT, 17),
                Column("Finished (UTC)", MOMENT, 17),
                Column("Status", width=10),
                Column("Records", "0", 10),
                Column("Note", width=40),
            ],
            lambda: (
                [r.run, r.source, r.started_at, r.finished_at, r.status, r.records, r.note]
                for r in report.appendix.sync_runs
            ),
        ),
    ]


def _about_rows(report: Report) -> list[list[Any]]:
    meta = report.meta
    return [
        ["Title", meta.title],
        ["Portfolio", meta.portfolio],
        ["Period", meta.period],
        ["Period start", meta.period_start],
        ["Period end", meta.period_end],
        ["Status date", meta.status_date],
        ["Compared with period", meta.previous_period],
        ["Scope", meta.scope],
        ["Projects", ", ".join(meta.projects)],
        ["Currency", meta.currency],
        ["Store as of (UTC)", meta.store.as_of],
        ["Newest change (UTC)", meta.store.data_through],
        ["Last successful sync run", meta.store.last_sync_run],
        ["pmsync version", meta.pmsync_version],
    ]


def build_workbook(report: Report) -> Workbook:
    wb = Workbook()
    about = wb.active
    about.title = "About"
    for label, value in _about_rows(report):
        about.append([label, _cell_value(value)])
        cell = about.cell(row=about.max_row, column=2)
        if isinstance(value, date | datetime):
            cell.number_format = MOMENT if isinstance(value, datetime) else DATE
        elif _needs_quote(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
        about.cell(row=about.max_row, column=1).font = _HEADER_FONT
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 60
    for title, columns, rows in (
        _portfolio_sheets(report) + _project_sheets(report) + _appendix_sheets(report)
    ):
        _add_sheet(wb, title, columns, rows())
    stamp = report.meta.generated_at.replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "pmsync"
    wb.properties.title = _cell_value(report.meta.title)
    return wb


def xlsx_bytes(report: Report) -> bytes:
    """The workbook as bytes; identical for identical report models."""
    wb = build_workbook(report)
    buffer = io.BytesIO()
    # ExcelWriter rather than wb.save(): save() stamps "modified" with the wall clock.
    with _PinnedZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    return buffer.getvalue()


__all__ = ["FORMULA_PREFIXES", "build_workbook", "xlsx_bytes"]
