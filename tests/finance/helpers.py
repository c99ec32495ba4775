"""Building finance connectors and reading their output in tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmsync.connectors.finance_file import FinanceFileConfig, FinanceFileConnector

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
