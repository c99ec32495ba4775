"""Normalizers for the cells of finance exports: amounts, dates, periods and codes.

Each takes a cell as a CSV/XLSX/SQL driver delivers it (``str``, ``int``, ``float``, ``Decimal``,
``date``, ``datetime`` or ``None``) and returns a normalized value, or raises ``ValueError`` with a
message that says what was expected. The caller adds the file, row and column.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

#: currency symbols and ISO codes that may prefix or suffix an amount ("$1,234.00", "1.234,00 €", "USD 12")
_CURRENCY_PREFIX = re.compile(r"^(?:US\$|[$€£¥]|[A-Z]{3}(?=[\s\d.,$€£¥(+-]))\s*")
_CURRENCY_SUFFIX = re.compile(r"\s*(?:[$€£¥]|(?<=[\s\d.,)])[A-Z]{3})$")
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2212": "-"})
#: posting dates and periods outside these years are refused: year 0001 or 9999 is a placeholder or
#: a typo, never a cost (docs/finance.md, "Implausible values")
PLAUSIBLE_YEARS = (1900, 2199)


def _refuse_foreign_digits(text: str) -> None:
    """Digits other than 0-9 (Arabic-Indic, Devanagari, full-width...) are refused with a word rather
    than read: Python would read them, but an export that mixes digit systems is not one pmsync
    vouches for."""
    if not text.isascii():
        foreign = sorted({ch for ch in text if ch.isdigit() and not "0" <= ch <= "9"})
        if foreign:
            raise ValueError(f"has digits other than 0-9 ({''.join(foreign[:5])}); export Western digits")


@lru_cache(maxsize=16)
def _plain_pattern(decimal_separator: str, thousands_separator: str) -> re.Pattern[str]:
    """The common case, an optional leading minus and digits (grouped or not), for a fast path."""
    dec = re.escape(decimal_separator)
    if thousands_separator:
        sep = re.escape(thousands_separator)
        return re.compile(rf"^-?(?:\d{{1,3}}(?:{sep}\d{{3}})+|\d+)(?:{dec}\d+)?$", re.ASCII)
    return re.compile(rf"^-?\d+(?:{dec}\d+)?$", re.ASCII)


@lru_cache(maxsize=16)
def _number_pattern(decimal_separator: str, thousands_separator: str) -> re.Pattern[str]:
    dec = re.escape(decimal_separator)
    plain = r"\d+"
    if thousands_separator:
        sep = re.escape(thousands_separator)
        integer = rf"(?:\d{{1,3}}(?:{sep}\d{{3}})+|{plain})"
    else:
        integer = plain
    return re.compile(rf"^(?:{integer}(?:{dec}\d*)?|{dec}\d+)$", re.ASCII)


def parse_amount(value: object, *, decimal_separator: str = ".", thousands_separator: str = ",") -> Decimal:
    """An amount as ``Decimal``.

    Text may carry a currency symbol or ISO code, thousands separators (checked: groups of three),
    and a negative sign as a leading or trailing minus, parentheses or a ``CR`` suffix (``DR`` is
    accepted as positive). Exactly one negative marker is allowed; ``(-5)`` is ambiguous and refused.
    """
    if not isinstance(value, str):
        return _cell_amount(value)
    if _plain_pattern(decimal_separator, thousands_separator).match(value):
        plain = value.replace(thousands_separator, "") if thousands_separator else value
        return Decimal(plain.replace(decimal_separator, ".") if decimal_separator != "." else plain)
    text = value.translate(_SPACES).strip()
    if not text:
        raise ValueError("is empty")
    _refuse_foreign_digits(text)
    text, negatives = _without_sign_and_currency(text)
    if negatives > 1:
        raise ValueError("has more than one negative sign")
    if not _number_pattern(decimal_separator, thousands_separator).match(text):
        grouping = f"'{thousands_separator}' between thousands, " if thousands_separator else ""
        raise ValueError(
            f"is not an amount (expected digits, {grouping}'{decimal_separator}' before decimals)"
        )
    if thousands_separator:
        text = text.replace(thousands_separator, "")
    if decimal_separator != ".":
        text = text.replace(decimal_separator, ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError("is not an amount") from None
    return -amount if negatives else amount


def _cell_amount(value: object) -> Decimal:
    """An amount from a typed cell (a number from a spreadsheet or a database), not from text."""
    if value is None:
        raise ValueError("is empty")
    if isinstance(value, bool):
        raise ValueError("is a true/false value, not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("is not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("is not a finite number")
        return value
    raise ValueError(f"is a {type(value).__name__}, not an amount")


def _without_sign_and_currency(text: str) -> tuple[str, int]:
    """``text`` without its negative markers (parentheses, ``CR``, a leading or trailing minus),
    ``DR`` and currency symbols or codes, and how many negative markers it had."""
    negatives = 0
    if text.startswith("(") and text.endswith(")"):
        negatives += 1
        text = text[1:-1].strip()
    upper = text.upper()
    if upper.endswith("CR"):
        negatives += 1
        text = text[:-2].rstrip()
    elif upper.endswith("DR"):
        text = text[:-2].rstrip()
    text = _CURRENCY_SUFFIX.sub("", text)
    if text.endswith("-"):
        negatives += 1
        text = text[:-1].rstrip()
    text = _CURRENCY_PREFIX.sub("", text)
    if text[:1] in ("-", "+"):
        negatives += text[0] == "-"
        text = _CURRENCY_PREFIX.sub("", text[1:].lstrip())
    return _CURRENCY_SUFFIX.sub("", text), negatives


@lru_cache(maxsize=8192)
def _parse_date_text(text: str, formats: tuple[str, ...]) -> date:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"is not a date in the format {' or '.join(formats)}")


def parse_date(value: object, formats: tuple[str, ...]) -> date:
    """A date from a date/datetime cell or from text in one of ``formats`` (strptime)."""
    if isinstance(value, datetime):
        return _plausible(value.date())
    if isinstance(value, date):
        return _plausible(value)
    if value is None:
        raise ValueError("is empty")
    if not isinstance(value, str):
        raise ValueError(f"is a {type(value).__name__}, not a date")
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    _refuse_foreign_digits(text)
    return _plausible(_parse_date_text(text, formats))


def _plausible(day: date) -> date:
    low, high = PLAUSIBLE_YEARS
    if not low <= day.year <= high:
        raise ValueError(f"is in the year {day.year}, outside the plausible years {low}-{high}")
    return day


def parse_period(value: object, formats: tuple[str, ...]) -> date:
    """The first day of the month a period cell names (``JAN-26``, ``2026-01``, a date, ...)."""
    return parse_date(value, formats).replace(day=1)


def parse_int(value: object) -> int:
    """A whole number from a cell (``2026``, ``"07"``, ``7.0``)."""
    if isinstance(value, bool):
        raise ValueError("is a true/false value, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise ValueError("is not a whole number")


def text_value(value: object) -> str | None:
    """A code or text cell as stripped text; ``None`` when empty. Numbers read from spreadsheets
    (``5110`` or ``5110.0`` for an account) become their plain digits. Text is otherwise kept as-is."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def canonical_amount(amount: Decimal) -> str:
    """``100``, ``100.0`` and ``100.00`` are the same amount; give them one spelling (for ids)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text
