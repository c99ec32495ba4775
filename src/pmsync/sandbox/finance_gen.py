"""Realistic finance exports for the demo, the tests and the benchmarks.

Writes CSV files shaped like an Oracle EBS Projects cost export (the columns of the shipped mapping
``finance-oracle-ebs.yaml``): a fiscal-year budget file, then one file per month with that month's
actuals and open commitments by project, task, GL account and supplier. A later month may restate an
earlier month (a correction), as a re-export does after a period is reopened.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

HEADER = [
    "Project Number",
    "Task Number",
    "GL Account",
    "Expenditure Category",
    "Amount Type",
    "PA Period",
    "Expenditure Item Date",
    "Burdened Cost",
    "Currency Code",
    "Supplier Name",
    "PO Number",
    "Expenditure Comment",
]

#: (category, GL account, expenditure category, suppliers)
SPEND = [
    ("labor", "5110", "Labor", ["Agency Staff"]),
    ("hardware", "5210", "Hardware", ["Dell Technologies", "CDW Government LLC"]),
    ("software", "5310", "Software", ["Carahsoft Technology Corp", "SHI International Corp"]),
    ("services", "5410", "Consulting Services", ["Accenture Federal Services", "Deloitte Consulting LLP"]),
    ("travel", "5610", "Travel", ["Concur Travel"]),
]
CONTINGENCY = ("contingency", "5910", "Contingency", [""])


@dataclass(frozen=True)
class ExportLine:
    project: str
    task: str
    account: str
    category_label: str
    kind: str
    period: date
    item_date: date
    amount: Decimal
    supplier: str
    po: str
    comment: str

    def cells(self) -> list[str]:
        return [
            self.project,
            self.task,
            self.account,
            self.category_label,
            self.kind,
            self.period.strftime("%b-%y").upper(),
            self.item_date.strftime("%d-%b-%Y").upper(),
            f"{self.amount:,.2f}",
            "USD",
            self.supplier,
            self.po,
            self.comment,
        ]


def _month(start: date, offset: int) -> date:
    months = start.month - 1 + offset
    return date(start.year + months // 12, months % 12 + 1, 1)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def budget_lines(projects: Sequence[str], fy_start: date, rng: random.Random) -> Iterator[ExportLine]:
    for project in projects:
        for month in range(12):
            period = _month(fy_start, month)
            for category, account, label, _ in [*SPEND, CONTINGENCY]:
                amount = _money(rng, 5_000, 60_000)
                yield ExportLine(
                    project,
                    "1.0",
                    account,
                    label,
                    "Budget",
                    period,
                    period,
                    amount,
                    "",
                    "",
                    f"FY budget {category}",
                )


def month_lines(
    projects: Sequence[str], period: date, lines: int, rng: random.Random
) -> Iterator[ExportLine]:
    """Actuals and open commitments of one month, ``lines`` lines in all."""
    for n in range(lines):
        project = projects[n % len(projects)]
        category, account, label, suppliers = SPEND[rng.randrange(len(SPEND))]
        supplier = suppliers[rng.randrange(len(suppliers))]
        day = period.replace(day=rng.randrange(1, 28))
        task = f"{rng.randrange(1, 6)}.{rng.randrange(1, 4)}"
        if category != "labor" and rng.random() < 0.3:
            po = f"PO-{period:%y%m}-{rng.randrange(1000, 9999)}"
            yield ExportLine(
                project,
                task,
                account,
                label,
                "Commitment",
                period,
                day,
                _money(rng, 1_000, 40_000),
                supplier,
                po,
                f"Open PO {po}",
            )
            continue
        amount = _money(rng, 100, 12_000)
        if rng.random() < 0.03:
            amount = -amount  # credit memo / reversal
        po = "" if category == "labor" else f"PO-{period:%y%m}-{rng.randrange(1000, 9999)}"
        comment = "Timesheet hours" if category == "labor" else f"Invoice {rng.randrange(10000, 99999)}"
        yield ExportLine(project, task, account, label, "Actual", period, day, amount, supplier, po, comment)


def write_export(path: Path, lines: Iterator[ExportLine], *, title: bool = True) -> int:
    """Write one export file (with the report title rows ERP exports put above the header)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if title:
            writer.writerow(["Project Cost Inquiry"])
            writer.writerow(["Operating Unit: Agency IT"])
            writer.writerow([])
        writer.writerow(HEADER)
        for line in lines:
            writer.writerow(line.cells())
            count += 1
    return count


def write_monthly_exports(
    folder: Path,
    *,
    projects: Sequence[str] = ("P-100", "P-101", "P-102"),
    fy_start: date = date(2025, 7, 1),
    months: int = 6,
    lines_per_month: int = 120,
    correct_month: int | None = 1,
    seed: int = 2026,
) -> list[Path]:
    """A budget file and ``months`` monthly files; the month after ``correct_month`` (0-based)
    restates it for the first project with one line changed and one dropped."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    written = [folder / f"pa-budget-FY{fy_start.year + 1}.csv"]
    write_export(written[0], budget_lines(projects, fy_start, rng))
    history: dict[int, list[ExportLine]] = {}
    for month in range(months):
        period = _month(fy_start, month)
        lines = list(month_lines(projects, period, lines_per_month, rng))
        history[month] = lines
        if correct_month is not None and month == correct_month + 1:
            lines = lines + corrected(history[correct_month], projects[0])
        path = folder / f"pa-costs-{period:%Y-%m}.csv"
        write_export(path, iter(lines))
        written.append(path)
    return written


def corrected(lines: list[ExportLine], project: str) -> list[ExportLine]:
    """The restated actuals of ``project`` for a past month: first line +10 %, second line dropped."""
    mine = [line for line in lines if line.project == project and line.kind == "Actual"]
    out = []
    for index, line in enumerate(mine):
        if index == 1:
            continue
        if index == 0:
            line = ExportLine(
                **{**line.__dict__, "amount": (line.amount * Decimal("1.1")).quantize(Decimal("0.01"))}
            )
        out.append(line)
    return out


def write_large_export(
    path: Path, lines: int, *, projects: int = 200, months: int = 24, seed: int = 7
) -> int:
    """One export of ``lines`` lines over ``projects`` projects and ``months`` months, streamed."""
    rng = random.Random(seed)
    codes = [f"P-{100 + i}" for i in range(projects)]
    start = date(2024, 7, 1)
    per_month = max(1, lines // months)

    def all_lines() -> Iterator[ExportLine]:
        left = lines
        month = 0
        while left > 0:
            batch = min(per_month, left)
            yield from month_lines(codes, _month(start, month % months), batch, rng)
            left -= batch
            month += 1

    return write_export(path, all_lines())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pmsync.sandbox.finance_gen [FOLDER]``: sample exports for trying pmsync out."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", default="finance-exports", type=Path)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--lines-per-month", type=int, default=120)
    args = parser.parse_args(argv)
    for path in write_monthly_exports(args.folder, months=args.months, lines_per_month=args.lines_per_month):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
