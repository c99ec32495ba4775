"""The finance connectors keep pmsync's connector guarantees (the conformance suite, pmsync.testing)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine, text

from pmsync.testing import ConnectorConformance, Scenario

from .helpers import DATA, MONTHS, QUERY, create_ledger

#: the projects the exports and the ledger name, linked to pmsync projects
CONFIG = {
    "portfolio": {"fiscal_year_start_month": 7},
    "mappings_dir": str(DATA / "mappings"),
    "projects": [
        {"key": "ERP", "name": "ERP upgrade", "links": {"conformance": ["P-100"]}},
        {"key": "CRM", "name": "CRM", "links": {"conformance": ["P-101"]}},
    ],
}


class TestFinanceFileConformance(ConnectorConformance):
    def scenario(self, tmp_path: Path) -> Scenario:
        exports = tmp_path / "exports"
        exports.mkdir(exist_ok=True)
        for month in ("07", "08", "09"):
            shutil.copy(MONTHS / f"pa-costs-2025-{month}.csv", exports)
        # October's export has a malformed amount and an impossible date: the file is rejected
        spoiled = exports / "pa-costs-2025-10.csv"
        return Scenario(
            source={"type": "finance_file", "path": "exports", "mapping": "finance-oracle-ebs.yaml"},
            folder=tmp_path,
            config=CONFIG,
            spoil=lambda: shutil.copy(MONTHS / spoiled.name, spoiled),
            restore=lambda: spoiled.unlink(),
        )


class TestFinanceSqlConformance(ConnectorConformance):
    def scenario(self, tmp_path: Path) -> Scenario:
        database = tmp_path / "ledger.sqlite"
        url = f"sqlite:///{database}"
        if not database.exists():
            create_ledger(url)
        return Scenario(
            source={
                "type": "finance_sql",
                "url": url,
                "query": QUERY,
                "params": {"fiscal_year": 2026, "bu": "IT01"},
                "mapping": "finance-peoplesoft.yaml",
            },
            folder=tmp_path,
            config=CONFIG,
            # every run states the whole query result (see finance_sql's docstring)
            restates_everything=True,
            # a row whose amount is not a number: the run fails naming the query, nothing is loaded
            spoil=lambda: _set_amount(url, "not a number"),
        )


def _set_amount(url: str, value: str) -> None:

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE proj_resource SET resource_amount = :v WHERE resource_id = 'R2'"), {"v": value}
        )
    engine.dispose()
