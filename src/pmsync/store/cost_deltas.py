"""Cost line totals the writer keeps: what each write added to or took from each group of lines.

A report sums the ledger by purpose, project, the fields the measures read and the month of each
line's date (:mod:`pmsync.store.totals`). Read from the lines, that is a scan of every stored line's
document at every report: 80 s for 10^7 lines (a large agency's year). Here the writer keeps the sums
instead, in ``cost_deltas``, and a report reads those.

**Kept as changes, so that every moment can be read.** A report reads the ledger as it was known at
two moments (now and the previous report). A line version held over ``[valid_from, valid_to)``
adds its amount to its group at ``valid_from`` and takes it away at ``valid_to``; a row of
``cost_deltas`` is the net change of one group at one moment (one row per group and write
transaction, however many lines it wrote). The group as held at a moment ``m`` is the sum of its rows
stamped at or before ``m``: exactly the lines :func:`pmsync.store.totals.grouped_totals` would have
found held then, since a version is held at ``m`` when it began at or before ``m`` and had not ended.
Deletions take their lines away at the deletion; a deleted line that comes back adds them again.

**Months, and the months a status date cuts.** The rows are by month of the line's date, so the
sums answer every comparison with a month end, and with a status date outside the month. A status
date inside a month (a 20th) cuts that month in two: those months' lines are read from the ledger,
found by the index of cost lines by date (:func:`read_lines_of_months` in ``totals``), a twelfth or
less of it. The earliest date of a group's lines (what a total gives as its posting date) is kept as
the earliest date added: after a deletion it may be earlier than the lines left, but it stays in the
same month, which is all any comparison reads outside a cut month.

**Every write path keeps them.** The writer adds the lines it inserted or changed in each batch and
takes away the version it archives (an update or a deletion), in the same transaction as the lines:
both commit or neither does. Migration 0007 builds the rows of a store written before it, from the
lines and their history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Numeric,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from pmsync.store.cost_groups import (
    KEY_SETS,
    KINDS,
    PURPOSES,
    TotalsBy,
    group_key_text,
    line_day,
    payload_field,
)
from pmsync.store.schema import UTCDateTime, cost_deltas, record_versions, records


def _month_of(day: Any) -> Any:
    return func.coalesce(func.substr(day, 1, 7), "")


def _amount_sum(amount: Any, sqlite_dialect: bool, sign: int) -> Any:
    if sqlite_dialect:
        summed = func.pmsync_decimal_sum(amount)
        return summed if sign > 0 else func.pmsync_decimal_neg(summed)
    summed = func.sum(amount.cast(Numeric()))
    return summed if sign > 0 else -summed


def _changes(
    source: Any, condition: Any, sign: int, stamp: Any, stamp_is_column: bool, sqlite_dialect: bool
) -> Any:
    """The rows of ``cost_deltas`` that the held cost line versions of ``source`` (``records`` or
    ``record_versions``) matching ``condition`` add (``sign`` 1) or take away (-1) at ``stamp``."""
    payload = source.c.payload
    day = line_day(payload)
    period_day = func.coalesce(
        payload_field(payload, "period", sqlite_dialect),
        payload_field(payload, "posting_date", sqlite_dialect),
    )
    kind = payload_field(payload, "kind", sqlite_dialect)
    project = func.coalesce(source.c.project, "")
    selects = []
    for purpose in PURPOSES:
        key = group_key_text(payload, KEY_SETS[purpose], sqlite_dialect)
        month = _month_of(day)
        period_month = _month_of(period_day) if purpose == "period" else literal("")
        grouped = [project, source.c.source_name, key, month]
        if purpose == "period":
            grouped.append(period_month)
        if stamp_is_column:
            grouped.append(stamp)
        query = (
            select(
                literal(purpose).label("purpose"),
                project.label("project"),
                source.c.source_name.label("source_name"),
                key.label("k"),
                month.label("month"),
                period_month.label("period_month"),
                stamp.label("stamp"),
                _amount_sum(payload_field(payload, "amount", sqlite_dialect), sqlite_dialect, sign).label(
                    "amount"
                ),
                (func.count() * sign).label("lines"),
                (func.min(day) if sign > 0 else null()).label("first_day"),
            )
            .where(source.c.record_type == "cost_line", condition)
            .group_by(*grouped)
        )
        kinds = KINDS[purpose]
        if kinds is not None:
            query = query.where(kind.in_(kinds))
        selects.append(query)
    return union_all(*selects).subquery()


def _upsert(conn: Connection, changes: Any) -> None:
    """Add ``changes`` to ``cost_deltas``: a group already changed at the same moment (an earlier
    batch of the same transaction) takes the sum."""
    sqlite_dialect = conn.dialect.name == "sqlite"
    columns = [c.name for c in cost_deltas.c]
    rows = select(*(changes.c[name] for name in columns)).where(literal_column("1") == 1)
    stmt: Any = (sqlite.insert if sqlite_dialect else postgresql.insert)(cost_deltas).from_select(
        columns, rows
    )
    mine, theirs = cost_deltas.c, stmt.excluded
    amount = (
        func.pmsync_decimal_add(mine.amount, theirs.amount) if sqlite_dialect else mine.amount + theirs.amount
    )
    first_day = case(
        (mine.first_day.is_(None), theirs.first_day),
        (and_(theirs.first_day.is_not(None), theirs.first_day < mine.first_day), theirs.first_day),
        else_=mine.first_day,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in cost_deltas.primary_key.columns],
        set_={"amount": amount, "lines": mine.lines + theirs.lines, "first_day": first_day},
    )
    conn.execute(stmt)


def add_current(conn: Connection, condition: Any, stamp: datetime) -> None:
    """The writer wrote the ``records`` rows matching ``condition`` at ``stamp``: add the cost lines
    among them that are live."""
    sqlite_dialect = conn.dialect.name == "sqlite"
    when = literal(stamp, UTCDateTime())
    held = and_(condition, records.c.deleted_at.is_(None))
    _upsert(conn, _changes(records, held, 1, when, False, sqlite_dialect))


def take_current(conn: Connection, condition: Any, stamp: datetime) -> None:
    """The writer is about to archive the versions the ``records`` rows matching ``condition`` hold
    (an update or a deletion) at ``stamp``: take away the live cost lines among them."""
    sqlite_dialect = conn.dialect.name == "sqlite"
    when = literal(stamp, UTCDateTime())
    held = and_(condition, records.c.deleted_at.is_(None))
    _upsert(conn, _changes(records, held, -1, when, False, sqlite_dialect))


def rebuild(conn: Connection) -> None:
    """Fill ``cost_deltas`` from the stored lines and their history (a store written before them):
    each version held over ``[valid_from, valid_to)`` adds at its start and takes away at its end."""
    sqlite_dialect = conn.dialect.name == "sqlite"
    conn.execute(cost_deltas.delete())
    v, r = record_versions, records
    was_held = v.c.op != "delete"
    _upsert(conn, _changes(v, was_held, 1, v.c.valid_from, True, sqlite_dialect))
    _upsert(
        conn, _changes(v, and_(was_held, v.c.valid_to.is_not(None)), -1, v.c.valid_to, True, sqlite_dialect)
    )
    _upsert(conn, _changes(r, r.c.deleted_at.is_(None), 1, r.c.updated_at, True, sqlite_dialect))


# -- reading --------------------------------------------------------------------------------------


def months_cut(cutoffs: Sequence[date]) -> list[str]:
    """The months (``YYYY-MM``) a cut-off falls inside of (not on their last day): their lines must
    be read one by one, since a group of the month may lie on both sides."""
    return sorted({cutoff.isoformat()[:7] for cutoff in cutoffs if cutoff.day < _last_day(cutoff)})


def _last_day(day: date) -> int:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (following - date(day.year, day.month, 1)).days


def grouped_rows(
    conn: Connection,
    moments: Sequence[datetime],
    purposes: Sequence[TotalsBy],
    cutoffs: Sequence[date],
    project: str | None,
    skip_months: Sequence[str],
) -> Iterator[Any]:
    """The groups of ``purposes`` as held at each of ``moments``, bucketed as
    :func:`pmsync.store.totals.grouped_totals` buckets lines with ``cutoffs`` (by the month of their
    date for ``period``, by the side of each cut-off), leaving out the months ``skip_months``.

    Each row has ``purpose, project, source_name, k, b0, b1.., period_month`` and per moment ``i``
    ``a{i}`` (the amount), ``l{i}`` (the lines) and ``f{i}`` (the earliest date)."""
    sqlite_dialect = conn.dialect.name == "sqlite"
    d = cost_deltas
    stamps = [bindparam(f"m{i}", m, type_=UTCDateTime()) for i, m in enumerate(moments)]
    last = bindparam("m_last", max(moments), type_=UTCDateTime())

    def summed(value: Any) -> Any:
        return func.pmsync_decimal_sum(value) if sqlite_dialect else func.sum(value)

    per_month = select(
        d.c.purpose,
        d.c.project,
        d.c.source_name,
        d.c.k,
        d.c.month,
        d.c.period_month,
        *(summed(case((d.c.stamp <= m, d.c.amount))).label(f"a{i}") for i, m in enumerate(stamps)),
        *(func.sum(case((d.c.stamp <= m, d.c.lines), else_=0)).label(f"l{i}") for i, m in enumerate(stamps)),
        *(func.min(case((d.c.stamp <= m, d.c.first_day))).label(f"f{i}") for i, m in enumerate(stamps)),
    ).where(d.c.stamp <= last, d.c.purpose.in_(list(purposes)))
    if project is not None:
        per_month = per_month.where(d.c.project == project)
    if skip_months:
        per_month = per_month.where(d.c.month.not_in(list(skip_months)))
    per_month = per_month.group_by(
        d.c.purpose, d.c.project, d.c.source_name, d.c.k, d.c.month, d.c.period_month
    )
    months = per_month.subquery()
    m = months.c
    # the side of each cut-off: a month not cut lies wholly on or before it, or wholly after it
    sides = [
        case((and_(m.month != "", m.month <= _last_whole_month(cutoff)), 1), else_=0).label(f"b{j}")
        for j, cutoff in enumerate(cutoffs, start=1)
    ]
    is_period = m.purpose == "period"
    b0 = case((and_(is_period, m.month != ""), m.month)).label("b0")
    period_month = case((and_(is_period, m.period_month != ""), m.period_month)).label("period_month")
    counts = range(len(moments))
    query = (
        select(
            m.purpose,
            m.project,
            m.source_name,
            m.k,
            b0,
            *sides,
            period_month,
            *(summed(case((getattr(m, f"l{i}") > 0, getattr(m, f"a{i}")))).label(f"a{i}") for i in counts),
            *(func.sum(getattr(m, f"l{i}")).label(f"l{i}") for i in counts),
            *(func.min(case((getattr(m, f"l{i}") > 0, getattr(m, f"f{i}")))).label(f"f{i}") for i in counts),
        )
        .where(or_(*(getattr(m, f"l{i}") > 0 for i in counts)))
        .group_by(
            m.purpose, m.project, m.source_name, m.k, b0, *(s.element for s in sides), period_month.element
        )
    )
    yield from conn.execute(query)


def _last_whole_month(cutoff: date) -> str:
    """The last month (``YYYY-MM``) whose every day is on or before ``cutoff``."""
    if cutoff.day == _last_day(cutoff):
        return cutoff.isoformat()[:7]
    year, month = (cutoff.year, cutoff.month - 1) if cutoff.month > 1 else (cutoff.year - 1, 12)
    return f"{year:04d}-{month:02d}"
