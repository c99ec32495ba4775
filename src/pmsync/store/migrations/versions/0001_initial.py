"""The initial store: records, history, run ledger, cursors, seen-set and publications.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pmsync.store.schema import UTCDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out here (not taken from schema.metadata) so this revision never changes when the schema does.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("instance", sa.String(128), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("source_key", sa.String(1024), nullable=False),
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128)),
        sa.Column("scope", sa.String(512), nullable=False, server_default=""),
        sa.Column("payload", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_modified", UTCDateTime()),
        sa.Column("deleted_at", UTCDateTime()),
        sa.Column("first_seen_run", Id),
        sa.Column("last_changed_run", Id),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.UniqueConstraint("source_key", name="uq_records_source_key"),
    )
    op.create_index("ix_records_source_name_scope", "records", ["source_name", "scope"])
    op.create_index("ix_records_record_type_project", "records", ["record_type", "project"])

    op.create_table(
        "record_versions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("project", sa.String(128)),
        sa.Column("run_id", Id),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_record_versions"),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name="fk_record_versions_record_id_records"),
    )
    op.create_index("ix_record_versions_record_id_valid_from", "record_versions", ["record_id", "valid_from"])
    op.create_index(
        "ix_record_versions_record_type_valid_from", "record_versions", ["record_type", "valid_from"]
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("source_type", sa.String(256), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cursor_before", Json),
        sa.Column("cursor_after", Json),
        sa.Column("inserted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("deleted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped", Json),
        sa.Column("error", sa.Text()),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_source_name_started_at", "sync_runs", ["source_name", "started_at"])

    op.create_table(
        "source_state",
        sa.Column("source_name", sa.String(128), nullable=False),
        sa.Column("cursor", Json, nullable=False),
        sa.Column("run_id", Id),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_name", name="pk_source_state"),
    )

    op.create_table(
        "run_seen",
        sa.Column("run_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "record_id", name="pk_run_seen"),
    )

    op.create_table(
        "publications",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("destination", sa.String(512), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("item_id", sa.String(512)),
        sa.Column("file_name", sa.String(512), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", Id),
        sa.PrimaryKeyConstraint("id", name="pk_publications"),
    )
    op.create_index(
        "ix_publications_destination_content_hash", "publications", ["destination", "content_hash"]
    )


def downgrade() -> None:
    for table in ("publications", "run_seen", "source_state", "sync_runs", "record_versions", "records"):
        op.drop_table(table)
