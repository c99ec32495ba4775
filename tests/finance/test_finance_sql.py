"""finance_sql against SQLite and the real PostgreSQL (skipped, saying why, when unreachable)."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from guarantees.helpers import root_conftest
from pmsync.connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector, check_read_only_sql
from sqlalchemy import create_engine, text

from pmsync.config import shipped_mappings_dir
from pmsync.connector import Checkpoint, ConnectorContext, SkippedRow, SnapshotComplete
from pmsync.errors import ConfigError, ConnectorError, SourceDataError

from .helpers import DATA, QUERY, ROWS, create_ledger, lines_of, totals

# Loaded by path: a bare ``from conftest import`` answers with whichever conftest pytest imported last.
_pg = root_conftest()
create_postgres_database = _pg.create_postgres_database
drop_postgres_database = _pg.drop_postgres_database
postgres_server_url = _pg.postgres_server_url
postgres_unavailable = _pg.postgres_unavailable


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def finance_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'finance.db'}"
        create_ledger(url)
        yield url
        return
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    url, name = create_postgres_database()
    try:
        create_ledger(url)
        yield url
    finally:
        drop_postgres_database(name)


def sql_connector(url: str, **settings: Any) -> FinanceSqlConnector:
    values = {
        "url": url,
        "query": QUERY,
        "params": {"fiscal_year": 2026, "bu": "IT01"},
        "mapping": "finance-peoplesoft.yaml",
        **settings,
    }
    context = ConnectorContext(
        source_name="ledger",
        config=FinanceSqlConfig.model_validate(values),
        mapping_dirs=(DATA / "mappings", shipped_mappings_dir()),
        base_dir=DATA,
        project_links={"P-100": "ERP", "P-101": "CRM"},
        fiscal_year_start_month=7,
    )
    return FinanceSqlConnector(context)


def test_query_with_bound_parameters_yields_cost_lines(finance_db: str) -> None:
    connector = sql_connector(finance_db.replace("+psycopg", ""))  # plain postgresql:// URLs work
    assert [r.status for r in connector.check()] == ["ok"]
    items = list(connector.extract({}))
    lines = lines_of(items)
    # the params selected FY2026 of business unit IT01 only
    assert sorted(line.source.external_id for line in lines) == [
        "P-100/actual/2025-07/R2",
        "P-100/actual/2025-08/R3",
        "P-100/budget/2025-07/R1",
        "P-101/commitment/2025-08/R4",
    ]
    assert totals(lines, "project", "kind", "fiscal_period", "category") == {
        ("ERP", "budget", 1, "labor"): Decimal("100000.00"),
        ("ERP", "actual", 1, "labor"): Decimal("12500.00"),
        ("ERP", "actual", 2, "software"): Decimal("4200.50"),
        ("CRM", "commitment", 2, "services"): Decimal("9000.00"),
    }
    r3 = next(line for line in lines if line.source.external_id.endswith("R3"))
    assert (r3.vendor, r3.po_number, r3.posting_date) == ("SHI", "PO9", date(2025, 8, 12))
    assert not any(isinstance(i, SnapshotComplete) for i in items)  # nothing older to replace
    assert isinstance(items[-1], Checkpoint)
    # same data, same records; now every scope is restated and swept
    again = list(connector.extract(items[-1].cursor))
    assert lines_of(again) == lines
    assert {i.scope for i in again if isinstance(i, SnapshotComplete)} == {line.scope for line in lines}


def test_vanished_periods_are_emptied(finance_db: str) -> None:
    cursor = list(sql_connector(finance_db).extract({}))[-1].cursor
    engine = create_engine(finance_db)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM proj_resource WHERE resource_id = 'R4'"))
    engine.dispose()
    items = list(sql_connector(finance_db).extract(cursor))
    assert SnapshotComplete("P-101/commitment/2025-08", frozenset({"cost_line"})) in items
    window = list(sql_connector(finance_db, delete_vanished_periods=False).extract(cursor))
    assert SnapshotComplete("P-101/commitment/2025-08", frozenset({"cost_line"})) not in window


def test_bad_rows_fail_before_the_checkpoint_unless_skipped(finance_db: str) -> None:
    engine = create_engine(finance_db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE proj_resource SET analysis_type = 'XYZ' WHERE resource_id = 'R3'"))
    engine.dispose()
    items = []
    with pytest.raises(SourceDataError, match=r"ANALYSIS_TYPE': value 'XYZ' is not a cost kind") as caught:
        for item in sql_connector(finance_db).extract({}):
            items.append(item)
    assert "query row" in str(caught.value)
    assert not any(isinstance(item, Checkpoint) for item in items)  # the engine rolls back what came
    skipped = list(sql_connector(finance_db, skip_bad_rows=True).extract({}))
    assert len(lines_of(skipped)) == 3
    assert [i.where for i in skipped if isinstance(i, SkippedRow)] and isinstance(skipped[-1], Checkpoint)


def test_the_session_is_read_only(finance_db: str) -> None:
    sneaky = "SELECT 1 AS x; DELETE FROM proj_resource"
    with pytest.raises(ConfigError, match="single SELECT"):
        list(sql_connector(finance_db, query=sneaky).extract({}))
    # a locking SELECT passes the SELECT/WITH check; the read-only transaction refuses it
    locking = QUERY + " FOR UPDATE"
    if finance_db.startswith("postgresql"):
        with pytest.raises(ConnectorError, match="read-only transaction"):
            list(sql_connector(finance_db, query=locking).extract({}))
        engine = create_engine(finance_db)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM proj_resource")).scalar() == len(ROWS)
        engine.dispose()


def test_missing_columns_and_unreachable_database(tmp_path: Path, finance_db: str) -> None:
    query = (
        'SELECT project_id AS "PROJECT_ID" FROM proj_resource WHERE :fiscal_year = :fiscal_year AND :bu = :bu'
    )
    with pytest.raises(
        SourceDataError, match=r"returns no column .*RESOURCE_AMOUNT.*\(it returns PROJECT_ID\)"
    ):
        list(sql_connector(finance_db, query=query).extract({}))
    [result] = sql_connector(finance_db, query=query).check()
    assert result.status == "fail" and "RESOURCE_AMOUNT" in result.detail
    missing = f"sqlite:///{tmp_path / 'no' / 'such.db'}"
    [result] = sql_connector(missing).check()
    assert result.status == "fail" and "unable to open database file" in result.detail


@pytest.mark.postgres
def test_password_never_shows() -> None:
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    url = postgres_server_url().replace("postgres@", "postgres:hunter2secret@", 1)
    url = url.rsplit("/", 1)[0] + "/nonexistent_pmsync_db"
    [result] = sql_connector(url).check()
    assert result.status == "fail" and "nonexistent_pmsync_db" in result.detail
    assert "hunter2secret" not in result.detail


@pytest.mark.parametrize(
    "sql",
    ["-- comment\nSELECT 1", "/* c */ with x as (select 1) select * from x", "select 1;"],
)
def test_read_only_guard_accepts_selects(sql: str) -> None:
    assert check_read_only_sql(sql) == sql


@pytest.mark.parametrize("sql", ["DELETE FROM t", "UPDATE t SET a=1", "select 1; drop table t", ""])
def test_read_only_guard_refuses_the_rest(sql: str) -> None:
    with pytest.raises(ConfigError):
        check_read_only_sql(sql)


def test_a_url_without_its_driver_is_a_config_error(tmp_path: Path) -> None:
    [result] = sql_connector("nosuchdb+nodriver://user@host/db").check()
    assert result.status == "fail" and "cannot use a nosuchdb+nodriver database" in result.detail
    with pytest.raises(ConfigError, match="install the database's SQLAlchemy driver"):
        list(sql_connector("nosuchdb+nodriver://user@host/db").extract({}))
