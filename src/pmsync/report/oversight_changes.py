"""Oversight changes since the previous report: a new or changed CIO rating, independent findings
raised or closed, escalation triggers newly tripped, and gate decisions taken. Computed by comparing
reconcile's oversight figures now with those as of the previous report (from the store's history,
like the other changes), never by re-reading a source."""

from __future__ import annotations

from pmsync.reconcile.oversight_results import OversightMeasures
from pmsync.report.model import Change


def oversight_changes(key: str, now: OversightMeasures, before: OversightMeasures | None) -> list[Change]:
    if before is None:
        return []
    changes: list[Change] = []
    if now.cio is not None and (
        before.cio is None or (before.cio.rating, before.cio.rated_on) != (now.cio.rating, now.cio.rated_on)
    ):
        changes.append(
            Change(
                project=key,
                kind="cio_rating",
                text=f"CIO rating {now.cio.rating} ({now.cio.rag}) of {now.cio.rated_on}: {now.cio.reason}",
                before=str(before.cio.rating) if before.cio else None,
                after=str(now.cio.rating),
            )
        )
    was_open = {f.ref for f in before.findings if f.open}
    known = {f.ref for f in before.findings}
    for f in now.findings:
        if f.ref not in known and f.open:
            changes.append(
                Change(
                    project=key,
                    kind="finding_raised",
                    text=f"{f.severity} finding raised: {f.title}",
                    after=f.action_status,
                    records=[f.ref],
                )  # fmt: skip
            )
        elif f.ref in was_open and not f.open:
            changes.append(
                Change(
                    project=key,
                    kind="finding_closed",
                    text=f"finding closed: {f.title}",
                    before="open",
                    after=f"closed {f.closed_on}",
                    records=[f.ref],
                )  # fmt: skip
            )
    tripped_before = {t.label for t in before.triggers if t.tripped}
    for t in now.triggers:
        if t.tripped and t.label not in tripped_before:
            changes.append(
                Change(
                    project=key,
                    kind="trigger_tripped",
                    text=f"{t.label}: {t.explanation}",
                    after=None if t.figure_percent is None else f"{t.figure_percent:+.1f} %",
                )  # fmt: skip
            )
    decided_before = {(g.gate, g.decided_on) for g in before.gates}
    for g in now.gates:
        if g.decided_on is not None and (g.gate, g.decided_on) not in decided_before:
            changes.append(
                Change(
                    project=key,
                    kind="gate_decision",
                    text=f"{g.gate}: {g.state.replace('_', ' ')}",
                    after=str(g.decided_on),
                )  # fmt: skip
            )
    return changes
