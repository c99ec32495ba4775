"""History reads by project: index record_versions on (record_type, project, valid_from).

A report reads each project's history as of a moment; without this index every such read scanned
the whole history of that record type, so a 500-project portfolio report read the history 500 times.

Revision ID: 0002_history_by_project
Revises: 0001_initial
"""

from __future__ import annotations

from alembic import op

revision = "0002_history_by_project"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_record_versions_record_type_project_valid_from",
        "record_versions",
        ["record_type", "project", "valid_from"],
    )


def downgrade() -> None:
    op.drop_index("ix_record_versions_record_type_project_valid_from", table_name="record_versions")
