"""Changes since the previous report, from the store's history (never by re-reading a source).

The previous report's figures are reconcile's measures computed *as of the previous period's end*, so
"what changed" compares two states the store itself kept: status changes per dimension, milestones
whose forecast moved later, risks opened since, re-baselines, and restatements of actuals in periods
the previous report already showed (see :mod:`pmsync.reconcile.restatements`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pmsync.reconcile.restatements import Restatement
from pmsync.reconcile.results import ProjectMeasures
from pmsync.report.formatting import rag_word
from pmsync.report.model import Change


def changes_between(
    key: str,
    current: ProjectMeasures,
    previous: ProjectMeasures | None,
    open_risks_now: dict[str, str],
    open_risks_before: dict[str, str],
    previous_as_of: datetime,
    as_of: datetime,
) -> list[Change]:
    """What changed for one project between the previous report's moment and this one's."""
    if previous is None:
        return [Change(project=key, kind="new_project", text=f"{key} is reported for the first time")]
    changes: list[Change] = []
    for now, before in zip(current.rag.as_list(), previous.rag.as_list(), strict=True):
        if now.status != before.status:
            changes.append(
                Change(
                    project=key,
                    kind="status_change",
                    text=f"{now.dimension.capitalize()} status went from {rag_word(before.status)} to "
                    f"{rag_word(now.status)}: {now.explanation}",
                    before=rag_word(before.status),
                    after=rag_word(now.status),
                )
            )
    earlier = {m.source.key(): m for m in previous.schedule.milestones}
    for milestone in current.schedule.milestones:
        old = earlier.get(milestone.source.key())
        if old is None:
            continue
        new_finish = milestone.actual_finish or milestone.current_finish
        old_finish = old.actual_finish or old.current_finish
        if new_finish is None or old_finish is None or new_finish <= old_finish:
            continue
        slip = f"{(new_finish - old_finish).days} calendar days"
        if milestone.variance_working_days is not None and old.variance_working_days is not None:
            slip = f"{milestone.variance_working_days - old.variance_working_days} working days"
        changes.append(
            Change(
                project=key,
                kind="milestone_slipped",
                text=f"Milestone {milestone.name} slipped {slip} (forecast {old_finish.isoformat()} → "
                f"{new_finish.isoformat()})",
                before=old_finish.isoformat(),
                after=new_finish.isoformat(),
            )
        )
    for ref in sorted(set(open_risks_now) - set(open_risks_before)):
        changes.append(
            Change(project=key, kind="new_risk", text=f"New risk: {open_risks_now[ref]}", after=ref)
        )
    changes.extend(_rebaselines(key, current, previous, previous_as_of, as_of))
    return changes


def _rebaselines(
    key: str, current: ProjectMeasures, previous: ProjectMeasures, previous_as_of: datetime, as_of: datetime
) -> list[Change]:
    events = [
        e
        for e in current.baseline_history
        if e.action == "rebaselined" and e.at is not None and previous_as_of < e.at <= as_of
    ]
    changes = [
        Change(
            project=key,
            kind="rebaseline",
            text=f"Re-baselined to baseline {e.number}"
            + (f" (change request {e.change_request})" if e.change_request else "")
            + (f": {e.reason}" if e.reason else ""),
            before=str(e.replaces) if e.replaces is not None else None,
            after=str(e.number),
        )
        for e in events
    ]
    now_number = current.baseline.number if current.baseline else None
    before_number = previous.baseline.number if previous.baseline else None
    if not changes and now_number != before_number and now_number is not None:
        changes.append(
            Change(
                project=key,
                kind="rebaseline",
                text=f"Variances are now measured against baseline {now_number} (was "
                f"{before_number if before_number is not None else 'none'})",
                before=str(before_number) if before_number is not None else None,
                after=str(now_number),
            )
        )
    return changes


def changes_of_restatements(key: str, currency: str, restated: Iterable[Restatement]) -> list[Change]:
    """One change per reported month of ``key`` whose actuals were restated since the previous report
    (``restated``: :func:`pmsync.reconcile.restatements.restatements` of the project)."""
    found = []
    for r in restated:
        direction = "fell" if r.amount < 0 else "rose" if r.amount > 0 else "did not change in total"
        parts = [
            f"{len(items)} line{'s' if len(items) != 1 else ''} {what}"
            for what, items in (("removed", r.removed), ("changed", r.changed), ("added", r.added))
            if items
        ]
        shown = ", ".join(r.records[:3]) + (f" and {len(r.records) - 3} more" if len(r.records) > 3 else "")
        amount = f" by {currency} {abs(r.amount):,.2f}" if r.amount else ""
        found.append(
            Change(
                project=key,
                kind="restatement",
                text=f"Actuals for {r.period} restated since the last report: they {direction}{amount} "
                f"(the lines concerned: {currency} {r.before:,.2f} → {r.after:,.2f}; "
                f"{', '.join(parts)}: {shown})",
                before=f"{r.before:.2f}",
                after=f"{r.after:.2f}",
                amount=r.amount,
                period=r.period,
                records=r.records,
            )
        )
    return found
