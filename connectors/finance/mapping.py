"""The finance mapping file (``mappings/finance-*.yaml``): which export column is which field, how
cost kinds, periods and amounts are written, and which accounts fall in which spending category.

Loaded with :func:`pmsync.mapping.load_mapping`, so a mistake is reported with the file, the key and
the allowed values. See ``docs/finance.md`` for a commented example.
"""

from __future__ import annotations

import codecs
import fnmatch
import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pmsync.model import CostKind

Category = Literal[
    "labor", "hardware", "software", "services", "contingency", "travel", "training", "facilities", "other"
]
#: normalized fields a category rule may test
RuleField = Literal["account", "category", "task_code", "vendor", "description"]

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    """Export column names (as in the header row; matched ignoring case and surrounding spaces)."""

    project_code: str
    task_code: str | None = None
    account: str | None = None
    #: a column whose values say budget / actual / commitment (see ``cost_kind.values``)
    cost_kind: str | None = None
    amount: str | None = None
    currency: str | None = None
    #: accounting period as text ("JAN-26", "2026-01") or a date; see ``period_formats``
    period: str | None = None
    posting_date: str | None = None
    #: fiscal year and period number columns (PeopleSoft style), instead of a period column
    fiscal_year: str | None = None
    fiscal_period: str | None = None
    vendor: str | None = None
    po_number: str | None = None
    description: str | None = None
    #: the export's own line id, when it has one; makes ids survive amount corrections
    line_id: str | None = None
    #: a category-like column (e.g. "Expenditure Category") the category rules may test
    category: str | None = None


class CostKindMapping(_Strict):
    """How a row's cost kind is known: every row the same kind, or by the value of a column."""

    fixed: CostKind | None = None
    #: column value → kind, matched ignoring case, e.g. ``{Budget: budget, Encumbrance: commitment}``
    values: dict[str, CostKind] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> CostKindMapping:
        if (self.fixed is None) == (not self.values):
            raise ValueError("give either fixed (one kind for every row) or values (column value → kind)")
        return self


class AmountFormat(_Strict):
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal[",", ".", " ", "'", ""] = ","

    @model_validator(mode="after")
    def _distinct(self) -> AmountFormat:
        if self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal_separator and thousands_separator must differ")
        return self


class FileFormat(_Strict):
    """How to read export files; the source's config in pmsync.yaml may override each key."""

    #: "auto": UTF-8 (with or without BOM), else Windows-1252
    encoding: str = "auto"
    #: "auto" (comma, semicolon, tab or pipe; whichever makes the header row) or one character
    delimiter: str = "auto"
    #: XLSX worksheet name; default the first sheet
    sheet: str | None = None
    #: 1-based row of the column names; default: the first row (of the first 50) naming every column
    header_row: int | None = Field(default=None, ge=1)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError("unknown encoding; use auto, utf-8, utf-8-sig, cp1252 or latin-1") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        value = {"tab": "\t", "\\t": "\t"}.get(value, value)
        if value != "auto" and len(value) != 1:
            raise ValueError("delimiter must be auto, tab or a single character")
        return value


class CategoryRule(_Strict):
    """Lines whose account is in ``accounts`` (numbers or ranges like ``5000-5199``), or whose
    ``field`` matches one of ``values`` (shell patterns like ``*Software*``, any case), get ``category``."""

    category: Category
    accounts: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    field: RuleField = "account"

    @field_validator("accounts")
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        for item in value:
            match = _RANGE.match(str(item))
            if not match:
                raise ValueError(f"{item!r} is not an account number or a range like 5000-5199")
            if match.group(2) and int(match.group(2)) < int(match.group(1)):
                raise ValueError(f"{item!r}: the range ends before it starts")
        return value

    @model_validator(mode="after")
    def _something(self) -> CategoryRule:
        if not self.accounts and not self.values:
            raise ValueError("a category rule needs accounts or values")
        return self

    def account_ranges(self) -> list[tuple[int, int]]:
        ranges = []
        for item in self.accounts:
            match = _RANGE.match(str(item))
            assert match is not None  # checked by the validator
            low = int(match.group(1))
            ranges.append((low, int(match.group(2) or low)))
        return ranges

    def patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(fnmatch.translate(v.casefold())) for v in self.values]


class SkipRule(_Strict):
    """Rows whose ``column`` matches one of ``values`` (shell patterns, any case; "" is an empty
    cell) are not data, e.g. a report's "Grand Total" line."""

    column: str
    values: list[str]


class FinanceMapping(_Strict):
    description: str | None = None
    columns: Columns
    cost_kind: CostKindMapping | None = None
    #: wide exports: one amount column per kind, e.g. ``{budget: Budget, actual: Actual}``
    amount_columns: dict[CostKind, str] = Field(default_factory=dict)
    #: ISO currency of amounts when there is no currency column (or it is empty)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d", "%m/%d/%Y", "%d-%b-%Y", "%d-%b-%y"])
    period_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m", "%b-%y", "%b-%Y", "%Y%m", "%m/%Y", "%Y-%m-%d", "%m/%d/%Y"]
    )
    amounts: AmountFormat = Field(default_factory=AmountFormat)
    file: FileFormat = Field(default_factory=FileFormat)
    #: first matching rule wins
    categories: list[CategoryRule] = Field(default_factory=list)
    default_category: Category | None = "other"
    skip_rows: list[SkipRule] = Field(default_factory=list)

    @field_validator("date_formats", "period_formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a date format (use strptime codes like %Y-%m-%d)")
            try:
                date(2026, 1, 31).strftime(fmt)
            except ValueError:
                raise ValueError(f"{fmt!r} is not a valid date format") from None
        if not value:
            raise ValueError("give at least one format")
        return value

    @model_validator(mode="after")
    def _complete(self) -> FinanceMapping:
        c = self.columns
        if self.amount_columns:
            if c.amount or c.cost_kind or self.cost_kind:
                raise ValueError(
                    "amount_columns (one column per kind) excludes columns.amount, columns.cost_kind "
                    "and cost_kind"
                )
        else:
            if not c.amount:
                raise ValueError("map columns.amount, or amount_columns for one column per kind")
            if self.cost_kind is None:
                raise ValueError("say how the cost kind is known: cost_kind.fixed or cost_kind.values")
            if self.cost_kind.values and not c.cost_kind:
                raise ValueError("cost_kind.values needs columns.cost_kind (the column holding the kind)")
        if (c.fiscal_year is None) != (c.fiscal_period is None):
            raise ValueError("map both columns.fiscal_year and columns.fiscal_period, or neither")
        if not (c.period or c.posting_date or c.fiscal_year):
            raise ValueError(
                "map a period: columns.period, columns.posting_date or fiscal_year+fiscal_period"
            )
        for rule in self.categories:
            if rule.field == "category" and rule.values and not c.category:
                raise ValueError("a category rule tests field 'category' but columns.category is not mapped")
        return self

    def mapped_columns(self) -> list[str]:
        """Every export column the mapping names (all must be present in a file's header)."""
        names = [v for v in self.columns.model_dump().values() if v]
        names.extend(self.amount_columns.values())
        return list(dict.fromkeys(names))
