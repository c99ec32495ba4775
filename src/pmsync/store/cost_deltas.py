"""Cost line totals the writer keeps: what each write added to or took from each group of lines.

A report sums the ledger by purpose, project, the fields the measures read and the month of each
line's date (:mod:`pmsync.store.totals`). Read from the lines, that is a scan of every stored line's
document at every report: about a minute for 10^7 lines (a large agency's year). Here the writer
keeps the sums instead, in ``cost_deltas``, and a report reads those.

**Kept as changes, so that every moment can be read.** A report reads the ledger as it was known at
two moments (now and the previous report). A line version held over ``[valid_from, valid_to)``
adds its amount to its group at ``valid_from`` and takes it away at ``valid_to``; a row of
``cost_deltas`` is the net change of one group at one moment, from the lines one write transaction
(or a part of a large one) wrote. The group as held at a moment ``m`` is the sum of its rows stamped
at or before ``m``: exactly the lines :func:`pmsync.store.totals.grouped_totals` would have found
held then, since a version is held at ``m`` when it began at or before ``m`` and had not ended.
Deletions take their lines away at the deletion; a deleted line that comes back adds them again.

**Months, and the months a status date cuts.** The rows are by month of the line's date, so the
sums answer every comparison with a month end, and with a status date outside the month. A status
date inside a month (a 20th) cuts that month in two: those months' lines are read from the ledger,
found by the index of cost lines by date (``totals._scan_on`` with a month), a month of it. The
earliest date of a group's lines (what a total gives as its posting date) is kept as the earliest
date added: after a deletion it may be earlier than the lines left, but it stays in the same month,
which is all any comparison reads outside a cut month.

**Every write path keeps them, cheaply.** The writer adds the lines it inserted or changed and
takes away the version it archives (an update or a deletion), in the same transaction as the lines:
both commit or neither does. The changes are summed in memory by group (:class:`PendingTotals`,
from :data:`~pmsync.store.cost_groups.LineFacts` the reading process took from each line, or from
the stored document) and appended when the transaction commits, or when many groups are pending
(memory stays flat). Appended, not merged into a row per group: rows of one group add up when read,
and an upsert into a keyed table cost a first load of 10^6 lines more than the rest of the upkeep.
Summing in SQL per batch instead cost ten times the load itself (SQLite parses a document again
for every field it reads). Migration 0007 builds the rows of a store written before it, from the
lines and their history.

**Keys.** A group's fields are kept as a JSON array in :data:`KEY_SETS` order, written by Python
the same way on both dialects; ``history`` is kept as whether there is one (all a total says of
it: a project with a source changelog is read as lines), so that the document's own text, which
PostgreSQL's ``jsonb`` may reorder, never splits a group.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, null, or_, select

from pmsync.store.copy_text import NULL, copy_escaped, copy_fields, copy_moment
from pmsync.store.cost_groups import (
    GROUP_COLUMNS,
    LineFacts,
    TotalsBy,
    facts_of_document,
)
from pmsync.store.schema import UTCDateTime, cost_deltas, record_versions, records

#: pending groups at which :class:`PendingTotals` writes them out before the commit (memory stays flat)
FLUSH_AT_GROUPS = 50_000


class PendingTotals:
    """The changes one write transaction makes to the kept totals, summed in memory by group.

    Kept per moment and source, then per group as the reading process wrote it
    (:data:`~pmsync.store.cost_groups.LineFacts`: the ``COPY`` text of its columns), so that adding
    a line is a dictionary update per group, and a flush to PostgreSQL writes text it already has.

    Keyed by text and summed in tuples, not lists or tuples of parts: a first load holds a group
    for about every line, and so many containers made Python's garbage collector walk them over and
    over (summing 10^6 lines took 3.5 s, against 1.6 s so)."""

    def __init__(self) -> None:
        #: per (moment, source): per group's text, (amount, lines, earliest date added)
        self._groups: dict[tuple[datetime, str], dict[str, tuple[Decimal, int, str | None]]] = {}
        self._count = 0

    def __len__(self) -> int:
        """The groups pending."""
        return self._count

    def change(self, facts: LineFacts, source_name: str, sign: int, stamp: datetime) -> None:
        """Add (``sign`` 1) or take away (-1) one line version at ``stamp``."""
        self.change_all([facts], source_name, sign, stamp)

    def change_all(self, lines: Iterable[LineFacts], source_name: str, sign: int, stamp: datetime) -> None:
        """Add (``sign`` 1) or take away (-1) these line versions at ``stamp``.

        Runs for every line a first load writes, on its critical path (the writer and the database
        take turns): kept to dictionary updates."""
        groups = self._groups.setdefault((stamp, source_name), {})
        before = len(groups)
        for amount_text, day, texts in lines:
            amount = Decimal(amount_text)
            if sign < 0:
                amount = -amount
                day = None
            for text in texts:
                found = groups.get(text)
                if found is None:
                    groups[text] = (amount, sign, day)
                    continue
                first = found[2]
                if first is None or (day is not None and day < first):
                    first = day
                groups[text] = (found[0] + amount, found[1] + sign, first)
        self._count += len(groups) - before

    def clear(self) -> None:
        self._groups.clear()
        self._count = 0

    def flush(self, conn: Connection) -> None:
        """Append the pending changes to ``cost_deltas`` and forget them (a group sent by an earlier
        flush of the same moment gets a second row: a read sums them all)."""
        if not self._groups:
            return
        if conn.dialect.name == "sqlite":
            _flush_sqlite(conn, self._groups)
        else:
            _flush_postgresql(conn, self._groups)
        self.clear()


#: what :class:`PendingTotals` holds: per (moment, source), per group's text, the sums
Pending = Mapping[tuple[datetime, str], Mapping[str, tuple[Decimal, int, str | None]]]
#: the columns of ``cost_deltas`` a flush writes, in its order
_FLUSHED_COLUMNS = f"{', '.join(GROUP_COLUMNS)}, source_name, stamp, amount, lines, first_day"
_SQLITE_INSERT = f"INSERT INTO cost_deltas ({_FLUSHED_COLUMNS}) VALUES ({', '.join('?' * 10)})"


def _flush_sqlite(conn: Connection, pending: Pending) -> None:
    to_db = UTCDateTime().bind_processor(conn.dialect)
    assert to_db is not None
    for (stamp, source_name), groups in pending.items():
        # stored as sqlite3's datetime adapter writes any other moment (``isoformat(" ")``)
        stamp_text = to_db(stamp).isoformat(" ")
        conn.exec_driver_sql(
            _SQLITE_INSERT,
            [
                (*copy_fields(text), source_name, stamp_text, str(amount), lines, first)
                for text, (amount, lines, first) in groups.items()
            ],
        )


#: rows per ``COPY`` write: large enough that a write's own cost is small, small enough to hold
_COPY_CHUNK = 5_000


def _flush_postgresql(conn: Connection, pending: Pending) -> None:
    driver_connection: Any = conn.connection.driver_connection
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f"COPY cost_deltas ({_FLUSHED_COLUMNS}) FROM STDIN") as copy,
    ):
        for (stamp, source_name), groups in pending.items():
            # the columns after the group's, the same for each of these groups, in COPY's text format
            shared = f"\t{copy_escaped(source_name)}\t{copy_moment(stamp)}\t"
            lines = []
            for text, (amount, count, first) in groups.items():
                lines.append(f"{text}{shared}{amount}\t{count}\t{NULL if first is None else first}\n")
                if len(lines) >= _COPY_CHUNK:
                    copy.write("".join(lines))
                    lines = []
            if lines:
                copy.write("".join(lines))


def take_current(conn: Connection, condition: Any, stamp: datetime, pending: PendingTotals) -> None:
    """The writer is about to archive the versions the ``records`` rows matching ``condition`` hold
    (an update or a deletion) at ``stamp``: take the live cost lines among them away."""
    query = select(records.c.project, records.c.source_name, records.c.payload).where(
        records.c.record_type == "cost_line", records.c.deleted_at.is_(None), condition
    )
    by_source: dict[str, list[LineFacts]] = {}
    for project, source_name, payload in conn.execute(query):
        by_source.setdefault(source_name, []).append(facts_of_document(_document(payload), project))
    for source_name, lines in by_source.items():
        pending.change_all(lines, source_name, -1, stamp)


def _document(payload: Any) -> Mapping[str, Any]:
    loaded = json.loads(payload) if isinstance(payload, str | bytes) else payload
    assert isinstance(loaded, Mapping)
    return loaded


def rebuild(conn: Connection) -> None:
    """Fill ``cost_deltas`` from the stored lines and their history (a store written before them):
    each version held over ``[valid_from, valid_to)`` adds at its start and takes away at its end."""
    conn.execute(cost_deltas.delete())
    pending = PendingTotals()
    v, r = record_versions, records
    held = select(v.c.project, v.c.source_name, v.c.payload, v.c.valid_from, v.c.valid_to).where(
        v.c.record_type == "cost_line", v.c.op != "delete"
    )
    current = select(r.c.project, r.c.source_name, r.c.payload, r.c.updated_at, null()).where(
        r.c.record_type == "cost_line", r.c.deleted_at.is_(None)
    )
    for query in (held, current):
        for project, source_name, payload, began, ended in _streamed(conn, query):
            facts = facts_of_document(_document(payload), project)
            pending.change(facts, source_name, 1, began)
            if ended is not None:
                pending.change(facts, source_name, -1, ended)
            if len(pending) >= FLUSH_AT_GROUPS:
                pending.flush(conn)
    pending.flush(conn)


def _streamed(conn: Connection, query: Any) -> Iterable[Any]:
    """Rows in pages, not all at once (a ledger's history does not fit in memory)."""
    # on the statement: a connection's execution options stay on it (the migration's next statements)
    result = conn.execute(query.execution_options(yield_per=10_000))
    try:
        yield from result
    finally:
        result.close()


# -- reading --------------------------------------------------------------------------------------


def months_cut(cutoffs: Sequence[date]) -> list[str]:
    """The months (``YYYY-MM``) a cut-off falls inside of (not on their last day): their lines must
    be read one by one, since a group of the month may lie on both sides."""
    return sorted({cutoff.isoformat()[:7] for cutoff in cutoffs if cutoff.day < _last_day(cutoff)})


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


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
