"""Property: whatever lines an export holds, in whatever order, the connector loads each exactly once
with its amount, and the same lines in another order give the same records."""

from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import HEADER, file_connector, lines_of, totals

MONTHS = ["JUL-25", "AUG-25", "SEP-25"]
line = st.tuples(
    st.sampled_from(["P-100", "P-101", "P-7"]),
    st.sampled_from(["Actual", "Budget", "Commitment"]),
    st.sampled_from(MONTHS),
    st.decimals(min_value=-(10**7), max_value=10**7, places=2),
    st.sampled_from(["Dell", "SHI, Inc.", 'Acme "Best"', "Café Ñ", "=cmd|' /C calc'!A0"]),
)


def _export(rows: list[tuple[str, str, str, Decimal, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    for code, kind, period, amount, vendor in rows:
        text = f"({abs(amount):,.2f})" if amount < 0 else f"{amount:,.2f}"
        writer.writerow([code, "1.1", "5110", "Labor", kind, period, "", text, "USD", vendor, "", "x"])
    return out.getvalue()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=20), st.randoms(use_true_random=False))
def test_every_line_loads_once_whatever_the_order(rows, rng) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(_export(rows), encoding="utf-8")
        first = lines_of(file_connector(path).extract({}))
        shuffled = list(rows)
        rng.shuffle(shuffled)
        path.write_text(_export(shuffled), encoding="utf-8")
        again = lines_of(file_connector(path).extract({}))
    assert len(first) == len(rows)
    assert len({x.source for x in first}) == len(rows)  # identical lines still get distinct ids
    assert {x.source for x in again} == {x.source for x in first}
    expected: dict[tuple[str, str], Decimal] = {}
    for _, kind, _, amount, vendor in rows:
        key = (kind.lower(), vendor)
        expected[key] = expected.get(key, Decimal(0)) + amount
    assert totals(first, "kind", "vendor") == expected  # vendor text kept as written, formulas too
    assert sum((x.amount for x in first), Decimal(0)) == sum((r[3] for r in rows), Decimal(0))
