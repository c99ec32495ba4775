"""Cost totals kept by the writer: the ``cost_deltas`` table, and cost lines indexed by date.

A report summed the whole ledger from the lines' documents: 80 s for 10^7 lines. The writer now keeps
what each write adds to or takes from each group of lines (:mod:`pmsync.store.cost_deltas`), and a
report reads those sums, and the lines of the months a status date cuts, found by the new index.
Upgrading fills the table from the lines stored and their history (about a minute per 10^7 line
versions on SQLite).

Revision ID: 0007_cost_totals_by_writer
Revises: 0006_records_by_change_time
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pmsync.store import cost_deltas
from pmsync.store.schema import UTCDateTime

revision = "0007_cost_totals_by_writer"
down_revision = "0006_records_by_change_time"
branch_labels = None
depends_on = None

# Spelled out here (not taken from schema.metadata) so this revision never changes when the schema does.
_DAY = "coalesce(payload ->> 'posting_date', payload ->> 'period')"


def upgrade() -> None:
    op.create_table(
        "cost_deltas",
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("k", sa.Text(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("period_month", sa.String(7), nullable=False),
        sa.Column("stamp", UTCDateTime(), nullable=False),
        sa.Column("amount", sa.Numeric().with_variant(sa.Text(), "sqlite"), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.String(10)),
    )
    op.execute(f"CREATE INDEX ix_records_cost_line_day ON records (({_DAY})) WHERE record_type = 'cost_line'")
    cost_deltas.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_records_cost_line_day", table_name="records")
    op.drop_table("cost_deltas")
