"""The store's tables, as SQLAlchemy Core metadata (the migrations in ``migrations/versions`` create them).

- ``records``: the current state of every record, one row per source reference
  (record_type, system, instance, external_id; ``source_key`` joins them); ``payload`` is the
  normalized record as JSON and ``content_hash`` its SHA-256, so an unchanged record costs a read
  and no write.
- ``record_versions``: append-only history of the versions that have ended. A record's version in
  force is its ``records`` row (valid from ``updated_at``); when the record is updated or deleted,
  that version is copied here, valid over ``[valid_from, valid_to)``. An "as of" read picks, per
  record, the one version whose interval contains the moment, from both tables
  (:mod:`pmsync.store.versions`).
- ``sync_runs``: the run ledger. ``source_state``: the committed cursor per source.
- ``run_seen``: which unchanged records a running sync has seen (the ones it wrote carry its id in
  ``last_changed_run``), so ``SnapshotComplete`` can sweep the rest;
  emptied when the run ends.
- ``publications``: every report published, by destination and content hash.
- ``cost_deltas``: cost line totals the writer keeps, as what each write added to or took from each
  group of lines (:mod:`pmsync.store.cost_deltas`), so a report sums groups, not a ledger.

Moments are stored in UTC. SQLite has no time zone type, so :class:`UTCDateTime` stores naive UTC
and hands back aware datetimes on both dialects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.dialects import postgresql

from pmsync.store.cost_groups import line_day

#: constraint names are explicit so migrations can refer to them on every dialect
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC moment on every dialect (naive UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; pmsync stores UTC moments")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: integer ids: BIGINT on PostgreSQL, INTEGER on SQLite (so the column aliases SQLite's rowid)
Id = BigInteger().with_variant(Integer(), "sqlite")
#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite
Json = JSON().with_variant(postgresql.JSONB(), "postgresql")


records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_type", String(32), nullable=False),
    Column("system", String(64), nullable=False),
    Column("instance", String(128), nullable=False),
    Column("external_id", String(512), nullable=False),
    #: the four key parts joined by U+001F; its single-column unique index is what lookups use
    Column("source_key", String(1024), nullable=False),
    Column("source_name", String(128), nullable=False),
    Column("project", String(128)),
    Column("scope", String(512), nullable=False, server_default=""),
    Column("payload", Json, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("source_modified", UTCDateTime()),
    Column("deleted_at", UTCDateTime()),
    Column("first_seen_run", Id),
    Column("last_changed_run", Id),
    Column("updated_at", UTCDateTime(), nullable=False),
    # One column, one unique index: PostgreSQL then knows each key matches at most one row even
    # before it has statistics, and looks a batch of keys up by index instead of scanning the table
    # (a 4-column key with "external_id IN (...)" was estimated as matching most rows, per batch).
    UniqueConstraint("source_key"),
    Index(None, "source_name", "scope"),
    Index(None, "record_type", "project"),
    # What changed between two moments (a report's restatements, the newest write of a type) is
    # found by this index; without it each such read went through every row of the type.
    Index(None, "record_type", "updated_at"),
)
# Cost lines by the date they count from (:func:`pmsync.store.cost_groups.line_day`): a report reads
# the lines of a month its status date cuts in two, not the ledger (:mod:`pmsync.store.cost_deltas`).
# Partial, so that no other record pays for it.
Index(
    "ix_records_cost_line_day",
    line_day(records.c.payload),
    sqlite_where=records.c.record_type == literal_column("'cost_line'"),
    postgresql_where=records.c.record_type == literal_column("'cost_line'"),
)

record_versions = Table(
    "record_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id"), nullable=False),
    # Denormalized from records so "as of" reads filter without a join.
    Column("record_type", String(32), nullable=False),
    Column("source_name", String(128), nullable=False),
    Column("project", String(128)),
    Column("run_id", Id),
    #: insert | update | delete; a delete version keeps the last payload (include_deleted reads)
    Column("op", String(8), nullable=False),
    Column("payload", Json, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),
    Index(None, "record_id", "valid_from"),
    Index(None, "record_type", "valid_from"),
    Index(None, "record_type", "project", "valid_from"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_name", String(128), nullable=False),
    Column("source_type", String(256), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    #: running | ok | failed | locked
    Column("status", String(16), nullable=False),
    Column("cursor_before", Json),
    Column("cursor_after", Json),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("deleted", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("skipped_count", Integer, nullable=False, server_default="0"),
    #: the first skipped rows, [{"where": ..., "reason": ...}], capped so a bad file cannot bloat the ledger
    Column("skipped", Json),
    Column("error", Text),
    #: lines a reader of the ledger must know about an ok run (deletions allowed past the guard, a
    #: full refresh, values accepted with a warning), as a JSON list of strings
    Column("notes", Json),
    Column("host", String(255)),
    Column("pid", Integer),
    Index(None, "source_name", "started_at"),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source_name", String(128), primary_key=True),
    Column("cursor", Json, nullable=False),
    Column("run_id", Id),
    Column("updated_at", UTCDateTime(), nullable=False),
)

run_seen = Table(
    "run_seen",
    metadata,
    Column("run_id", Id, primary_key=True),
    Column("record_id", Id, primary_key=True),
)

publications = Table(
    "publications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("destination", String(512), nullable=False),
    Column("url", Text),
    Column("item_id", String(512)),
    Column("file_name", String(512), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("run_id", Id),
    #: what the destination keeps when it differs from what pmsync sent (SharePoint rewrites Office
    #: files): the size and hash the server reports
    Column("stored_size", BigInteger),
    Column("stored_hash", String(128)),
    Index(None, "destination", "content_hash"),
)

cost_deltas = Table(
    "cost_deltas",
    metadata,
    # what the lines are summed for, whose (project '' : none) and by which fields (a JSON array of
    # :data:`pmsync.store.cost_groups.KEY_SETS`), in which month of their date and of their period
    # ('' : none)
    Column("purpose", String(16), nullable=False),
    Column("project", String(128), nullable=False),
    Column("source_name", String(128), nullable=False),
    Column("k", Text, nullable=False),
    Column("month", String(7), nullable=False),
    Column("period_month", String(7), nullable=False),
    #: when the lines were added (a version began) or taken away (it ended)
    Column("stamp", UTCDateTime(), nullable=False),
    #: exact: numeric on PostgreSQL, decimal text on SQLite (summed by pmsync_decimal_sum)
    Column("amount", Numeric().with_variant(Text(), "sqlite"), nullable=False),
    Column("lines", BigInteger, nullable=False),
    #: the earliest date of the lines added (NULL where lines were taken away)
    Column("first_day", String(10)),
    # No key and no index: rows are only appended (a group may have several rows for one moment,
    # and a read sums them all), which is what keeps a first load's upkeep cheap; a report reads
    # every row once, grouped.
)
