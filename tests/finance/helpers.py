"""Building finance connectors and reading their output in tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmsync.connectors.finance_file import FinanceFileConfig, FinanceFileConnector
from sqlalchemy import create_engine, text

from pmsync.config import shipped_mappings_dir
from pmsync.connector import Checkpoint, ConnectorContext, ExtractItem
from pmsync.model import CostLine

DATA = Path(__file__).parent / "data"
MONTHS = DATA / "months"
HEADER = (
    "Project Number,Task Number,GL Account,Expenditure Category,Amount Type,PA Period,"
    "Expenditure Item Date,Burdened Cost,Currency Code,Supplier Name,PO Number,Expenditure Comment"
)
LINKS = {"P-100": "ERP", "P-101": "CRM"}


def file_connector(
    path: Path,
    mapping: str = "finance-oracle-ebs.yaml",
    *,
    links: Mapping[str, str] = LINKS,
    fiscal_year_start_month: int = 7,
    **settings: Any,
) -> FinanceFileConnector:
    config = FinanceFileConfig.model_validate({"path": str(path), "mapping": mapping, **settings})
    context = ConnectorContext(
        source_name="finance",
        config=config,
        mapping_dirs=(DATA / "mappings", shipped_mappings_dir()),
        base_dir=path.parent,
        project_links=links,
        fiscal_year_start_month=fiscal_year_start_month,
    )
    return FinanceFileConnector(context)


def lines_of(items: Iterable[ExtractItem]) -> list[CostLine]:
    return [item for item in items if isinstance(item, CostLine)]


def last_cursor(items: Iterable[ExtractItem]) -> dict[str, Any]:
    cursor: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Checkpoint):
            cursor = item.cursor
    return cursor


def totals(lines: Iterable[CostLine], *keys: str) -> dict[tuple[Any, ...], Decimal]:
    """Sum of amounts by the given CostLine attributes."""
    sums: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[tuple(getattr(line, k) for k in keys)] += line.amount
    return dict(sums)


def write_csv(path: Path, *rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


QUERY = """
SELECT project_id AS "PROJECT_ID", activity_id AS "ACTIVITY_ID", account AS "ACCOUNT",
       analysis_type AS "ANALYSIS_TYPE", fiscal_year AS "FISCAL_YEAR",
       accounting_period AS "ACCOUNTING_PERIOD", accounting_dt AS "ACCOUNTING_DT",
       resource_amount AS "RESOURCE_AMOUNT", currency_cd AS "CURRENCY_CD", vendor_name AS "VENDOR_NAME",
       po_id AS "PO_ID", descr AS "DESCR", resource_id AS "RESOURCE_ID"
FROM proj_resource
WHERE fiscal_year = :fiscal_year AND business_unit = :bu
"""

ROWS = [
    # (bu, project, activity, account, type, fy, period, date, amount, vendor, po, descr, id)
    (
        "IT01",
        "P-100",
        "A1",
        "500100",
        "BUD",
        2026,
        1,
        date(2025, 7, 1),
        "100000.00",
        None,
        None,
        "Budget",
        "R1",
    ),
    (
        "IT01",
        "P-100",
        "A1",
        "500100",
        "ACT",
        2026,
        1,
        date(2025, 7, 31),
        "12500.00",
        None,
        None,
        "Payroll",
        "R2",
    ),
    (
        "IT01",
        "P-100",
        "A2",
        "530200",
        "ACT",
        2026,
        2,
        date(2025, 8, 12),
        "4200.50",
        "SHI",
        "PO9",
        "Licenses",
        "R3",
    ),
    (
        "IT01",
        "P-101",
        "A1",
        "540000",
        "COM",
        2026,
        2,
        date(2025, 8, 1),
        "9000.00",
        "Accenture",
        "PO7",
        "PO",
        "R4",
    ),
    ("IT01", "P-100", "A1", "500100", "ACT", 2025, 12, date(2025, 6, 30), "1.00", None, None, "old FY", "R5"),
    (
        "XX99",
        "P-100",
        "A1",
        "500100",
        "ACT",
        2026,
        1,
        date(2025, 7, 31),
        "7.00",
        None,
        None,
        "other BU",
        "R6",
    ),
]


def create_ledger(url: str) -> None:
    """A PeopleSoft-like ``proj_resource`` table holding ``ROWS``, for finance_sql."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE proj_resource (business_unit VARCHAR(5), project_id VARCHAR(15), "
                "activity_id VARCHAR(15), account VARCHAR(10), analysis_type VARCHAR(3), "
                "fiscal_year INTEGER, "
                "accounting_period INTEGER, accounting_dt DATE, resource_amount NUMERIC(15,2), "
                "currency_cd VARCHAR(3), vendor_name VARCHAR(40), po_id VARCHAR(10), descr VARCHAR(60), "
                "resource_id VARCHAR(20))"
            )
        )
        keys = ["bu", "p", "a", "acct", "t", "fy", "per", "dt", "amt", "v", "po", "d", "id"]
        conn.execute(
            text(
                "INSERT INTO proj_resource VALUES (:bu, :p, :a, :acct, :t, :fy, :per, :dt, :amt, 'USD', "
                ":v, :po, :d, :id)"
            ),
            [dict(zip(keys, row, strict=True)) for row in ROWS],
        )
    engine.dispose()
