"""The sandbox Jira's data: realistic projects generated lazily and deterministically from a seed.

Nothing is materialised up front, so a sandbox of 10^6 issues costs no more memory than one of 10:
issue ``n`` of project ``p`` is recomputed from ``(seed, p, n)`` whenever it is read, and only issues
that changed since (updated, created, deleted, moved out) are kept, as overrides.

Base issues are laid out so that ``updated`` grows with the issue number: the issues matching
``updated >= T`` in a project are a suffix found by arithmetic, not by a scan. Every change is logged
with the position the issue held before it (:class:`Mutation`), which lets the web app reproduce how
offset paging (Data Center ``startAt``) shifts when issues move under it.
"""

from __future__ import annotations

import heapq
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pmsync import clock as pmsync_clock

DAY_MS = 86_400_000
T = TypeVar("T")

#: (status id, name, category key) — category keys are Jira's: new, indeterminate, done
STATUSES: dict[str, tuple[str, str]] = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"),
    "Done": ("10002", "done"),
    "Open": ("10100", "new"),
    "Mitigating": ("10101", "indeterminate"),
    "Closed": ("10102", "done"),
}
WORKFLOWS: dict[str, tuple[str, ...]] = {
    "delivery": ("To Do", "In Progress", "In Review", "Done"),
    "raid": ("Open", "Mitigating", "Closed"),
}
#: issue type name → (id, hierarchy level, is sub-task, workflow)
ISSUE_TYPES: dict[str, tuple[str, int, bool, str]] = {
    "Epic": ("10000", 1, False, "delivery"),
    "Story": ("10001", 0, False, "delivery"),
    "Task": ("10002", 0, False, "delivery"),
    "Bug": ("10004", 0, False, "delivery"),
    "Sub-task": ("10003", -1, True, "delivery"),
    "Risk": ("10100", 0, False, "raid"),
    "Impediment": ("10101", 0, False, "raid"),
    "Decision": ("10102", 0, False, "raid"),
    "Action Item": ("10103", 0, False, "raid"),
}
#: the type of issue ``n`` by its position in a block of 20 (pos 18 rotates through the RAID types)
_BLOCK = 20
_LAYOUT = (
    "Epic", "Story", "Story", "Story", "Sub-task", "Sub-task", "Bug", "Story", "Story", "Story",
    "Sub-task", "Sub-task", "Task", "Risk", "Story", "Story", "Sub-task", "Bug", "", "Task",
)  # fmt: skip
_ROTATING = ("Impediment", "Decision", "Action Item", "Story")
TEAMS = ("Platform", "Payments", "Data", "Citizen Portal")
USERS = (
    ("5b10a2844c20165700ede21g", "Alana Grant", "agrant"),
    ("5b10ac8d82e05b22cc7d4ef5", "Mia Krystof", "mkrystof"),
    ("5b109f2e9729b51b54dc274d", "Dev Patel", "dpatel"),
    ("5b10a0effa615349cb016cd8", "Lee Wong", "lwong"),
    ("5b10ac8d82e05b22cc7d4ef6", "Sam Okafor", "sokafor"),
)
_VERBS = ("Build", "Migrate", "Design", "Test", "Integrate", "Document", "Harden", "Automate")
_NOUNS = (
    "payment gateway", "identity service", "case intake form", "reporting API", "audit log",
    "data warehouse load", "citizen portal search", "notification service", "records archive",
)  # fmt: skip
SPRINT_DAYS = 14


#: releases per project: (name, days from the anchor to its release date); the past ones are released
RELEASES: tuple[tuple[str, int], ...] = (("R1", -150), ("R2", -90), ("R3", -30), ("R4", 45))
_WORK_TYPES = ("Story", "Task", "Bug")


def issue_type_of(n: int) -> str:
    name = _LAYOUT[(n - 1) % _BLOCK]
    return name or _ROTATING[((n - 1) // _BLOCK) % len(_ROTATING)]


@dataclass(frozen=True)
class Transition:
    at_ms: int
    from_status: str
    to_status: str
    author: int


@dataclass(frozen=True)
class Edit:
    """A change to a field other than status (assignee, sprint, story points, labels...)."""

    at_ms: int
    field: str
    from_string: str | None
    to_string: str | None
    author: int


#: fields a long-lived issue keeps being edited in (Jira changelog ``field`` names)
EDITED_FIELDS = ("assignee", "Sprint", "Story Points", "labels", "description", "priority")


@dataclass(frozen=True)
class Worklog:
    id: int
    started_ms: int
    seconds: int
    author: int


@dataclass(frozen=True)
class IssueState:
    """One issue as the sandbox holds it; rendered to Jira JSON by the web app."""

    project: str
    number: int
    type: str
    summary: str
    status: str
    created_ms: int
    updated_ms: int
    assignee: int | None
    reporter: int
    priority: str
    parent: int | None  # parent issue number (epic via parent field, or sub-task's parent)
    epic_link: int | None  # legacy Epic Link (issue number)
    story_points: float | None
    start_date: str | None
    target_end: str | None
    due_date: str | None
    sprint: int | None  # sprint number within the project
    team: int | None
    estimate_seconds: int | None
    history: tuple[Transition, ...]
    worklogs: tuple[Worklog, ...]
    labels: tuple[str, ...] = ()
    probability: str | None = None
    impact: str | None = None
    deleted: bool = False
    moved_to: str | None = None
    #: non-status edits; long-lived issues have dozens, so their first status change falls outside
    #: the 40 most recent histories that Cloud's search expansion carries
    edits: tuple[Edit, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"

    @property
    def alive(self) -> bool:
        return not self.deleted and self.moved_to is None

    @property
    def spent_seconds(self) -> int:
        return sum(w.seconds for w in self.worklogs)


SortKey = tuple[int, str, int]  # (updated_ms, project key, number) — Jira's "ORDER BY updated, key"


@dataclass(frozen=True)
class Mutation:
    """A change that moved or removed an issue: where it sat before, for offset-paging shifts."""

    seq: int
    project: str
    type: str
    old: SortKey
    deleted: bool


@dataclass
class ProjectSpec:
    key: str
    name: str
    index: int
    size: int
    created: int = 0  # issues created after generation (numbers size+1 ...)


@dataclass
class JiraData:
    """The issue store behind the sandbox: lazy base issues plus overrides for what changed."""

    projects: Sequence[tuple[str, str]]
    issues_per_project: int
    seed: int = 1
    anchor: datetime | None = None
    span_days: int = 240
    #: the sandbox's clock: pmsync's own (real time, or the demo's and tests' pinned clock)
    clock: Callable[[], datetime] = field(default=pmsync_clock.now)
    specs: dict[str, ProjectSpec] = field(init=False)
    overrides: dict[tuple[str, int], IssueState] = field(init=False, default_factory=dict)
    #: (updated, project, number) of overridden issues in the order they changed
    changed: list[SortKey] = field(init=False, default_factory=list)
    mutations: list[Mutation] = field(init=False, default_factory=list)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if self.anchor is None:
            now = self.clock().replace(second=0, microsecond=0)
            self.anchor = now - timedelta(minutes=10)
        self.anchor_ms = int(self.anchor.timestamp() * 1000)
        self.specs = {
            key: ProjectSpec(key, name, i, self.issues_per_project)
            for i, (key, name) in enumerate(self.projects)
        }
        self._step = max(1, self.span_days * DAY_MS // max(1, self.issues_per_project))
        self._last_now = self.anchor_ms
        self._cache: dict[tuple[str, int], IssueState] = {}

    # -- time ---------------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The sandbox clock in ms, strictly increasing so every change has its own instant."""
        now = int(self.clock().timestamp() * 1000)
        self._last_now = max(now, self._last_now + 1)
        return self._last_now

    def base_updated(self, spec: ProjectSpec, n: int) -> int:
        return self.anchor_ms - (spec.size - n) * self._step - spec.index * 1000

    def first_base_number(self, spec: ProjectSpec, since_ms: int) -> int:
        """The smallest issue number whose base ``updated`` is at or after ``since_ms``."""
        offset = self.anchor_ms - spec.index * 1000 - since_ms  # = (size - n) * step at the boundary
        if offset < 0:
            return spec.size + 1
        return max(1, spec.size - offset // self._step)

    # -- reading ------------------------------------------------------------------------------
    def get(self, project: str, n: int) -> IssueState | None:
        spec = self.specs.get(project)
        if spec is None or n < 1 or n > spec.size + spec.created:
            return None
        state = self.overrides.get((project, n))
        return state if state is not None else self.generate(spec, n)

    def find(self, key: str) -> IssueState | None:
        project, _, number = key.rpartition("-")
        if not number.isdigit():
            return None
        state = self.get(project, int(number))
        return state if state is not None and state.alive else None

    def generate(self, spec: ProjectSpec, n: int) -> IssueState:
        """Issue ``n`` of ``spec`` exactly as it was generated from the seed (parents are asked for
        again and again while rendering their children, so recent ones are cached)."""
        cached = self._cache.get((spec.key, n))
        if cached is not None:
            return cached
        if len(self._cache) > 4096:
            self._cache.clear()
        state = self._cache[(spec.key, n)] = self._generate(spec, n)
        return state

    def _generate(self, spec: ProjectSpec, n: int) -> IssueState:
        rng = _Bits(self.seed * 1_000_003 + spec.index * 10_000_019 + n)
        kind = issue_type_of(n)
        workflow = WORKFLOWS[ISSUE_TYPES[kind][3]]
        updated = self.base_updated(spec, n)
        created = updated - rng.randint(1, 45) * DAY_MS - rng.randint(0, DAY_MS)
        age = 1.0 - n / max(1, spec.size)  # older issues (small n) are further along
        roll = rng.random()
        stage = len(workflow) - 1 if roll < 0.15 + 0.7 * age else (1 if roll < 0.85 else 0)
        if stage == len(workflow) - 1 and len(workflow) == 4 and rng.random() < 0.1:
            stage = 2
        history: list[Transition] = []
        if stage:
            span = updated - created
            for i in range(1, stage + 1):
                at = updated if i == stage else created + span * i // (stage + 1)
                history.append(Transition(at, workflow[i - 1], workflow[i], rng.randrange(len(USERS))))
        edits: tuple[Edit, ...] = ()
        if history and n % 9 == 3 and ISSUE_TYPES[kind][3] == "delivery":
            # a long-lived issue: 45..70 edits after work started, until its last status change
            first, last = history[0].at_ms, history[-1].at_ms if len(history) > 1 else updated
            count = rng.randint(45, 70)
            edits = tuple(
                Edit(
                    first + (last - first) * (i + 1) // (count + 2),
                    EDITED_FIELDS[i % len(EDITED_FIELDS)],
                    f"v{i}",
                    f"v{i + 1}",
                    rng.randrange(len(USERS)),
                )
                for i in range(count)
            )
        block_start = n - (n - 1) % _BLOCK
        epic = block_start if block_start != n else None
        parent_story = n - 1
        while parent_story > block_start and issue_type_of(parent_story) == "Sub-task":
            parent_story -= 1
        delivery = ISSUE_TYPES[kind][3] == "delivery"
        created_day = datetime.fromtimestamp(created / 1000, UTC).date()
        start = created_day + timedelta(days=rng.randint(0, 10))
        target = start + timedelta(days=rng.choice((14, 21, 28, 45, 60, 90)))
        points = float(rng.choice((1, 2, 3, 5, 8, 13))) if kind in ("Story", "Bug", "Task") else None
        sprint = None
        if kind in ("Story", "Bug", "Task", "Sub-task"):
            sprint = max(1, (created - (self.anchor_ms - self.span_days * DAY_MS)) // (SPRINT_DAYS * DAY_MS))
        worklogs: tuple[Worklog, ...] = ()
        if delivery and kind != "Epic" and stage:
            count = rng.randint(1, 4)
            worklogs = tuple(
                Worklog(
                    id=(spec.index * 10_000_000 + n) * 10 + i,
                    started_ms=created + (updated - created) * (i + 1) // (count + 1),
                    seconds=1800 * rng.randint(1, 12),
                    author=rng.randrange(len(USERS)),
                )
                for i in range(count)
            )
        # Cloud team-managed projects link stories to epics through `parent`; older company-managed
        # ones (and Data Center) through the Epic Link custom field: generate both styles.
        uses_parent = ((n - 1) // _BLOCK) % 2 == 0
        return IssueState(
            project=spec.key,
            number=n,
            type=kind,
            summary=f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}"
            + (" (epic)" if kind == "Epic" else f" #{n}"),
            status=workflow[stage],
            created_ms=created,
            updated_ms=updated,
            assignee=rng.randrange(len(USERS)) if rng.random() < 0.85 else None,
            reporter=rng.randrange(len(USERS)),
            priority=rng.choice(("Highest", "High", "Medium", "Medium", "Low")),
            parent=parent_story if kind == "Sub-task" else (epic if uses_parent and delivery else None),
            epic_link=epic if (not uses_parent and delivery and kind != "Sub-task") else None,
            story_points=points,
            start_date=start.isoformat() if delivery else None,
            target_end=target.isoformat() if kind in ("Epic", "Story", "Task") else None,
            due_date=target.isoformat() if (not delivery or rng.random() < 0.3) else None,
            sprint=int(sprint) if sprint is not None else None,
            team=((n - 1) // _BLOCK) % len(TEAMS),
            estimate_seconds=int(points * 4 * 3600) if points else None,
            history=tuple(history),
            worklogs=worklogs,
            labels=("raid",) if not delivery else (),
            probability=rng.choice(("Low", "Medium", "High")) if kind == "Risk" else None,
            impact=rng.choice(("Low", "Medium", "High")) if kind == "Risk" else None,
            edits=edits,
        )

    # -- ordered streams ----------------------------------------------------------------------
    # -- releases and links (derived from the issue number, so both sides of a link agree) ----------
    def release_of(self, state: IssueState) -> int | None:
        """Index into :data:`RELEASES` of the release an issue is planned for (its fixVersion)."""
        if state.type not in _WORK_TYPES and state.type != "Sub-task" or state.sprint is None:
            return None
        sprints = max(1, self.span_days // SPRINT_DAYS)
        return min(len(RELEASES) - 1, state.sprint * len(RELEASES) // sprints)

    def release_date_ms(self, index: int) -> int:
        return self.anchor_ms + RELEASES[index][1] * DAY_MS

    @staticmethod
    def blockers(state: IssueState) -> list[int]:
        """Issue numbers that block this one ("is blocked by"): every fourth piece of work waits for
        the one before it when that is work of the same epic block."""
        n = state.number
        if (
            state.type in _WORK_TYPES
            and n % 4 == 0
            and (n - 1) % _BLOCK
            and issue_type_of(n - 1) in _WORK_TYPES
        ):
            return [n - 1]
        return []

    @staticmethod
    def blocked(state: IssueState) -> list[int]:
        """Issue numbers this one blocks (the other side of :meth:`blockers`)."""
        n = state.number + 1
        work = state.type in _WORK_TYPES and issue_type_of(n) in _WORK_TYPES
        if work and n % 4 == 0 and (n - 1) % _BLOCK:
            return [n]
        return []

    def by_updated(
        self, projects: Sequence[str], since_ms: int, after: SortKey | None = None
    ) -> Iterator[tuple[SortKey, Hit]]:
        """Live issues of ``projects`` with ``updated >= since_ms``, in (updated, key) order,
        starting after ``after`` (a continuation point) when given."""
        start_ms = max(since_ms, after[0]) if after is not None else since_ms
        streams: list[Iterator[tuple[SortKey, Hit]]] = [
            self._base_stream(self.specs[project], start_ms) for project in projects
        ]
        streams.append(self._changed_stream(set(projects), start_ms))
        merged = heapq.merge(*streams, key=lambda item: item[0])
        if after is None:
            return merged
        return (item for item in merged if item[0] > after)

    def _base_stream(self, spec: ProjectSpec, since_ms: int) -> Iterator[tuple[SortKey, Hit]]:
        for n in range(self.first_base_number(spec, since_ms), spec.size + 1):
            if (spec.key, n) in self.overrides:
                continue
            yield (self.base_updated(spec, n), spec.key, n), Hit(self, spec, n)

    def _changed_stream(self, projects: set[str], since_ms: int) -> Iterator[tuple[SortKey, Hit]]:
        with self.lock:
            changed = list(self.changed)
        index = _bisect(changed, since_ms)
        for sort_key in changed[index:]:
            _, project, n = sort_key
            if project not in projects:
                continue
            state = self.overrides.get((project, n))
            if state is not None and state.alive and state.updated_ms == sort_key[0]:
                yield sort_key, Hit(self, self.specs[project], n, state)

    def by_key(self, projects: Sequence[str], after: SortKey | None = None) -> Iterator[tuple[SortKey, Hit]]:
        """Live issues of ``projects`` in key order (project key, then number), after ``after``."""
        for project in sorted(projects):
            if after is not None and project < after[1]:
                continue
            spec = self.specs[project]
            first = after[2] + 1 if after is not None and project == after[1] else 1
            for n in range(first, spec.size + spec.created + 1):
                state = self.overrides.get((project, n))
                if state is not None and not state.alive:
                    continue
                yield (0, project, n), Hit(self, spec, n, state)

    # -- changing (the "advance time" API) ----------------------------------------------------
    def _replace(self, old: IssueState, new: IssueState, *, moved: bool) -> None:
        with self.lock:
            self.overrides[(old.project, old.number)] = new
            if moved:
                self.mutations.append(
                    Mutation(
                        len(self.mutations) + 1,
                        old.project,
                        old.type,
                        (old.updated_ms, old.project, old.number),
                        not new.alive,
                    )
                )
            if new.alive:
                self.changed.append((new.updated_ms, new.project, new.number))

    def update(self, key: str) -> IssueState:
        """Move ``key`` one step along its workflow (or re-estimate it when done), as a user would."""
        with self.lock:
            old = self._require(key)
            now = self.now_ms()
            workflow = WORKFLOWS[ISSUE_TYPES[old.type][3]]
            position = workflow.index(old.status) if old.status in workflow else 0
            changes: dict[str, object] = {"updated_ms": now}
            if position + 1 < len(workflow):
                status = workflow[position + 1]
                changes["status"] = status
                changes["history"] = (*old.history, Transition(now, old.status, status, old.reporter))
                if ISSUE_TYPES[old.type][3] == "delivery" and old.type != "Epic":
                    log = Worklog(old.number * 100 + len(old.worklogs) + 90, now - 3_600_000, 3600, 0)
                    changes["worklogs"] = (*old.worklogs, log)
            else:
                changes["summary"] = old.summary + " (revised)"
                if old.story_points is not None:
                    changes["story_points"] = old.story_points + 1
            new = replace(old, **changes)  # type: ignore[arg-type]
            self._replace(old, new, moved=True)
            return new

    def edit(
        self,
        key: str,
        *,
        status: str | None = None,
        due_date: str | None = None,
        target_end: str | None = None,
    ) -> IssueState:
        """Set an issue's status and dates, as a user editing it would (a status change is a transition
        in its history); returns the issue unchanged when nothing differs."""
        with self.lock:
            old = self._require(key)
            changes: dict[str, object] = {}
            if due_date is not None and due_date != old.due_date:
                changes["due_date"] = due_date
            if target_end is not None and target_end != old.target_end:
                changes["target_end"] = target_end
            now = self.now_ms() if changes or (status is not None and status != old.status) else 0
            if status is not None and status != old.status:
                changes["status"] = status
                changes["history"] = (*old.history, Transition(now, old.status, status, old.reporter))
            if not changes:
                return old
            new = replace(old, updated_ms=now, **changes)  # type: ignore[arg-type]
            self._replace(old, new, moved=True)
            return new

    def delete(self, key: str) -> None:
        with self.lock:
            old = self._require(key)
            self._replace(old, replace(old, deleted=True), moved=True)

    def move_out(self, key: str, to_project: str = "ARCHIVE") -> None:
        """Move ``key`` to a project outside the sandbox's scope (its old key stops resolving)."""
        with self.lock:
            old = self._require(key)
            self._replace(old, replace(old, moved_to=to_project, updated_ms=self.now_ms()), moved=True)

    def create(self, project: str, kind: str = "Story") -> IssueState:
        with self.lock:
            spec = self.specs[project]
            spec.created += 1
            n = spec.size + spec.created
            template = self.generate(spec, min(n, max(spec.size, 1)))
            now = self.now_ms()
            state = replace(
                template,
                number=n,
                type=kind,
                summary=f"New {kind.lower()} #{n}",
                status=WORKFLOWS[ISSUE_TYPES[kind][3]][0],
                created_ms=now,
                updated_ms=now,
                history=(),
                edits=(),
                worklogs=(),
                parent=None,
            )
            self.overrides[(project, n)] = state
            self.changed.append((now, project, n))
            return state

    def _require(self, key: str) -> IssueState:
        state = self.find(key)
        if state is None:
            raise KeyError(f"no live issue {key!r} in the sandbox")
        return state

    def live_keys(self, projects: Sequence[str] | None = None) -> Iterator[str]:
        for _, hit in self.by_key(list(projects or self.specs)):
            yield hit.key

    def pick(self, count: int, *, rng: random.Random) -> list[str]:
        """``count`` distinct live issue keys chosen at random across all projects."""
        chosen: set[str] = set()
        specs = list(self.specs.values())
        attempts = 0
        while len(chosen) < count and attempts < count * 20 + 100:
            attempts += 1
            spec = rng.choice(specs)
            total = spec.size + spec.created
            if total == 0:
                continue
            state = self.get(spec.key, rng.randint(1, total))
            if state is not None and state.alive:
                chosen.add(state.key)
        return sorted(chosen)


_MASK = (1 << 64) - 1


class _Bits:
    """A tiny deterministic generator (splitmix64): seeding ``random.Random`` per issue cost more than
    generating the issue, and this sandbox generates every issue each time it is read."""

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = (seed * 0x9E3779B97F4A7C15) & _MASK

    def next64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self.next64() >> 11) / float(1 << 53)

    def randrange(self, stop: int) -> int:
        return self.next64() % stop

    def randint(self, low: int, high: int) -> int:
        return low + self.next64() % (high - low + 1)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.next64() % len(options)]


class Hit:
    """An issue found by a search, materialised only when its fields are asked for (key-only scans
    of 10^6 issues never generate them)."""

    __slots__ = ("data", "spec", "number", "_state")

    def __init__(
        self, data: JiraData, spec: ProjectSpec, number: int, state: IssueState | None = None
    ) -> None:
        self.data = data
        self.spec = spec
        self.number = number
        self._state = state

    @property
    def project(self) -> str:
        return self.spec.key

    @property
    def key(self) -> str:
        return f"{self.spec.key}-{self.number}"

    @property
    def state(self) -> IssueState:
        if self._state is None:
            self._state = self.data.generate(self.spec, self.number)
        return self._state

    @property
    def type(self) -> str:
        return self._state.type if self._state is not None else issue_type_of(self.number)

    @property
    def updated_ms(self) -> int:
        if self._state is not None:
            return self._state.updated_ms
        return self.data.base_updated(self.spec, self.number)


def _bisect(changed: list[SortKey], since_ms: int) -> int:
    lo, hi = 0, len(changed)
    while lo < hi:
        mid = (lo + hi) // 2
        if changed[mid][0] < since_ms:
            lo = mid + 1
        else:
            hi = mid
    return lo
