"""A record's version in force is its ``records`` row; ``record_versions`` keeps only ended versions.

Until now every version, the one in force included, was also copied into ``record_versions``, so a
first load wrote each payload twice (a 10^6-line finance export: 1.9 GB of store, a third of the
load's time spent on the copy). From this revision the open version is read from ``records``
(valid from its ``updated_at``) and archived only when the record changes or is deleted; see
``pmsync.store.versions``. Upgrading drops the open copies (after making sure each ``records`` row
carries its version's start); downgrading writes them back, so an older pmsync reads the same
history. On SQLite the freed pages are reused by later writes; ``VACUUM`` returns them to the disk.

Revision ID: 0003_current_version_in_records
Revises: 0002_history_by_project
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0003_current_version_in_records"
down_revision = "0002_history_by_project"
branch_labels = None
depends_on = None

_OPEN_VERSION = "record_versions.record_id = records.id AND record_versions.valid_to IS NULL"


def upgrade() -> None:
    # Plain SQL both dialects accept: a migration must not depend on today's schema module.
    op.execute(
        text(
            "UPDATE records SET updated_at = "
            f"(SELECT max(record_versions.valid_from) FROM record_versions WHERE {_OPEN_VERSION}) "
            f"WHERE EXISTS (SELECT 1 FROM record_versions WHERE {_OPEN_VERSION})"
        )
    )
    op.execute(text("DELETE FROM record_versions WHERE valid_to IS NULL"))


def downgrade() -> None:
    op.execute(
        text(
            "INSERT INTO record_versions (record_id, record_type, source_name, project, run_id, op, "
            "payload, content_hash, valid_from, valid_to) "
            "SELECT records.id, records.record_type, records.source_name, records.project, "
            "records.last_changed_run, "
            "CASE WHEN records.deleted_at IS NOT NULL THEN 'delete' "
            "WHEN EXISTS (SELECT 1 FROM record_versions WHERE record_versions.record_id = records.id) "
            "THEN 'update' ELSE 'insert' END, "
            "records.payload, records.content_hash, records.updated_at, NULL FROM records"
        )
    )
