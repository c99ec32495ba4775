"""Baselines: capture, approve, list, diff and re-baseline, with an audit trail oversight can read.

A pmsync baseline is a :class:`~pmsync.model.Baseline` record plus one
:class:`~pmsync.model.BaselineItem` per work item (all sources of the project), stored like any other
record with source system ``pmsync``, instance ``baselines``, so the store's history keeps every
version. Numbers count up per project from 1; each item's ``item`` is the work item's full source key
(``msproject:plan:erp.xml#12``), because a pmsync baseline spans systems.

Rules oversight bodies rely on:
- an approved baseline never changes: approving it again, or anything else that would alter it,
  raises :class:`~pmsync.errors.ReconcileError` saying so and what to do instead;
- the plan of record changes only by re-baselining: a new baseline, approved with who, when, why and
  the change request — and the trail lists every re-baseline with the baseline it replaced;
- baselines stored in MS Project files (Baseline0-10, system ``msproject``) are listed too and one can
  be adopted as the approved baseline: it is copied into a pmsync baseline first, so a later edit of
  the file cannot change the plan of record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pmsync import clock
from pmsync.errors import ReconcileError
from pmsync.model import Baseline, BaselineItem, SourceRef, WorkItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.results import BaselineEvent, BaselineInfo
from pmsync.store import Store

SYSTEM = "pmsync"
INSTANCE = "baselines"
#: the store source name pmsync's own baseline records are written under (and locked by)
SOURCE_NAME = "pmsync-baselines"


def baseline_ref(project: str, number: int) -> SourceRef:
    return SourceRef(system=SYSTEM, instance=INSTANCE, external_id=f"{project}/{number}")


def is_pmsync(baseline: Baseline) -> bool:
    return baseline.source.system == SYSTEM and baseline.source.instance == INSTANCE


def label(baseline: Baseline) -> str:
    """How a baseline is named on the command line: ``3`` for pmsync's, else its source key."""
    return str(baseline.number) if is_pmsync(baseline) else baseline.source.key()


def item_key(baseline: Baseline, item: BaselineItem) -> str:
    """The full source key of the work item a baseline item describes."""
    if is_pmsync(baseline):
        return item.item
    return f"{baseline.source.system}:{baseline.source.instance}:{item.item}"


def info(baseline: Baseline, item_count: int = 0) -> BaselineInfo:
    return BaselineInfo(
        number=baseline.number,
        name=baseline.name,
        system=baseline.source.system,
        instance=baseline.source.instance,
        captured_at=baseline.captured_at,
        approved=baseline.approved_at is not None,
        approved_by=baseline.approved_by,
        approved_at=baseline.approved_at,
        reason=baseline.reason,
        change_request=baseline.change_request,
        item_count=item_count,
    )


class ItemChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    name: str | None = None
    change: str  # "added", "removed", "moved", "cost changed", "moved, cost changed"
    start_before: str | None = None
    start_after: str | None = None
    finish_before: str | None = None
    finish_after: str | None = None
    #: working days the finish moved, positive = later
    finish_moved_days: int | None = None
    cost_before: Decimal | None = None
    cost_after: Decimal | None = None


class BaselineDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str
    before: str
    after: str
    added: int = 0
    removed: int = 0
    moved: int = 0
    cost_changed: int = 0
    cost_before: Decimal = Decimal(0)
    cost_after: Decimal = Decimal(0)
    changes: list[ItemChange] = Field(default_factory=list)


@dataclass
class BaselineRegister:
    """The baselines of one project in one store."""

    store: Store
    project: str

    # -- reading ---------------------------------------------------------------------------------

    def baselines(self, as_of: datetime | None = None) -> list[Baseline]:
        """Every baseline of the project (pmsync's and imported ones), pmsync's first, by number."""
        found = list(self.store.iter_records(Baseline, project=self.project, as_of=as_of))
        return sorted(found, key=lambda b: (not is_pmsync(b), b.source.system, b.source.instance, b.number))

    def get(self, ident: str | int, as_of: datetime | None = None) -> Baseline:
        """A baseline by pmsync number (``3``) or by its source key (``msproject:plan:erp.xml#baseline0``)."""
        text = str(ident).strip()
        for baseline in self.baselines(as_of):
            if (text.isdigit() and is_pmsync(baseline) and baseline.number == int(text)) or (
                baseline.source.key() == text
            ):
                return baseline
        known = ", ".join(label(b) for b in self.baselines(as_of)) or "none yet"
        raise ReconcileError(
            f"no baseline {text!r}",
            record=f"project {self.project}",
            hint=f"known baselines: {known}; `pmsync baseline capture --project {self.project}` makes one",
        )

    def items(self, baseline: Baseline, as_of: datetime | None = None) -> Iterator[BaselineItem]:
        """The items of ``baseline`` (streamed)."""
        for item in self.store.iter_records(BaselineItem, project=self.project, as_of=as_of):
            if (
                item.baseline_number == baseline.number
                and item.source.system == baseline.source.system
                and item.source.instance == baseline.source.instance
                and (is_pmsync(baseline) or item.scope == baseline.scope)
            ):
                yield item

    def item_counts(self, as_of: datetime | None = None) -> dict[str, int]:
        """Number of items per baseline, by baseline source key (one pass over the project's items)."""
        counts: dict[str, int] = {}
        baselines = self.baselines(as_of)
        for item in self.store.iter_records(BaselineItem, project=self.project, as_of=as_of):
            for baseline in baselines:
                if (
                    item.baseline_number == baseline.number
                    and item.source.system == baseline.source.system
                    and item.source.instance == baseline.source.instance
                    and (is_pmsync(baseline) or item.scope == baseline.scope)
                ):
                    key = baseline.source.key()
                    counts[key] = counts.get(key, 0) + 1
                    break
        return counts

    def approved(
        self, as_of: datetime | None = None, *, listed: list[Baseline] | None = None
    ) -> Baseline | None:
        """The plan of record: the most recently approved pmsync baseline. On a valid-time view of the
        store (a report for an earlier status date), the one in force at that date; when none was
        approved by then, the first approved afterwards (:func:`approved_after` says so).
        ``listed``: :meth:`baselines` at ``as_of``, when the caller has just read them."""
        listed = self.baselines(as_of) if listed is None else listed
        approved = [b for b in listed if is_pmsync(b) and b.approved_at is not None]
        cutoff = self.store.valid_time.valid_at if self.store.valid_time is not None else None
        if cutoff is not None and approved:
            in_force = [b for b in approved if b.approved_at is not None and b.approved_at <= cutoff]
            if not in_force:
                return min(approved, key=lambda b: (b.approved_at, b.number))
            approved = in_force
        return max(approved, key=lambda b: (b.approved_at, b.number), default=None)

    def history(
        self, as_of: datetime | None = None, *, listed: list[Baseline] | None = None
    ) -> list[BaselineEvent]:
        """The audit trail: captures, imports, approvals and re-baselines, oldest first. ``listed``:
        :meth:`baselines` at ``as_of``, when the caller has just read them."""
        events: list[BaselineEvent] = []
        approvals: list[Baseline] = []
        for baseline in self.baselines(as_of) if listed is None else listed:
            if is_pmsync(baseline):
                events.append(
                    BaselineEvent(action="captured", number=baseline.number, at=baseline.captured_at)
                )
                if baseline.approved_at is not None:
                    approvals.append(baseline)
            else:
                events.append(
                    BaselineEvent(
                        action="imported",
                        number=baseline.number,
                        at=baseline.captured_at,
                        reason=baseline.reason,
                    )
                )
        previous: Baseline | None = None
        for baseline in sorted(approvals, key=lambda b: (b.approved_at, b.number)):
            events.append(
                BaselineEvent(
                    action="approved" if previous is None else "rebaselined",
                    number=baseline.number,
                    at=baseline.approved_at,
                    by=baseline.approved_by,
                    reason=baseline.reason,
                    change_request=baseline.change_request,
                    replaces=None if previous is None else previous.number,
                )
            )
            previous = baseline
        order = {"imported": 0, "captured": 1, "approved": 2, "rebaselined": 2}
        return sorted(events, key=lambda e: (e.at is None, e.at or datetime.min, order[e.action], e.number))

    # -- writing ---------------------------------------------------------------------------------

    def capture(self, name: str | None = None) -> tuple[Baseline, int]:
        """Snapshot the project's current work items (all sources) as a new, unapproved baseline."""
        with self.store.source_lock(SOURCE_NAME):
            number = self._next_number()
            baseline = Baseline(
                source=baseline_ref(self.project, number),
                project=self.project,
                number=number,
                name=name or f"Baseline {number}",
                captured_at=clock.now(),
            )
            items = self._items_from(self.store.iter_records(WorkItem, project=self.project), number)
            with self.store.writer(SOURCE_NAME) as writer:
                counts = writer.upsert(items)
                writer.upsert([baseline])
        if counts.inserted == 0:
            raise ReconcileError(
                "no work items to baseline",
                record=f"project {self.project}",
                hint="run `pmsync sync` first, and check the project's links in pmsync.yaml",
            )
        return baseline, counts.inserted

    def approve(
        self, ident: str | int, *, by: str, reason: str, change_request: str | None = None
    ) -> Baseline:
        """Approve a baseline as the plan of record. Approving while another is approved is a
        re-baseline and needs a change request. An imported baseline is copied first."""
        if not by.strip() or not reason.strip():
            raise ReconcileError("approval needs who approved it (--by) and why (--reason)")
        with self.store.source_lock(SOURCE_NAME):
            baseline = self.get(ident)
            if baseline.approved_at is not None:
                raise ReconcileError(
                    f"baseline {label(baseline)} of {self.project} was approved on "
                    f"{baseline.approved_at:%Y-%m-%d} by {baseline.approved_by}; "
                    "approved baselines never change",
                    record=f"baseline {baseline.source.key()}",
                    hint="to change the plan of record, capture a new baseline and approve it with a change "
                    "request (`pmsync baseline rebaseline`)",
                )
            current = self.approved()
            if current is not None and not (change_request or "").strip():
                raise ReconcileError(
                    f"baseline {current.number} is already approved, so this is a "
                    "re-baseline and needs the change request that authorised it",
                    record=f"project {self.project}",
                    hint="add --change-request CR-...",
                )
            if not is_pmsync(baseline):
                baseline = self._adopt(baseline)
            approved = baseline.model_copy(
                update={
                    "approved_by": by.strip(),
                    "approved_at": clock.now(),
                    "reason": reason.strip(),
                    "change_request": (change_request or "").strip() or None,
                }
            )
            with self.store.writer(SOURCE_NAME) as writer:
                writer.upsert([approved])
        return approved

    def rebaseline(self, *, by: str, reason: str, change_request: str, name: str | None = None) -> Baseline:
        """Capture the current plan and approve it in one step, replacing the approved baseline."""
        if self.approved() is None:
            raise ReconcileError(
                "no approved baseline to replace",
                record=f"project {self.project}",
                hint="capture and approve the first baseline with `pmsync baseline capture` and `approve`",
            )
        if not change_request.strip():
            raise ReconcileError("a re-baseline needs the change request that authorised it")
        baseline, _ = self.capture(name)
        return self.approve(baseline.number, by=by, reason=reason, change_request=change_request)

    def _next_number(self) -> int:
        numbers = [b.number for b in self.baselines() if is_pmsync(b)]
        return max(numbers, default=0) + 1

    def _items_from(self, work_items: Iterator[WorkItem], number: int) -> Iterator[BaselineItem]:
        for work in work_items:
            key = work.source.key()
            yield BaselineItem(
                source=SourceRef(
                    system=SYSTEM, instance=INSTANCE, external_id=f"{self.project}/{number}/{key}"
                ),
                project=self.project,
                baseline_number=number,
                item=key,
                start=work.start,
                finish=work.finish or work.due,
                cost=work.cost,
                work_hours=work.effort_estimate_hours,
                duration_days=work.duration_days,
            )

    def _adopt(self, imported: Baseline) -> Baseline:
        """Copy an imported baseline (e.g. MS Project Baseline 0) into a new pmsync baseline."""
        number = self._next_number()
        copy = Baseline(
            source=baseline_ref(self.project, number),
            project=self.project,
            number=number,
            name=f"{imported.name or 'Baseline'} from {imported.source.key()}",
            captured_at=imported.captured_at or clock.now(),
        )

        def items() -> Iterator[BaselineItem]:
            for item in self.items(imported):
                key = item_key(imported, item)
                yield item.model_copy(
                    update={
                        "source": SourceRef(
                            system=SYSTEM, instance=INSTANCE, external_id=f"{self.project}/{number}/{key}"
                        ),
                        "baseline_number": number,
                        "item": key,
                        "scope": "",
                        "source_modified": None,
                    }
                )

        with self.store.writer(SOURCE_NAME) as writer:
            writer.upsert(items())
            writer.upsert([copy])
        return copy

    # -- comparing -------------------------------------------------------------------------------

    def diff(
        self, before: str | int, after: str | int, calendar: WorkingCalendar | None = None
    ) -> BaselineDiff:
        """Items added, removed, moved (start or finish) and re-costed from ``before`` to ``after``."""
        cal = calendar or WorkingCalendar()
        a, b = self.get(before), self.get(after)
        old = {item_key(a, i): i for i in self.items(a)}
        new = {item_key(b, i): i for i in self.items(b)}
        names = {w.source.key(): w.name for w in self.store.iter_records(WorkItem, project=self.project)}
        changes: list[ItemChange] = []
        counts = {"added": 0, "removed": 0, "moved": 0, "cost changed": 0}
        for key in sorted(old.keys() | new.keys()):
            was, now = old.get(key), new.get(key)
            what: list[str] = []
            if was is None:
                what.append("added")
            elif now is None:
                what.append("removed")
            else:
                if (was.start, was.finish) != (now.start, now.finish):
                    what.append("moved")
                if (was.cost or Decimal(0)) != (now.cost or Decimal(0)):
                    what.append("cost changed")
            if not what:
                continue
            for word in what:
                counts[word] += 1
            moved = (
                cal.variance(was.finish, now.finish) if was and now and was.finish and now.finish else None
            )
            changes.append(
                ItemChange(
                    item=key,
                    name=names.get(key),
                    change=", ".join(what),
                    start_before=_iso(was.start if was else None),
                    start_after=_iso(now.start if now else None),
                    finish_before=_iso(was.finish if was else None),
                    finish_after=_iso(now.finish if now else None),
                    finish_moved_days=moved,
                    cost_before=was.cost if was else None,
                    cost_after=now.cost if now else None,
                )
            )
        return BaselineDiff(
            project=self.project,
            before=label(a),
            after=label(b),
            added=counts["added"],
            removed=counts["removed"],
            moved=counts["moved"],
            cost_changed=counts["cost changed"],
            cost_before=sum((i.cost or Decimal(0) for i in old.values()), Decimal(0)),
            cost_after=sum((i.cost or Decimal(0) for i in new.values()), Decimal(0)),
            changes=changes,
        )


def _iso(value: object) -> str | None:
    return None if value is None else str(value)
