"""Fault switches for 200 answers to a search that are not a normal search page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: 200 answers to a search that are not a normal page, by name (see :class:`BrokenPage`)
BROKEN_ANSWERS = (
    "empty-object", "issues-missing", "issues-string", "issues-empty", "issues-empty-last",
    "issues-empty-more",
)  # fmt: skip


@dataclass
class BrokenPage:
    """A fault switch: the next matching search requests get a 200 whose body is not a normal page.

    Gateways, WAFs and proxies in front of Jira, and Jira itself under load, answer 200 with bodies
    a client must not believe (issue 21 of pmsync collects the reports): ``{}``; a page without
    ``issues`` or with ``issues`` as a string; an empty ``issues`` with no ``isLast``; the whole
    result "empty, last page" for a project that has issues; an empty page although ``isLast`` is
    false (Cloud) or ``startAt`` is below ``total`` (Data Center).

    ``answer`` is one of :data:`BROKEN_ANSWERS`; only searches whose JQL contains ``jql_contains``
    count (e.g. ``"ORDER BY key"`` for the deletion scan); the first ``after`` of them are answered
    normally, then ``times`` of them (``-1``: all) get the broken answer.
    """

    answer: str
    jql_contains: str | None = None
    after: int = 0
    times: int = 1
    seen: int = 0
    served: int = 0

    def take(self, jql: str) -> bool:
        if self.jql_contains is not None and self.jql_contains not in jql:
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times >= 0 and self.served >= self.times):
            return False
        self.served += 1
        return True

    def body(self, cloud: bool, start: int, size: int, total: int) -> dict[str, Any]:
        offset = {"startAt": start, "maxResults": size}
        if self.answer == "empty-object":
            return {}
        if self.answer == "issues-missing":
            return {"isLast": True} if cloud else {**offset, "total": total}
        if self.answer == "issues-string":
            listed = "ERP-1,ERP-2"
            return {"issues": listed, "isLast": True} if cloud else {**offset, "total": 2, "issues": listed}
        if self.answer == "issues-empty":
            return {"issues": []}
        if self.answer == "issues-empty-last":
            return {"issues": [], "isLast": True} if cloud else {**offset, "total": 0, "issues": []}
        if self.answer == "issues-empty-more":
            return (
                {"issues": [], "isLast": False, "nextPageToken": "c2FuZGJveC1lbXB0eQ=="}
                if cloud
                else {**offset, "total": max(total, start + 1), "issues": []}
            )
        raise ValueError(f"unknown broken answer {self.answer!r}; one of {', '.join(BROKEN_ANSWERS)}")
