"""The parts of a project section that reconcile does not compute: narrative, RAID log, freshness.

Everything is read from the store *as of* the report's moment, so a past report rebuilds exactly. The
one exception is a ``narrative_file``, which lives on disk: put ``{period}`` in its name
(``narratives/ERP-{period}.md``) to keep one file per period and make old reports rebuild exactly too.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from pmsync.config import PmsyncConfig, ProjectConfig, SourceConfig
from pmsync.model import ActionItem, Decision, Issue, Project, Risk
from pmsync.report.model import (
    ActionRow,
    DecisionRow,
    ExecutiveSummary,
    IssueRow,
    RiskRow,
    SourceFreshness,
)
from pmsync.report.period import Period, ReportingCalendar
from pmsync.store import Store, SyncRunInfo

log = logging.getLogger(__name__)
_FAR = date.max
T = TypeVar("T")


def executive_summary(
    store: Store,
    config: PmsyncConfig,
    project: ProjectConfig | None,
    key: str,
    period: Period,
    as_of: datetime,
) -> ExecutiveSummary:
    """The PM's words: the ``narrative_file`` when configured, else a source's narrative field. Never
    invented: without either, the summary says so."""
    if project is not None and project.narrative_file is not None:
        written = str(project.narrative_file).replace("{period}", period.label)
        path = config.resolve_path(written)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            log.warning("project %s: narrative_file %s not found", key, path)
            return ExecutiveSummary(narrative_source=f"narrative_file {written} was not found")
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("project %s: cannot read narrative_file %s: %s", key, path, exc)
            return ExecutiveSummary(narrative_source=f"narrative_file {written} could not be read")
        if text:
            return ExecutiveSummary(
                narrative=text.replace("\r\n", "\n"), narrative_source=f"narrative_file {written}"
            )
    records = sorted(
        (
            r
            for r in store.iter_records(Project, project=key, as_of=as_of)
            if r.narrative and r.narrative.strip()
        ),
        key=lambda r: r.source.key(),
    )
    if records:
        return ExecutiveSummary(
            narrative=(records[0].narrative or "").strip(),
            narrative_source=f"source {records[0].source.key()}",
        )
    return ExecutiveSummary()


def _open(status_category: str) -> bool:
    return status_category != "done"


def _score(risk: Risk) -> float | None:
    if risk.score is not None:
        return risk.score
    if risk.probability is not None and risk.impact is not None:
        return risk.probability * risk.impact
    return None


@dataclass
class RaidLog:
    risks: list[RiskRow]
    issues: list[IssueRow]
    decisions: list[DecisionRow]
    actions: list[ActionRow]
    #: every open risk's source key (for "new risks since the last report")
    open_risk_keys: dict[str, str]


def open_risk_titles(store: Store, key: str, as_of: datetime) -> dict[str, str]:
    """Open risks of a project at ``as_of``: source key → title."""
    return {
        r.source.key(): r.title
        for r in store.iter_records(Risk, project=key, as_of=as_of)
        if _open(r.status_category)
    }


def raid_log(store: Store, key: str, as_of: datetime, status_date: date, top: int) -> RaidLog:
    """Open risks (highest score first), open issues and actions (earliest due first), decisions
    (newest first); ``top`` of each, streamed from the store so memory stays flat."""
    open_keys: dict[str, str] = {}

    def open_risks() -> Iterator[tuple[tuple[Any, ...], RiskRow]]:
        for r in store.iter_records(Risk, project=key, as_of=as_of):
            if not _open(r.status_category):
                continue
            ref = r.source.key()
            open_keys[ref] = r.title
            score = _score(r)
            row = RiskRow(
                title=r.title, ref=ref, owner=r.owner, status=r.status, probability=r.probability,
                impact=r.impact, score=score, due=r.due, mitigation=r.mitigation, raised_on=r.raised_on,
            )  # fmt: skip
            yield (-(score if score is not None else -1.0), r.due or _FAR, ref), row

    risks = _top(open_risks(), top)
    issues = _top(
        (
            ((i.due or _FAR, i.source.key()), IssueRow(
                title=i.title, ref=i.source.key(), owner=i.owner, status=i.status, priority=i.priority,
                due=i.due, raised_on=i.raised_on,
            ))
            for i in store.iter_records(Issue, project=key, as_of=as_of)
            if _open(i.status_category) and i.resolved_on is None
        ),
        top,
    )  # fmt: skip
    decisions = _top(
        (
            ((-(d.decided_on or date.min).toordinal(), d.source.key()), DecisionRow(
                title=d.title, ref=d.source.key(), decided_by=d.decided_by, decided_on=d.decided_on,
                status=d.status, description=d.description,
            ))
            for d in store.iter_records(Decision, project=key, as_of=as_of)
        ),
        top,
    )  # fmt: skip
    actions = _top(
        (
            ((a.due or _FAR, a.source.key()), ActionRow(
                title=a.title, ref=a.source.key(), owner=a.owner, status=a.status, due=a.due,
                overdue=a.due is not None and a.due < status_date,
            ))
            for a in store.iter_records(ActionItem, project=key, as_of=as_of)
            if _open(a.status_category)
        ),
        top,
    )  # fmt: skip
    return RaidLog(risks, issues, decisions, actions, open_keys)


def _top(items: Iterable[tuple[tuple[Any, ...], T]], top: int) -> list[T]:
    """The ``top`` items with the smallest sort keys, holding only ``top`` in memory (a heap)."""
    return [value for _, value in heapq.nsmallest(top, items, key=lambda pair: pair[0])]


class SyncHistory:
    """The run ledger up to the report's moment, read once per report."""

    def __init__(self, store: Store, config: PmsyncConfig, as_of: datetime, listed: int) -> None:
        self.as_of = as_of
        self.sources = list(config.sources)
        self.last_ok: dict[str, datetime | None] = {}
        self.runs: list[SyncRunInfo] = []
        for source in self.sources:
            # Newest first; runs after the report's moment are not part of its state.
            runs = [
                r
                for r in store.sync_runs(limit=listed + 200, source_name=source.name)
                if r.started_at <= as_of
            ]
            ok = [
                r.finished_at for r in runs if r.status == "ok" and r.finished_at and r.finished_at <= as_of
            ]
            self.last_ok[source.name] = max(ok, default=None)
            self.runs.extend(runs)
        self.runs.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
        self.runs = self.runs[:listed]

    @property
    def data_through(self) -> datetime | None:
        """When the newest successful sync finished: the report's data timestamp."""
        return max((m for m in self.last_ok.values() if m is not None), default=None)

    @property
    def last_run_id(self) -> str | None:
        ok = [r for r in self.runs if r.status == "ok"]
        return str(ok[0].run_id) if ok else None

    def freshness(
        self,
        project: ProjectConfig | None,
        reference: datetime,
        stale_after_hours: float,
        view: Store | None = None,
        calendar: ReportingCalendar | None = None,
    ) -> list[SourceFreshness]:
        """The sources feeding a project (its ``links``; all sources when it names none). With the
        report's valid-time ``view``, a source read from a snapshot taken after the status date says
        so ("as synced 2026-12-03, 3 days after the status date")."""
        late = view.valid_time.notes.snapshot_after if view is not None and view.valid_time else {}
        rows = []
        for source in self._sources_for(project):
            if source.name in late and view is not None and view.valid_time is not None:
                rows.append(
                    self._late_snapshot(source, late[source.name], view.valid_time.valid_on, calendar)
                )
                continue
            last = self.last_ok.get(source.name)
            if last is None:
                rows.append(SourceFreshness(source=source.name, system=source.type, stale=True,
                                            note="never synced successfully"))  # fmt: skip
                continue
            age = reference - last
            stale = age > timedelta(hours=stale_after_hours)
            note = f"{age.days} days {age.seconds // 3600} hours before the report" if stale else ""
            rows.append(
                SourceFreshness(
                    source=source.name, system=source.type, last_sync=last, stale=stale, note=note
                )
            )
        return rows

    def _late_snapshot(
        self, source: SourceConfig, moment: datetime, status_date: date, calendar: ReportingCalendar | None
    ) -> SourceFreshness:
        day = calendar.local_date(moment) if calendar is not None else moment.date()
        days = (day - status_date).days
        after = f"{days} day{'s' if days != 1 else ''} after" if days else "on"
        return SourceFreshness(
            source=source.name,
            system=source.type,
            last_sync=self.last_ok.get(source.name),
            stale=False,
            note=f"{source.type} keeps no history: read as saved or synced {day.isoformat()}, {after} "
            f"the status date {status_date.isoformat()}",
        )

    def _sources_for(self, project: ProjectConfig | None) -> list[SourceConfig]:
        if project is None or not project.links:
            return self.sources
        return [s for s in self.sources if s.name in project.links or s.type in project.links]
