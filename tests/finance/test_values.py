from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pmsync.connectors.finance.values import (
    canonical_amount,
    parse_amount,
    parse_date,
    parse_int,
    parse_period,
    text_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("$1,234.56", "1234.56"),
        ("(1,234.56)", "-1234.56"),
        ("($1,234.56)", "-1234.56"),
        ("1,234.56-", "-1234.56"),
        ("-$5.00", "-5.00"),
        ("$-5.00", "-5.00"),
        ("USD 1,000", "1000"),
        ("1,000.00 USD", "1000.00"),
        ("250.00 CR", "-250.00"),
        ("250.00 DR", "250.00"),
        (" 7 ", "7"),
        (".5", "0.5"),
        ("\u2212" + "12", "-12"),
    ],
)
def test_amounts_as_exports_write_them(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


def test_european_and_swiss_amounts() -> None:
    assert parse_amount("1.234,56 €", decimal_separator=",", thousands_separator=".") == Decimal("1234.56")
    assert parse_amount("1\u00a0234,56", decimal_separator=",", thousands_separator=" ") == Decimal("1234.56")
    assert parse_amount("1'234.50", thousands_separator="'") == Decimal("1234.50")


@pytest.mark.parametrize("text", ["12,34.00", "1.2E5", "", "abc", "(-5)", "--5", "1,2345", "5 5"])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_spreadsheet_numbers() -> None:
    assert parse_amount(1234) == Decimal(1234)
    assert parse_amount(0.1) == Decimal("0.1")
    assert parse_amount(Decimal("3.30")) == Decimal("3.30")
    for bad in (float("nan"), float("inf"), True, None):
        with pytest.raises(ValueError):
            parse_amount(bad)


amounts = st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False)


@given(amounts, st.sampled_from(["plain", "parens", "trailing", "symbol", "code"]))
def test_formatted_amounts_read_back(amount: Decimal, style: str) -> None:
    grouped = f"{abs(amount):,.2f}"
    negative = amount < 0
    text = {
        "plain": f"{'-' if negative else ''}{grouped}",
        "parens": f"({grouped})" if negative else grouped,
        "trailing": f"{grouped}-" if negative else grouped,
        "symbol": f"{'-' if negative else ''}${grouped}",
        "code": f"{'-' if negative else ''}{grouped} USD",
    }[style]
    assert parse_amount(text) == amount


@given(amounts)
def test_european_format_reads_back(amount: Decimal) -> None:
    text = f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_amount(text, decimal_separator=",", thousands_separator=".") == amount


@given(st.text(max_size=12))
def test_any_text_is_an_amount_or_a_value_error(text: str) -> None:
    try:
        result = parse_amount(text)
    except ValueError as exc:
        assert str(exc)  # says what was expected
    else:
        assert result.is_finite()


@given(amounts)
def test_canonical_amount_ignores_trailing_zeros(amount: Decimal) -> None:
    assert canonical_amount(amount) == canonical_amount(amount.quantize(Decimal("0.0001")))
    assert Decimal(canonical_amount(amount)) == amount


def test_dates_and_periods() -> None:
    formats = ("%d-%b-%Y", "%m/%d/%Y")
    assert parse_date("15-JUL-2025", formats) == date(2025, 7, 15)
    assert parse_date("07/15/2025", formats) == date(2025, 7, 15)
    assert parse_date(datetime(2025, 7, 15, 13, 5), formats) == date(2025, 7, 15)
    assert parse_period("JUL-25", ("%b-%y",)) == date(2025, 7, 1)
    assert parse_period("2025-07", ("%Y-%m",)) == date(2025, 7, 1)
    with pytest.raises(ValueError, match=r"not a date in the format %d-%b-%Y or %m/%d/%Y"):
        parse_date("32-OCT-2025", formats)
    with pytest.raises(ValueError, match="empty"):
        parse_date("  ", formats)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)),
    st.sampled_from(["%Y-%m-%d", "%d-%b-%Y", "%m/%d/%Y"]),
)
def test_dates_read_back_in_their_format(day: date, fmt: str) -> None:
    assert parse_date(day.strftime(fmt), (fmt,)) == day


@given(st.dates().filter(lambda d: not 1900 <= d.year <= 2199))
def test_dates_outside_the_plausible_years_are_refused(day: date) -> None:
    with pytest.raises(ValueError, match="outside the plausible years 1900-2199"):
        parse_date(day.isoformat(), ("%Y-%m-%d",))
    with pytest.raises(ValueError, match="outside the plausible years"):
        parse_date(day, ())


def test_codes_from_spreadsheets_keep_their_digits() -> None:
    assert text_value(5110) == "5110"
    assert text_value(5110.0) == "5110"
    assert text_value(Decimal("5110")) == "5110"
    assert text_value('  =HYPERLINK("x")  ') == '=HYPERLINK("x")'  # text stays as the source wrote it
    assert text_value("   ") is None
    assert parse_int("07") == 7
    assert parse_int(2026.0) == 2026
    with pytest.raises(ValueError):
        parse_int("7a")
