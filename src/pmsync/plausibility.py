"""Warnings about records that are readable but implausible, for the run ledger.

The policy (docs/guarantees.md, "Implausible values"): a value pmsync cannot store truthfully is an
error at the connector (an amount past the bound, a percentage outside 0..100, a date in year 9999);
a combination that can be true at a source but usually is a data-entry slip is kept as the source
says and listed in the run ledger's notes, so a reader sees it without the sync failing. Today that
is a work item whose finish is before its start.
"""

from __future__ import annotations

from pmsync.model import Record, WorkItem


def warnings_for(record: Record) -> list[str]:
    """Notes for the run ledger about ``record`` (empty when it looks plausible)."""
    if isinstance(record, WorkItem) and record.start and record.finish and record.finish < record.start:
        return [
            f"work item {record.source.external_id!r} finishes ({record.finish}) before it starts "
            f"({record.start}); kept as the source says"
        ]
    return []
