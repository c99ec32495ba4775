"""The run ledger's notes: what a run did that a reader of ``pmsync runs`` must know about.

A run that finished ``ok`` may still have done something worth a line: deleted more of a scope than
the deletion guard allows because ``--allow-deletions`` said so, re-read everything
(``--full-refresh``), or accepted implausible values under the documented policy. ``notes`` holds
those lines as a JSON list of strings.

Revision ID: 0004_run_notes
Revises: 0003_current_version_in_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_run_notes"
down_revision = "0003_current_version_in_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("notes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("notes")
