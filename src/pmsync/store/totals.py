"""Cost totals: the finance ledger summed in SQL (``GROUP BY``), not read back line by line.

A report needs, per project and moment, actuals by month, kind, category and fiscal period (cost,
earned value, phasing), spend by task code (cross-checks), and actuals by vendor, purchase order,
account and fiscal year (contract burn, funding). Reading a 10^6-line ledger back as typed records to
add it up cost seconds per read (JSON decoding and model validation of every line), and a report
read it several times. Here the database adds the amounts up, one ``GROUP BY`` per purpose
(:data:`TotalsBy`, :data:`KEY_SETS`): one row per distinct combination of the fields that purpose
reads, with the sum of the amounts and the number of lines. Every figure computed from the rows is
the figure computed from the lines, since lines that agree on every field a computation reads are
indistinguishable to it; only the lines' own keys are lost (the few consumers that name lines read
just those: :func:`unowned_lines`, :func:`changed_actuals`).

**Dates.** A report compares a line's date (posting date, else period) only with month ends and
its status dates. So when the status dates are known (``cutoffs``: a report's views), lines are
grouped by the month of their date and by which side of each cut-off they fall on, and a total's
``posting_date`` is the earliest date of its lines: every comparison with a month end or a cut-off
gives for the total what it gives for each of its lines. Without cut-offs, totals keep the exact
date. The ``period`` of a total is the first day of its lines' period month (what phasing reads).

**Amounts stay exact**: PostgreSQL sums ``numeric``; SQLite has no decimal type, so its sum is a
``Decimal`` aggregate registered on each connection (:mod:`pmsync.store.sqlite_functions`), never a
float.

**One scan serves several moments**: each version row is tested against every moment asked for
(held then, and not a deletion) and the groups carry which moments they belong to, so a report
reads the ledger once for "now" and the previous report together. **One scan serves several
purposes** too: each line's fields are read out of its document once, and each purpose groups
them (one ``UNION ALL`` of a ``GROUP BY`` per purpose). The valid-time rules
for cost lines (``dated``, see :mod:`pmsync.store.valid_time`) depend only on grouped fields (kind,
date against the status date, created at), so they are applied to the groups afterwards, exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)

from pmsync.model import CostLine, WorkItem
from pmsync.store import cost_deltas
from pmsync.store.cost_groups import KEY_SETS as KEY_SETS
from pmsync.store.cost_groups import KINDS as KINDS
from pmsync.store.cost_groups import TotalsBy as TotalsBy
from pmsync.store.cost_groups import group_key as _key
from pmsync.store.cost_groups import line_day
from pmsync.store.cost_groups import payload_field as _payload_field
from pmsync.store.engine import lives_in_this_process
from pmsync.store.payload import from_payload, type_name
from pmsync.store.schema import Json, UTCDateTime, record_versions
from pmsync.store.schema import records as table
from pmsync.store.two_halves import a_second_process_helps, in_two_halves
from pmsync.store.valid_time import (
    ValidTimeNotes,
    ValidTimeRead,
    choose,
    grouped_versions,
)
from pmsync.store.versions import versions


@dataclass(frozen=True)
class CostTotal:
    """The sum of a project's cost lines that agree on every field below (``lines`` of them).

    The field names are :class:`pmsync.model.CostLine`'s, so a computation reads a total as it read
    a line. ``keys`` lists the lines' source keys only when the total was made from lines
    (:meth:`of_line`); totals summed by the store leave it empty."""

    project: str | None
    source_name: str
    system: str
    instance: str
    kind: str
    amount: Decimal
    lines: int
    currency: str = "USD"
    period: date | None = None
    posting_date: date | None = None
    fiscal_year: int | None = None
    fiscal_period: int | None = None
    account: str | None = None
    category: str | None = None
    vendor: str | None = None
    po_number: str | None = None
    task_code: str | None = None
    project_code: str | None = None
    keys: tuple[str, ...] = ()

    @property
    def day(self) -> date | None:
        """The date the lines count from: posting date, else period."""
        return self.posting_date or self.period

    @classmethod
    def of_line(cls, line: CostLine, source_name: str = "") -> CostTotal:
        """One line as a total of one (for computations handed lines rather than store totals)."""
        return cls(
            project=line.project,
            source_name=source_name,
            system=line.source.system,
            instance=line.source.instance,
            kind=line.kind,
            amount=line.amount,
            lines=1,
            currency=line.currency,
            period=line.period,
            posting_date=line.posting_date,
            fiscal_year=line.fiscal_year,
            fiscal_period=line.fiscal_period,
            account=line.account,
            category=line.category,
            vendor=line.vendor,
            po_number=line.po_number,
            task_code=line.task_code,
            project_code=line.project_code,
            keys=(line.source.key(),),
        )


@dataclass(frozen=True)
class GroupedTotal:
    """A total as the query returns it: the purpose it was summed for, which of the moments asked
    for it belongs to, the total, and the raw fields the valid-time rules read."""

    held: tuple[bool, ...]
    total: CostTotal
    created_at: str | None
    has_history: bool
    by: TotalsBy = "period"


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _total(row: Any, by: TotalsBy, fields: list[Any]) -> CostTotal:
    values = dict(zip(KEY_SETS[by], fields, strict=True))
    month = row.period_month
    return CostTotal(
        project=row.project,
        source_name=row.source_name,
        system=str(values["source.system"]),
        instance=str(values["source.instance"]),
        kind=str(values["kind"]),
        amount=Decimal(str(row.amount)),
        lines=int(row.lines),
        currency=str(values["currency"]) if values["currency"] is not None else "USD",
        period=None if month is None else _day(f"{month}-01"),
        posting_date=_day(row.first_day),
        fiscal_year=_int(values.get("fiscal_year")),
        fiscal_period=_int(values.get("fiscal_period")),
        account=_str(values.get("account")),
        category=_str(values.get("category")),
        vendor=_str(values.get("vendor")),
        po_number=_str(values.get("po_number")),
        task_code=_str(values.get("task_code")),
    )


def work_items_link_elsewhere(engine: Engine) -> bool:
    """Whether any stored work item (current or deleted) links to another system (``links`` not
    empty): only then do measures ask for the spend by task code (the cross-checks compare codes
    with those links). An index-free read that stops at the first such item."""
    sqlite = engine.dialect.name == "sqlite"
    links = _payload_field(table.c.payload, "links", sqlite)
    query = (
        select(literal(1))
        .where(table.c.record_type == type_name(WorkItem), links.is_not(None), links != "{}")
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


#: a whole ledger of at least this many current cost lines is summed in two halves at once on SQLite
#: (see :func:`grouped_totals`): below it, starting the second process costs more than it spares
SPLIT_FROM_LINES = 200_000

#: which projects a scan reads: those before the pivot and none (``False``), or from it (``True``)
Part = tuple[str, bool]


def grouped_totals(
    engine: Engine,
    moments: Sequence[datetime | None],
    project: str | None = None,
    *,
    by: TotalsBy | Sequence[TotalsBy] = "period",
    cutoffs: Sequence[date] = (),
) -> Iterator[GroupedTotal]:
    """Cost line totals for ``by`` (one purpose, or several: each total says which it is for) held
    at each of ``moments`` (``None``: the current state; then it must be the only moment),
    optionally of one project, from one scan of the ledger's versions. With ``cutoffs``, dates are
    grouped by month and side of each cut-off (see the module's notes); without, by their exact
    value.

    **Two cores.** SQLite runs a query on one core, and a report's scan of a large ledger is most
    of its time (10^6 lines: 10 s of 20 on a slow day). So when the whole ledger is read from a
    SQLite file and holds :data:`SPLIT_FROM_LINES` lines or more, the projects are cut in two halves
    of about as many lines each: a forked process sums the first half (and the lines of no
    project) while this one sums the second, both reading the same state of the store
    (:mod:`pmsync.store.two_halves`; when a sync holds the write lock, one scan). Every total has
    one project, so the halves' totals are the whole's; they are handed back in the order one scan
    gives (by purpose, then project). The current state is read in one scan (a view of the past
    is what reports read).

    **Totals the writer keeps.** With ``cutoffs`` and past moments (a report's views), the lines are
    not read: the sums come from the totals the writer keeps by month (:mod:`pmsync.store.cost_deltas`),
    and only the lines of the months a cut-off falls inside of are read, found by their date's index.
    Then a total's lines all fall in months on the same side of every cut-off, not always in one
    month, and the totals come in no particular order."""
    purposes: tuple[TotalsBy, ...] = (by,) if isinstance(by, str) else tuple(dict.fromkeys(by))
    if not purposes:
        return
    if cutoffs and None not in moments:
        yield from _from_kept_totals(
            engine, [m for m in moments if m is not None], project, purposes, cutoffs
        )
        return
    pivot = _pivot(engine) if project is None and None not in moments else None
    if pivot is None:
        yield from _scan(engine, moments, project, purposes, cutoffs)
        return
    yield from _scan_in_halves(engine, moments, purposes, cutoffs, pivot)


def _from_kept_totals(
    engine: Engine,
    moments: Sequence[datetime],
    project: str | None,
    purposes: tuple[TotalsBy, ...],
    cutoffs: Sequence[date],
) -> Iterator[GroupedTotal]:
    """:func:`grouped_totals` from the writer's totals, and the lines of the months a cut-off cuts,
    read in one transaction (one state of the store)."""
    cut = cost_deltas.months_cut(cutoffs)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql" and cut:
            # two statements, one state: PostgreSQL's default (READ COMMITTED) gives each statement
            # its own, and a sync committing between them could count a line moved across a cut
            # month in neither or in both (SQLite's transaction is one state already)
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        for row in cost_deltas.grouped_rows(conn, moments, purposes, cutoffs, project, cut):
            yield from _kept(row, len(moments))
        for month in cut:
            yield from _scan_on(conn, moments, project, purposes, cutoffs, None, month)


@dataclass(frozen=True)
class _AtMoment:
    """A kept group as held at one moment, with the attributes :func:`_total` reads of a row."""

    project: str | None
    source_name: str
    period_month: str | None
    first_day: str | None
    amount: Any
    lines: int


def _kept(row: Any, moments: int) -> Iterator[GroupedTotal]:
    """A row of :func:`cost_deltas.grouped_rows` as grouped totals: one held at every moment when the
    group was the same at all of them, else one per moment it held lines at."""
    purpose: TotalsBy = row.purpose
    fields = json.loads(row.k)  # written by Python as JSON text on both dialects
    values = dict(zip(KEY_SETS[purpose], fields, strict=True))
    project = row.project or None
    at = [
        _AtMoment(
            project,
            row.source_name,
            row.period_month,
            getattr(row, f"f{i}"),
            Decimal(str(getattr(row, f"a{i}"))) if getattr(row, f"l{i}") else Decimal(0),
            int(getattr(row, f"l{i}") or 0),
        )
        for i in range(moments)
    ]
    if all(a == at[0] for a in at[1:]):
        held_at: list[tuple[tuple[bool, ...], _AtMoment]] = [(tuple(True for _ in at), at[0])]
    else:
        held_at = [(tuple(j == i for j in range(moments)), a) for i, a in enumerate(at) if a.lines > 0]
    for held, group in held_at:
        yield GroupedTotal(
            held=held,
            total=_total(group, purpose, fields),
            created_at=_str(values["created_at"]),
            has_history=bool(values["history"]),
            by=purpose,
        )


def _pivot(engine: Engine) -> str | None:
    """The project that cuts a SQLite file's current cost lines in two halves of about as many lines,
    when there are :data:`SPLIT_FROM_LINES` or more, this platform can fork and this process may use
    two CPUs (on one, a second process only shares its time); else ``None``. Both questions are
    answered from the (record_type, project) index, not the lines."""
    if engine.dialect.name != "sqlite" or lives_in_this_process(engine) or not a_second_process_helps():
        return None
    owned = and_(table.c.record_type == "cost_line", table.c.project.is_not(None))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).where(owned)).scalar_one()
        if count < max(SPLIT_FROM_LINES, 2):
            return None
        middle = select(table.c.project).where(owned).order_by(table.c.project).offset(count // 2).limit(1)
        pivot: str | None = conn.execute(middle).scalar()
    return pivot


def _scan_in_halves(
    engine: Engine,
    moments: Sequence[datetime | None],
    purposes: tuple[TotalsBy, ...],
    cutoffs: Sequence[date],
    pivot: str,
) -> Iterator[GroupedTotal]:
    def half(upper: bool, conn: Connection) -> list[GroupedTotal]:
        return list(_scan_on(conn, moments, None, purposes, cutoffs, (pivot, upper)))

    halves = in_two_halves(engine, partial(half, False), partial(half, True))
    if halves is None:  # a sync is writing: one scan rather than wait for it
        yield from _scan(engine, moments, None, purposes, cutoffs)
        return
    for purpose in purposes:  # one scan's order: by purpose, then by project (none first)
        for totals in halves:
            yield from (g for g in totals if g.by == purpose)


def _scan(
    engine: Engine,
    moments: Sequence[datetime | None],
    project: str | None,
    purposes: tuple[TotalsBy, ...],
    cutoffs: Sequence[date],
) -> Iterator[GroupedTotal]:
    """One scan of the whole ledger (or of ``project``'s lines) for ``purposes``, on a connection of
    its own."""
    with engine.connect() as conn:
        yield from _scan_on(conn, moments, project, purposes, cutoffs, None)


def _scan_on(
    conn: Connection,
    moments: Sequence[datetime | None],
    project: str | None,
    purposes: tuple[TotalsBy, ...],
    cutoffs: Sequence[date],
    part: Part | None,
    month: str | None = None,
) -> Iterator[GroupedTotal]:
    """:func:`_scan` on ``conn``, in its transaction; with ``month`` (``YYYY-MM``), of the lines dated
    in that month only."""
    sqlite = conn.dialect.name == "sqlite"
    source, flags, params = _versions_held(moments, project, part, month, sqlite)
    payload = source.c.payload

    def field(path: str) -> Any:
        return _payload_field(payload, path, sqlite)

    # Each field is read from the document once, into a materialized table of plain columns: SQLite
    # would otherwise evaluate the date expressions below on the JSON again for every use. Several
    # purposes share that table, so the ledger's documents are read once for all of them.
    extracted = select(
        source.c.project,
        source.c.source_name,
        *flags,
        field("kind").label("kind"),
        *(_key(payload, KEY_SETS[p], sqlite).label(f"k_{p}") for p in purposes),
        field("posting_date").label("pd"),
        field("period").label("pe"),
        field("amount").label("amount"),
    )
    wanted = [KINDS[p] for p in purposes]
    if all(kinds is not None for kinds in wanted):
        extracted = extracted.where(field("kind").in_(sorted({k for kinds in wanted for k in kinds or ()})))
    rows = extracted.cte("cost_rows").prefix_with("MATERIALIZED")
    queries = [_grouped(rows, flags, purpose, cutoffs, sqlite) for purpose in purposes]
    query: Any = queries[0] if len(queries) == 1 else union_all(*queries)
    for row in conn.execute(query, params):
        purpose: TotalsBy = row.purpose
        paths = KEY_SETS[purpose]
        fields = json.loads(row.k) if isinstance(row.k, str) else row.k
        values = dict(zip(paths, fields, strict=True))
        yield GroupedTotal(
            held=tuple(bool(row[3 + i]) for i in range(len(flags))),
            total=_total(row, purpose, fields),
            created_at=_str(values["created_at"]),
            has_history=bool(values["history"]),
            by=purpose,
        )


def _grouped(rows: Any, flags: list[Any], by: TotalsBy, cutoffs: Sequence[date], sqlite: bool) -> Any:
    """The ``GROUP BY`` of one purpose over the extracted rows. Every purpose's query has the same
    columns (purpose, project, source name, flags, key, buckets, period month, sums), so that
    several are one ``UNION ALL``; a column a purpose does not group by is NULL."""
    period = by == "period"
    day = func.coalesce(rows.c.pd, rows.c.pe)
    keys = [rows.c.project, rows.c.source_name, *(rows.c[f.name] for f in flags), rows.c[f"k_{by}"]]
    columns = [literal(by).label("purpose"), *keys[:-1], keys[-1].label("k")]

    def grouped(name: str, value: Any | None) -> None:
        """A column that is grouped by, or NULL for this purpose (``value`` None)."""
        columns.append((null() if value is None else value).label(name))
        if value is not None:
            keys.append(value)

    if cutoffs:
        # the month matters to period figures only (month ends); the others compare with status dates
        grouped("b0", func.substr(day, 1, 7) if period else None)
        for i, cutoff in enumerate(cutoffs, start=1):
            grouped(f"b{i}", case((day <= cutoff.isoformat(), 1), else_=0))
    else:
        grouped("b0", day)
    grouped("period_month", func.substr(func.coalesce(rows.c.pe, rows.c.pd), 1, 7) if period else None)
    summed = func.pmsync_decimal_sum(rows.c.amount) if sqlite else func.sum(rows.c.amount.cast(Numeric()))
    query = select(
        *columns, func.min(day).label("first_day"), summed.label("amount"), func.count().label("lines")
    ).group_by(*keys)
    kinds = KINDS[by]
    if kinds is not None:
        query = query.where(rows.c.kind.in_(kinds))
    return query


def _in_part(column: Any, part: Part | None) -> Any:
    """Whether a row's project is in ``part`` (always, without one)."""
    if part is None:
        return true()
    pivot, upper = part
    return column >= pivot if upper else or_(column < pivot, column.is_(None))


def _current_dated_in(month: str, by_project: bool, sqlite: bool) -> Any:
    """The current versions of the cost lines dated in ``month``, as :func:`_cost_line_versions`
    gives them, read by the index of cost lines by date. Written out: the index is on an expression
    and partial, and both databases use it only for a query that repeats the expression and the
    type literally; SQLite, without statistics, preferred the index by change time (every line
    changed before the report), so it is named (``INDEXED BY``, which SQLAlchemy does not render)."""
    indexed = " INDEXED BY ix_records_cost_line_day" if sqlite else ""
    project = " AND project = :project" if by_project else ""
    day = "coalesce(payload ->> 'posting_date', payload ->> 'period')"
    query = text(
        "SELECT project, source_name, payload, "
        "CASE WHEN deleted_at IS NOT NULL THEN 'delete' ELSE 'update' END AS op, "
        f"updated_at AS valid_from, NULL AS valid_to FROM records{indexed} "
        f"WHERE record_type = 'cost_line' AND {day} >= :day_from AND {day} <= :day_to "
        f"AND updated_at <= :last{project}"
    ).bindparams(
        bindparam("last", type_=UTCDateTime()),
        bindparam("day_from", f"{month}-01", type_=String()),
        bindparam("day_to", f"{month}-31", type_=String()),
    )
    return query.columns(
        column("project", String()),
        column("source_name", String()),
        column("payload", Json),
        column("op", String()),
        column("valid_from", UTCDateTime()),
        column("valid_to", UTCDateTime()),
    )


def _dated_in(payload: Any, month: str) -> Any:
    """Whether a line's date falls in ``month`` (``YYYY-MM``): ISO dates compare as text."""
    day = line_day(payload)
    return and_(day >= f"{month}-01", day <= f"{month}-31")


def _cost_line_versions(
    by_project: bool, part: Part | None = None, month: str | None = None, sqlite: bool = False
) -> Any:
    """Cost line versions held at some moment between ``first`` and ``last``: :func:`versions`, but
    a current row's ``op`` says only whether it is a deletion (all that totals ask), sparing a lookup
    of its history per line. With ``month`` (and never with ``part``), only lines dated in it, the
    current ones found by the index of cost lines by date."""
    v, r = record_versions, table
    archived = select(v.c.project, v.c.source_name, v.c.payload, v.c.op, v.c.valid_from, v.c.valid_to).where(
        v.c.record_type == bindparam("record_type"),
        v.c.valid_from <= bindparam("last"),
        v.c.valid_to > bindparam("first"),
        _in_part(v.c.project, part),
    )
    op = case((r.c.deleted_at.is_not(None), literal("delete")), else_=literal("update"))
    current = select(
        r.c.project,
        r.c.source_name,
        r.c.payload,
        op.label("op"),
        r.c.updated_at.label("valid_from"),
        null().label("valid_to"),
    ).where(
        r.c.record_type == bindparam("record_type"),
        r.c.updated_at <= bindparam("last"),
        _in_part(r.c.project, part),
    )
    if by_project:
        archived = archived.where(v.c.project == bindparam("project"))
        current = current.where(r.c.project == bindparam("project"))
    if month is not None:
        archived = archived.where(_dated_in(v.c.payload, month))
        return union_all(archived, _current_dated_in(month, by_project, sqlite))
    return union_all(archived, current)


def _versions_held(
    moments: Sequence[datetime | None],
    project: str | None,
    part: Part | None = None,
    month: str | None = None,
    sqlite: bool = False,
) -> tuple[Any, list[Any], dict[str, Any]]:
    """The cost line versions held at any of ``moments``, with a 0/1 column per moment (``h0``...),
    of ``project`` or of ``part`` of the projects, dated in ``month`` if given (past moments only)."""
    params: dict[str, Any] = {"record_type": "cost_line"}
    if list(moments) == [None]:
        rows = select(
            table.c.project, table.c.source_name, table.c.payload, literal_column("1").label("h0")
        ).where(
            table.c.record_type == "cost_line", table.c.deleted_at.is_(None), _in_part(table.c.project, part)
        )
        if project is not None:
            rows = rows.where(table.c.project == project)
        source = rows.subquery()
        return source, [source.c.h0], params
    stamps = [m for m in moments if m is not None]
    if len(stamps) != len(moments):
        raise ValueError("the current state (None) cannot be read with past moments")
    valid = _cost_line_versions(project is not None, part, month, sqlite).subquery()
    params |= {"first": min(stamps), "last": max(stamps)}
    if project is not None:
        params["project"] = project

    def held(moment: datetime) -> Any:
        return and_(
            valid.c.op != "delete",
            valid.c.valid_from <= moment,
            or_(valid.c.valid_to.is_(None), valid.c.valid_to > moment),
        )

    cols = [case((held(m), 1), else_=0).label(f"h{i}") for i, m in enumerate(stamps)]
    source = (
        select(valid.c.project, valid.c.source_name, valid.c.payload, *cols)
        .where(or_(*(held(m) for m in stamps)))
        .subquery()
    )
    return source, [source.c[f"h{i}"] for i in range(len(stamps))], params


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def valid_then(grouped: GroupedTotal, read: ValidTimeRead, valid_at: datetime) -> bool:
    """Whether a total held at ``read.known_at`` counts at the valid time (the ``dated`` rules of
    :func:`pmsync.store.valid_time.choose`, on the grouped fields): not created after ``valid_at``,
    and an actual or commitment not dated after ``read.valid_on``."""
    if grouped.created_at is not None and _moment(grouped.created_at) > valid_at:
        return False
    total = grouped.total
    day = total.day
    return not (total.kind in ("actual", "commitment") and day is not None and day > read.valid_on)


def note_used(notes: ValidTimeNotes, total: CostTotal) -> None:
    """Count a total's lines as read from their source (what :class:`ValidTimeNotes` counts)."""
    key = (total.project, total.source_name)
    notes.records[key] = notes.records.get(key, 0) + total.lines


def as_totals(lines: Iterable[CostLine | CostTotal]) -> list[CostTotal]:
    """Lines as totals of one each (totals pass through): what computations over totals accept."""
    return [x if isinstance(x, CostTotal) else CostTotal.of_line(x) for x in lines]


def unowned_lines(
    engine: Engine, owned: Sequence[str], known_at: datetime, read: ValidTimeRead | None
) -> Iterator[CostLine]:
    """The cost lines held at ``known_at`` that no project of ``owned`` carries (valid at ``read``'s
    valid time on a view), in id order: read as lines, since an exception names them, but only
    these, found by the project index rather than by reading the ledger."""
    valid = versions(record_type=True, during=True).subquery()
    query = (
        select(valid)
        .where(or_(valid.c.project.is_(None), valid.c.project.not_in(list(owned))))
        .order_by(valid.c.record_id, valid.c.valid_from)
    )
    params = {"record_type": "cost_line", "first": known_at, "last": known_at}
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=1000).execute(query, params)
        try:
            for stored in grouped_versions(iter(result)):
                version = stored[-1]
                if version.op == "delete":
                    continue
                payload: dict[str, Any] | None = version.payload
                if read is not None:
                    payload = choose([version], CostLine.valid_time, read.valid_at, read.valid_on)
                if payload is None:
                    continue
                line = from_payload(CostLine, payload, f"cost_line #{version.record_id}")
                assert isinstance(line, CostLine)
                yield line
        finally:
            result.close()


@dataclass(frozen=True)
class DatedActual:
    """An actual cost line's version as restatements compare it: whose, which line, how much, when."""

    project: str | None
    key: str  # the line's source key (:meth:`pmsync.model.SourceRef.key`)
    amount: Decimal
    day: date  # posting date, else period


def changed_actuals(
    engine: Engine, projects: Sequence[str] | None, since: datetime, until: datetime, through: date
) -> Iterator[tuple[DatedActual | None, DatedActual | None]]:
    """Each actual cost line dated on or before ``through`` (posting date, else period) of
    ``projects`` (``None``: of every project; either way in one read) whose version changed between
    ``since`` and ``until`` (a version began or ended in ``(since, until]``): what it was at
    ``since`` and at ``until`` (``None``: not one of the projects' then, deleted, or not such an
    actual).

    Lines that did not change are not read, and of those that did the database hands back only the
    fields compared, not the documents: a report compares two moments of a ledger that mostly stays
    as it was, but a month's new lines all changed between them."""
    sqlite = engine.dialect.name == "sqlite"
    v, r = record_versions, table
    start, end = min(since, until), max(since, until)
    archived_ids = select(v.c.record_id).where(
        v.c.record_type == "cost_line",
        or_(
            and_(v.c.valid_from > start, v.c.valid_from <= end),
            and_(v.c.valid_to > start, v.c.valid_to <= end),
        ),
    )
    current_ids = select(r.c.id).where(
        r.c.record_type == "cost_line", r.c.updated_at > start, r.c.updated_at <= end
    )
    wanted = None if projects is None else set(projects)
    if wanted is not None:
        archived_ids = archived_ids.where(v.c.project.in_(sorted(wanted)))
        current_ids = current_ids.where(r.c.project.in_(sorted(wanted)))
    changed = select(union(archived_ids, current_ids).subquery().c[0])

    def day(payload: Any) -> Any:
        return func.coalesce(
            _payload_field(payload, "posting_date", sqlite), _payload_field(payload, "period", sqlite)
        )

    def fields(payload: Any) -> list[Any]:
        named = ("source.system", "source.instance", "source.external_id", "amount")
        return [
            *(_payload_field(payload, path, sqlite).label(path.replace(".", "_")) for path in named),
            day(payload).label("day"),
        ]

    def dated_actual(payload: Any) -> list[Any]:
        # dates are ISO text in the payload, so comparing the text compares the dates
        return [_payload_field(payload, "kind", sqlite) == "actual", day(payload) <= through.isoformat()]

    deleted = case((r.c.deleted_at.is_not(None), literal("delete")), else_=literal("update"))
    every = union_all(
        select(v.c.record_id, v.c.project, v.c.op, v.c.valid_from, v.c.valid_to, *fields(v.c.payload)).where(
            v.c.record_id.in_(changed), *dated_actual(v.c.payload)
        ),
        select(r.c.id, r.c.project, deleted, r.c.updated_at, null(), *fields(r.c.payload)).where(
            r.c.id.in_(changed), *dated_actual(r.c.payload)
        ),
    ).subquery()
    query = select(every).order_by(every.c.record_id, every.c.valid_from)

    def held(versions_of: list[Any], moment: datetime) -> DatedActual | None:
        for row in versions_of:
            if row.valid_from <= moment and (row.valid_to is None or row.valid_to > moment):
                if row.op == "delete" or (wanted is not None and row.project not in wanted):
                    return None
                key = f"{row.source_system}:{row.source_instance}:{row.source_external_id}"
                return DatedActual(
                    row.project, key, Decimal(str(row.amount)), date.fromisoformat(row.day[:10])
                )
        return None

    with engine.connect() as conn:
        for _, rows in groupby(conn.execute(query), key=lambda row: row.record_id):
            versions_of = list(rows)
            yield held(versions_of, since), held(versions_of, until)
