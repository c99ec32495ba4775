"""What the destination keeps of a published file: its size and hash as the server reports them.

SharePoint rewrites Office files on upload (property promotion and demotion in libraries with metadata
columns), so the stored copy's size and quickXorHash differ from the file pmsync sent. The ledger keeps
pmsync's own SHA-256 (``content_hash``, what idempotency compares) and, beside it, what the server
stores, so an auditor can match the library's copy to the ledger row.

Revision ID: 0005_publication_stored_copy
Revises: 0004_run_notes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_publication_stored_copy"
down_revision = "0004_run_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.add_column(sa.Column("stored_size", sa.BigInteger()))
        batch.add_column(sa.Column("stored_hash", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("publications") as batch:
        batch.drop_column("stored_hash")
        batch.drop_column("stored_size")
