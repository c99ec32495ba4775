"""Migrations build the schema the code expects, from an empty database, on both dialects."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, or_, select, text

from pmsync import clock
from pmsync.connector import Deleted
from pmsync.errors import StoreError
from pmsync.model import SourceRef, WorkItem
from pmsync.store import Store
from pmsync.store.migrate import alembic_config
from pmsync.store.schema import metadata, record_versions

from .helpers import dump

HEAD = "0007_cost_totals_by_writer"


def test_opening_an_empty_database_migrates_it_to_head(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.schema_revision() == HEAD == Store.head_revision()
        tables = set(inspect(store.engine).get_table_names())
        assert {"records", "record_versions", "sync_runs", "source_state", "publications"} <= tables
        with store.engine.connect() as conn, warnings.catch_warnings():
            # SQLAlchemy cannot read SQLite's index on an expression back (PostgreSQL's it can):
            # it says so and leaves it out of the comparison; it is checked by name below
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based")
            # The migration scripts and schema.py describe the same tables, columns and indexes.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            index_names = {i["name"] for i in inspect(store.engine).get_indexes("records")}
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as conn:
                index_names |= set(
                    conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars()
                )
        assert "ix_records_cost_line_day" in index_names


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


def _names_as_of_in_version_table(store: Store, moment: datetime) -> list[str]:
    """What a pmsync before revision 0003 answered "as of" (every version in ``record_versions``)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(record_versions.c.payload)
            .where(
                record_versions.c.valid_from <= moment,
                or_(record_versions.c.valid_to.is_(None), record_versions.c.valid_to > moment),
                record_versions.c.op != "delete",
            )
            .order_by(record_versions.c.record_id)
        )
        return [payload["name"] for (payload,) in rows]


def test_the_open_versions_move_between_the_tables_without_changing_any_answer(store_url: str) -> None:
    """Revision 0003 keeps a record's version in force only in ``records``. Downgrading writes it
    back to ``record_versions`` (what an older pmsync reads); upgrading again removes the copies.
    Every "as of" answer and the whole history stay the same both ways."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    moments = [start + timedelta(days=d) for d in (-1, 0, 7, 14, 21)]

    def item(n: int, name: str) -> WorkItem:
        return WorkItem(source=SourceRef(system="jira", instance="j", external_id=str(n)), name=name)

    try:
        with Store.open(store_url) as store:
            clock.set_now(moments[1])
            with store.writer("jira") as w:
                w.upsert([item(1, "Design"), item(2, "Build")])
            clock.set_now(moments[2])
            with store.writer("jira") as w:
                w.upsert([item(1, "Design v2"), item(2, "Build"), item(3, "Test")])
            clock.set_now(moments[3])
            with store.writer("jira") as w:
                w.mark_deleted([Deleted("work_item", item(2, "Build").source)])
            clock.set_now(moments[4])
            with store.writer("jira") as w:
                w.upsert([item(2, "Build again")])
            expected = {m: [r.name for r in store.iter_records(WorkItem, as_of=m)] for m in moments}
            history = dump(store)
            assert expected[moments[3]] == ["Design v2", "Test"]
            assert expected[moments[4]] == ["Design v2", "Build again", "Test"]

            with store.engine.begin() as conn:
                command.downgrade(alembic_config(conn), "0002_history_by_project")
            with store.engine.connect() as conn:
                open_ops = conn.execute(
                    select(record_versions.c.record_id, record_versions.c.op)
                    .where(record_versions.c.valid_to.is_(None))
                    .order_by(record_versions.c.record_id)
                ).all()
            assert [op for _, op in open_ops] == ["update", "update", "insert"]
            assert {m: _names_as_of_in_version_table(store, m) for m in moments} == expected

        with Store.open(store_url) as store:
            assert store.schema_revision() == HEAD
            with store.engine.connect() as conn:
                open_rows = select(func.count()).where(record_versions.c.valid_to.is_(None))
                assert conn.execute(open_rows).scalar_one() == 0
            assert {m: [r.name for r in store.iter_records(WorkItem, as_of=m)] for m in moments} == expected
            assert dump(store) == history
    finally:
        clock.set_now(None)


def test_a_migration_step_that_fails_is_named_as_such_and_leaves_the_store_as_it_was(store_url: str) -> None:
    """Not "cannot reach the store ... check that the server is running": the store was reached; the
    step failed (here: something else made a table under the name of the index 0006 adds). Both
    dialects say the same, and the store keeps its revision and its rows."""
    with Store.open(store_url) as store, store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005_publication_stored_copy")
        conn.execute(text("CREATE TABLE ix_records_record_type_updated_at (x INTEGER)"))
        conn.execute(
            text(
                "INSERT INTO source_state (source_name, cursor, updated_at) "
                "VALUES ('jira', '{}', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(StoreError) as failed:
        Store.open(store_url)
    message = str(failed.value)
    assert "cannot migrate the store from revision 0005_publication_stored_copy to " + HEAD in message
    assert "ix_records_record_type_updated_at" in message
    assert "cannot reach" not in message and "server is running" not in message
    assert "nothing was changed (the store is still at revision 0005_publication_stored_copy)" in message
    with Store.open(store_url, upgrade=False) as store:
        assert store.schema_revision() == "0005_publication_stored_copy"
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM source_state")).scalar_one() == 1
            conn.execute(text("DROP TABLE ix_records_record_type_updated_at"))
            conn.commit()
        # Once the obstacle is gone, the same upgrade goes through.
        assert store.upgrade() == HEAD


def test_an_unreachable_store_is_still_said_to_be_unreachable(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot reach the store") as failed:
        Store.open(f"sqlite:///{tmp_path}/no/such/folder/pmsync.db")
    assert "check store.url" in str(failed.value)
