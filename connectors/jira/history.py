"""Valid time from Jira: an issue's changelog (and worklogs) as :class:`pmsync.model.FieldChange` entries,
so a report for an earlier status date can say what the issue *was then* — its status, dates, story
points, assignee, parent and sprint — even when pmsync first synced it later (``pmsync.store.valid_time``).

Each changelog item says a field held ``from``/``fromString`` until the history's ``created`` moment
(Atlassian: "Get changelogs", ``GET /rest/api/3/issue/{issueIdOrKey}/changelog``). Items for fields
pmsync does not read are ignored. Derived fields follow the status: ``actual_start``/``started_at`` from
the first move out of a not-started status, ``actual_finish``/``done_at`` and ``percent_complete`` from
moves into and out of a done status. Worklogs count from their ``started`` date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pmsync.model import FieldChange, StatusCategory

#: fields of the changelog by field id (Cloud and Data Center send ``fieldId``) or by name
_BY_ID = {
    "status": "status",
    "assignee": "assignee",
    "duedate": "due",
    "parent": "parent",
    "timespent": "effort_actual_hours",
    "timeestimate": "effort_remaining_hours",
    "timeoriginalestimate": "effort_estimate_hours",
}
_BY_NAME = {
    "status": "status",
    "assignee": "assignee",
    "due date": "due",
    "parent": "parent",
    "timespent": "effort_actual_hours",
    "timeestimate": "effort_remaining_hours",
    "timeoriginalestimate": "effort_estimate_hours",
}
_SECONDS = ("effort_actual_hours", "effort_remaining_hours", "effort_estimate_hours")


def _moment(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        # Jira sends "2026-11-20T10:15:00.000+0000"; Python < 3.12 wants "+00:00"
        raw = str(text)
        if len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
            return _moment(f"{raw[:-2]}:{raw[-2:]}")
        return None
    return moment if moment.tzinfo else None


def _number(text: Any) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _sprint(text: Any) -> str | None:
    # several sprints read "Sprint 3, Sprint 4": the issue was in the last one
    names = [part.strip() for part in str(text or "").split(",") if part.strip()]
    return names[-1] if names else None


#: mapping roles (their field ids are the site's, resolved at sync start) → model fields
_ROLE_FIELDS = {
    "story_points": "story_points",
    "start_date": "start",
    "target_end": "finish",
    "sprint": "sprint",
    "epic_link": "parent",
}


def _field_of(item: Mapping[str, Any], role_ids: Mapping[str, Sequence[str]]) -> str | None:
    field_id = str(item.get("fieldId") or "")
    name = str(item.get("field") or "").casefold()
    if field_id:
        for role, model_field in _ROLE_FIELDS.items():
            if field_id in role_ids.get(role, ()):
                return model_field
    if field_id in _BY_ID:
        return _BY_ID[field_id]
    if name in ("story points", "story point estimate") and role_ids.get("story_points"):
        return "story_points"
    if name == "sprint" and role_ids.get("sprint"):
        return "sprint"
    if name in ("epic link", "parent link"):
        return "parent"
    return _BY_NAME.get(name)


class ChangelogFields:
    """Which model field a changelog item changes, for one run's role → field ids.

    A changelog names the same few fields over and over (10^4 issues carry ~60,000 items of a
    dozen fields), so each (``fieldId``, ``field``) pair is resolved once per run, not per item.
    """

    def __init__(self, role_ids: Mapping[str, Sequence[str]]) -> None:
        self.role_ids = role_ids
        self._known: dict[tuple[str, str], str | None] = {}

    def of(self, item: Mapping[str, Any]) -> str | None:
        """The model field ``item`` changes, or ``None`` for a field pmsync does not read."""
        key = (str(item.get("fieldId") or ""), str(item.get("field") or ""))
        try:
            return self._known[key]
        except KeyError:
            found = self._known[key] = _field_of(item, self.role_ids)
            return found


def _before(field: str, item: Mapping[str, Any]) -> Any:
    if field == "story_points":
        return _number(item.get("fromString"))
    if field in ("due", "start", "finish"):
        value = item.get("from") or item.get("fromString")
        return str(value)[:10] if value else None
    if field == "sprint":
        return _sprint(item.get("fromString"))
    if field in _SECONDS:
        seconds = _number(item.get("from"))
        return seconds / 3600 if seconds is not None else None
    return item.get("fromString") or None


def history_field_ids(role_ids: Mapping[str, Sequence[str]], limit: int = 10) -> list[str]:
    """The changelog field ids a rollback needs, most telling first, at most ``limit`` (Cloud's
    changelog bulkfetch takes 10 a request: one request per page of issues stays one). What falls
    beyond the limit (estimates first) is still read from the 40 inline histories."""
    ordered = [
        "status",
        *role_ids.get("story_points", ()),
        "duedate",
        *role_ids.get("target_end", ()),
        *role_ids.get("start_date", ()),
        *role_ids.get("sprint", ()),
        "assignee",
        "parent",
        *role_ids.get("epic_link", ()),
        "timespent",
        "timeestimate",
        "timeoriginalestimate",
    ]
    return list(dict.fromkeys(ordered))[:limit]


def with_inline_beyond(
    fetched: list[dict[str, Any]], raw: Mapping[str, Any], field_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """An issue's whole histories of ``field_ids`` (from the changelog bulkfetch) plus, from its
    inline changelog (the 40 most recent histories on Cloud), the items of every other field: the
    fields beyond the bulkfetch's 10 (the time-tracking ones first) keep their recent changes."""
    wanted = set(field_ids)
    beyond: list[dict[str, Any]] = []
    for history in (raw.get("changelog") or {}).get("histories") or []:
        items = [
            item
            for item in history.get("items") or []
            if str(item.get("fieldId") or item.get("field") or "") not in wanted
        ]
        if items:
            beyond.append({**history, "items": items})
    return [*fetched, *beyond] if beyond else fetched


#: a changelog history with its ``created`` moment read once (:func:`timed_histories`)
TimedHistory = tuple[datetime | None, Mapping[str, Any]]


def timed_histories(histories: Iterable[Mapping[str, Any]]) -> list[TimedHistory]:
    """Each history with its ``created`` moment parsed once, for every reader of the changelog: in
    the offset Jira wrote (the changes keep it), ``None`` when it is not a timezone-aware moment."""
    return [(_moment(history.get("created")), history) for history in histories]


def changelog_changes(
    histories: Iterable[TimedHistory],
    fields: ChangelogFields,
    category_of: Mapping[str, StatusCategory],
    *,
    owner_field: str = "assignee",
    derived: bool = True,
) -> list[FieldChange]:
    """The changes a changelog records, oldest first, under pmsync's field names. ``owner_field`` is
    the model's name for the assignee (``owner`` on RAID items); ``derived`` adds the fields a work
    item derives from its status."""
    events: list[tuple[datetime, Mapping[str, Any]]] = []
    for when, history in histories:
        if when is None:
            continue
        events.extend((when, item) for item in history.get("items") or [])
    events.sort(key=lambda event: event[0])
    changes: list[FieldChange] = []
    started: datetime | None = None
    done: datetime | None = None
    field_of = fields.of
    for when, item in events:
        field = field_of(item)
        if field is None:
            continue
        before = _before(field, item)
        if field == "status":
            before_category = category_of.get(str(before or "").casefold(), "not_started")
            after_category = category_of.get(str(item.get("toString") or "").casefold(), "in_progress")
            changes.append(FieldChange(at=when, field="status", before=before))
            changes.append(FieldChange(at=when, field="status_category", before=before_category))
            if not derived:
                continue
            if started is None and after_category != "not_started":
                changes.append(FieldChange(at=when, field="started_at", before=None))
                changes.append(FieldChange(at=when, field="actual_start", before=None))
                started = when
            after_done = when if after_category == "done" else None
            if after_done != done:
                changes.append(FieldChange(at=when, field="done_at", before=done))
                changes.append(
                    FieldChange(at=when, field="actual_finish", before=done.date() if done else None)
                )
                changes.append(FieldChange(at=when, field="percent_complete", before=100.0 if done else None))
                done = after_done
            continue
        if field == "assignee":
            field = owner_field
        elif not derived:
            continue  # RAID items carry status and owner only
        changes.append(FieldChange(at=when, field=field, before=before))
    return changes


def worklog_changes(worklogs: Iterable[Mapping[str, Any]], total_hours: float | None) -> list[FieldChange]:
    """``effort_actual_hours`` before each worklog's start: the hours logged by then."""
    logged = sorted(
        (when, float(log.get("timeSpentSeconds") or 0) / 3600)
        for log in worklogs
        if (when := _moment(log.get("started"))) is not None
    )
    if not logged or total_hours is None:
        return []
    changes: list[FieldChange] = []
    running = total_hours - sum(hours for _, hours in logged)
    for when, hours in logged:
        changes.append(FieldChange(at=when, field="effort_actual_hours", before=round(running, 4) or None))
        running += hours
    return changes
