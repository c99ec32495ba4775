"""Migrations build the schema the code expects, from an empty database, on both dialects."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from pmsync.errors import StoreError
from pmsync.store import Store
from pmsync.store.migrate import alembic_config
from pmsync.store.schema import metadata

HEAD = "0002_history_by_project"


def test_opening_an_empty_database_migrates_it_to_head(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.schema_revision() == HEAD == Store.head_revision()
        tables = set(inspect(store.engine).get_table_names())
        assert {"records", "record_versions", "sync_runs", "source_state", "publications"} <= tables
        with store.engine.connect() as conn:
            # The migration scripts and schema.py describe the same tables, columns and indexes.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_downgrade_to_empty_and_upgrade_again(store_url: str) -> None:
    with Store.open(store_url) as store:
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert "records" not in inspect(store.engine).get_table_names()
        assert store.upgrade() == HEAD
        assert "records" in inspect(store.engine).get_table_names()


def test_reopening_a_current_store_changes_nothing(store_url: str) -> None:
    Store.open(store_url).close()
    with Store.open(store_url) as store:
        assert store.schema_revision() == HEAD


def test_a_store_from_a_newer_pmsync_is_refused_clearly(store_url: str) -> None:
    with Store.open(store_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(StoreError, match="revision '0099_future', which this pmsync does not know"):
        Store.open(store_url)


def test_plain_postgresql_url_means_psycopg(store_url: str) -> None:
    if not store_url.startswith("postgresql+psycopg://"):
        pytest.skip("only PostgreSQL URLs have a driver spelling")
    with Store.open(store_url.replace("postgresql+psycopg://", "postgresql://")) as store:
        assert store.engine.dialect.driver == "psycopg"
        assert store.schema_revision() == HEAD


def test_a_store_at_the_first_revision_is_upgraded_in_place_keeping_its_data(store_url: str) -> None:
    """A store created by an earlier pmsync gains the history index on open; its rows stay."""
    with Store.open(store_url) as store:
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0001_initial")
            conn.execute(
                text(
                    "INSERT INTO source_state (source_name, cursor, updated_at) "
                    "VALUES ('jira', '{\"updated\": \"2026-10-01\"}', CURRENT_TIMESTAMP)"
                )
            )
        indexes = {i["name"] for i in inspect(store.engine).get_indexes("record_versions")}
        assert "ix_record_versions_record_type_project_valid_from" not in indexes
    with Store.open(store_url) as store:
        assert store.schema_revision() == HEAD
        indexes = {i["name"] for i in inspect(store.engine).get_indexes("record_versions")}
        assert "ix_record_versions_record_type_project_valid_from" in indexes
        assert store.cursor("jira") == {"updated": "2026-10-01"}
