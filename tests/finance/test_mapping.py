from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pmsync.connectors.finance.lines import LineBuilder, RowError
from pmsync.connectors.finance.mapping import FinanceMapping

from pmsync.config import shipped_mappings_dir
from pmsync.errors import MappingError
from pmsync.mapping import load_mapping

SHIPPED = sorted(p.name for p in shipped_mappings_dir().glob("finance-*.yaml"))


def test_at_least_two_erp_mappings_ship() -> None:
    assert len(SHIPPED) >= 2


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_mappings_load(name: str) -> None:
    mapping = load_mapping(name, FinanceMapping, [shipped_mappings_dir()])
    assert mapping.columns.project_code
    assert mapping.categories, "shipped examples map accounts to categories"


def _load(tmp_path: Path, text: str) -> FinanceMapping:
    (tmp_path / "m.yaml").write_text(text)
    return load_mapping("m.yaml", FinanceMapping, [tmp_path])


FIXED = "cost_kind: {fixed: actual}\n"
BASE = """
columns: {project_code: Project, amount: Amount, period: Period, cost_kind: Type, account: Account}
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("cost_kind: {values: {Budget: spend}}", r"cost_kind\.values\.Budget: .*'budget', 'actual'"),
        (f"{FIXED}categories: [{{category: food, accounts: ['1']}}]", r"categories\.0\.category.*'labor'"),
        (f"{FIXED}categories: [{{category: labor, accounts: ['51A0-5199']}}]", r"51A0-5199.*range"),
        (f"{FIXED}colour: blue", r"colour: unknown key"),
        (f"{FIXED}amounts: {{decimal_separator: ';'}}", r"amounts\.decimal_separator.*'\.' or ','"),
        ("", r"cost_kind\.fixed or cost_kind\.values"),
        (f"{FIXED}date_formats: ['YYYY-MM-DD']", r"strptime"),
    ],
)
def test_mapping_errors_name_file_key_and_allowed_values(tmp_path: Path, extra: str, expected: str) -> None:
    with pytest.raises(MappingError, match=expected) as caught:
        _load(tmp_path, BASE + extra)
    assert str(tmp_path / "m.yaml") in str(caught.value)


def test_a_period_source_is_required(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="map a period"):
        _load(tmp_path, "columns: {project_code: P, amount: A}\ncost_kind: {fixed: actual}")


# -- the mapping layer as a whole, property-based --------------------------------------------------

HEADER = ["Project", "Amount", "Period", "Type", "Account"]
RULES = [
    ("labor", 5000, 5199),
    ("hardware", 5200, 5299),
    ("software", 5300, 5399),
    ("contingency", 5900, 5999),
]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _builder() -> LineBuilder:
    mapping = FinanceMapping.model_validate(
        {
            "columns": {
                "project_code": "Project",
                "amount": "Amount",
                "period": "Period",
                "cost_kind": "Type",
                "account": "Account",
            },
            "cost_kind": {"values": {"Budget": "budget", "Actual": "actual", "Encumbrance": "commitment"}},
            "period_formats": ["%b-%y"],
            "categories": [{"category": c, "accounts": [f"{lo}-{hi}"]} for c, lo, hi in RULES],
        }
    )
    builder = LineBuilder(
        mapping,
        system="finance_file",
        source_name="s",
        project_links={"P-1": "ERP"},
        fiscal_year_start_month=10,
    )
    builder.bind(HEADER)
    return builder


BUILDER = _builder()


@given(
    code=st.sampled_from(["P-1", "P-2"]),
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    month=st.integers(1, 12),
    year=st.integers(2000, 2068),
    kind=st.sampled_from(["Budget", "ACTUAL", "encumbrance"]),
    account=st.integers(4000, 6999),
)
def test_rows_map_to_lines(
    code: str, amount: Decimal, month: int, year: int, kind: str, account: int
) -> None:
    text = f"({abs(amount):,.2f})" if amount < 0 else f"{amount:,.2f}"
    period = f"{MONTHS[month - 1]}-{year % 100:02d}"
    [line] = BUILDER.parse([code, text, period, kind, str(account)])
    record = BUILDER.record(line, 1)
    assert record.amount == amount
    assert record.kind == {"budget": "budget", "actual": "actual", "encumbrance": "commitment"}[kind.lower()]
    assert record.period is not None
    assert (record.period.year % 100, record.period.month) == (year % 100, month)
    # federal fiscal year: October starts the next year's FY
    assert record.fiscal_period == (month - 10) % 12 + 1
    assert record.fiscal_year == record.period.year + (1 if month >= 10 else 0)
    expected = next((c for c, lo, hi in RULES if lo <= account <= hi), "other")
    assert record.category == expected
    assert record.project == ("ERP" if code == "P-1" else None)
    assert record.scope == f"{code}/{record.kind}/{record.period:%Y-%m}"
    assert record.source.external_id.startswith(record.scope + "/")
    # the same row gives the same id; another amount another id
    same = BUILDER.parse([code, text, period, kind, str(account)])[0]
    assert BUILDER.record(same, 1).source == record.source
    other = BUILDER.parse([code, f"{amount + 1:.2f}", period, kind, str(account)])[0]
    assert BUILDER.record(other, 1).source != record.source


@given(st.text(max_size=10), st.text(max_size=10), st.text(max_size=10))
def test_any_row_maps_or_says_which_column_is_wrong(amount: str, period: str, kind: str) -> None:
    try:
        BUILDER.parse(["P-1", amount, period, kind, "5100"])
    except RowError as exc:
        assert exc.column in HEADER
