"""From a row of an export to :class:`~pmsync.model.CostLine` records.

Identity and replacement rule (see docs/finance.md, "Corrections"):

- every line belongs to the scope ``<project code>/<kind>/<YYYY-MM>`` (within its source): one
  finance project code, one cost kind, one calendar month;
- an export that contains lines of a scope is the complete statement of that scope: the connector
  ends it with :class:`~pmsync.connector.SnapshotComplete`, so the store replaces the scope's older
  lines (marking them deleted, history keeps them);
- a line's external id is ``<code>/<kind>/<YYYY-MM>/<key>`` where ``<key>`` is the export's line id
  when mapped, else a hash of the line's content (task, account, dates, vendor, PO, description,
  amount, currency) with ``/2``, ``/3``... for identical lines. It does not depend on the file name
  or the row order, so re-reading the same data yields the same ids.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from pmsync.fiscal import FiscalPeriod, fiscal_period, period_start
from pmsync.model import CostKind, CostLine

from .mapping import FinanceMapping
from .values import (
    canonical_amount,
    parse_amount,
    parse_date,
    parse_int,
    parse_period,
    text_value,
)

_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: amounts beyond this (either sign) are refused: no agency posts a quadrillion, and a value past
#: it is a unit or parsing mistake (``max_abs_amount`` of a finance source overrides it)
DEFAULT_MAX_ABS_AMOUNT = Decimal(10) ** 15
#: the longest project code or line id: both go into a line's external id, which the store keeps up
#: to 512 characters on every dialect
MAX_KEY_CHARS = 200


def _too_long(value: str) -> str:
    return f"has {len(value)} characters; a code or line id may have at most {MAX_KEY_CHARS}"


#: the text columns of a line, in the order ``parse`` reads them
_TEXT_FIELDS = (
    "task_code", "account", "vendor", "description", "category", "po_number", "line_id", "currency",
)  # fmt: skip
#: "YYYY-MM" of the first days of months seen (formatting dates is slow; there are few months)
_MONTHS: dict[date, str] = {}


class RowError(ValueError):
    """A cell that cannot be read; the caller adds file and row."""

    def __init__(self, column: str, value: object, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.value = value
        self.message = message


class RowProblem(NamedTuple):
    """A bad row as reported to the user."""

    where: str
    row: int
    column: str
    value: str
    message: str

    def describe(self) -> str:
        return f"{self.where} row {self.row}, column {self.column!r}: value {self.value!r} {self.message}"


class ParsedLine(NamedTuple):
    code: str
    kind: CostKind
    amount: Decimal
    currency: str
    period: date
    posting_date: date | None
    task_code: str | None
    account: str | None
    category: str | None
    vendor: str | None
    po_number: str | None
    description: str | None
    line_id: str | None

    def scope_suffix(self) -> str:
        month = _MONTHS.get(self.period)
        if month is None:
            month = _MONTHS[self.period] = f"{self.period.year:04d}-{self.period.month:02d}"
        return f"{self.code}/{self.kind}/{month}"

    def identity(self, scope: str | None = None) -> str:
        """The external id without the occurrence number (``scope``: this line's, if known)."""
        if self.line_id is not None:
            key = self.line_id
        else:
            parts = (
                self.task_code,
                self.account,
                self.posting_date.isoformat() if self.posting_date else None,
                self.vendor,
                self.po_number,
                self.description,
                canonical_amount(self.amount),
                self.currency,
            )
            text = "\x1f".join("" if p is None else p for p in parts)
            key = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
        return f"{scope or self.scope_suffix()}/{key}"


def _text_of(value: object) -> str | None:
    """:func:`text_value` with a fast path for the common case, a text cell."""
    if value.__class__ is str:
        return value.strip() or None
    return text_value(value)


def _fold(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class MissingColumns(ValueError):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


class DuplicateColumns(ValueError):
    """A mapped column's name appears more than once in the header: which one holds the data?"""

    def __init__(self, column: str, positions: list[int]) -> None:
        numbers = " and ".join(str(p + 1) for p in positions)
        times = len(positions)
        super().__init__(f"the column {column!r} appears {times} times in the header (columns {numbers})")
        self.column = column
        self.positions = positions


class LineBuilder:
    """Turns rows (cells in header order) into parsed lines and records, for one source."""

    def __init__(
        self,
        mapping: FinanceMapping,
        *,
        system: str,
        source_name: str,
        project_links: Mapping[str, str],
        fiscal_year_start_month: int,
        currency: str | None = None,
        max_abs_amount: Decimal = DEFAULT_MAX_ABS_AMOUNT,
    ) -> None:
        self.mapping = mapping
        self.max_abs_amount = max_abs_amount
        #: look for NUL characters in every row; a file reader that knows its file has no NUL byte
        #: turns this off (the check cost a tenth of parsing a row)
        self.check_nul = True
        self.system = system
        self.source_name = source_name
        self.project_links = dict(project_links)
        self.fiscal_start = fiscal_year_start_month
        self.currency = currency or mapping.currency
        self.date_formats = tuple(mapping.date_formats)
        self.period_formats = tuple(mapping.period_formats)
        self.decimal = mapping.amounts.decimal_separator
        self.thousands = mapping.amounts.thousands_separator
        self.kind_values = {
            k.casefold(): v for k, v in (mapping.cost_kind.values if mapping.cost_kind else {}).items()
        }
        self.rules = [(r.category, r.field, r.account_ranges(), r.patterns()) for r in mapping.categories]
        self._rule_fields = sorted({"account"} | {r.field for r in mapping.categories})
        self._category_cache: dict[tuple[str | None, ...], str | None] = {}
        self._index: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._skip: list[tuple[int, list[re.Pattern[str]]]] = []
        self._width = 0
        self._header_width = 0
        self._text_indexes: tuple[int, ...] = ()
        self._currencies: dict[str, str] = {}
        self._fiscal: dict[date, FiscalPeriod] = {}
        self._period_cache: dict[object, date] = {}
        self._kind_cache: dict[object, CostKind] = {}
        self._fixed_kind: CostKind | None = mapping.cost_kind.fixed if mapping.cost_kind else None
        self.kind_values_named = list(mapping.cost_kind.values) if mapping.cost_kind else []
        self._i_amount = self._i_kind = self._i_period = self._i_posting = -1
        self._skip_cache: dict[tuple[int, str], bool] = {}

    def required_columns(self) -> list[str]:
        names = self.mapping.mapped_columns()
        names.extend(rule.column for rule in self.mapping.skip_rows)
        return list(dict.fromkeys(names))

    def bind(self, header: Sequence[object]) -> None:
        """Locate the mapped columns in a header row; raises :class:`MissingColumns`."""
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            if name is not None:
                positions.setdefault(_fold(str(name)), i)
        missing = [c for c in self.required_columns() if _fold(c) not in positions]
        if missing:
            raise MissingColumns(missing)
        for column in self.required_columns():
            folded = _fold(column)
            found = [i for i, name in enumerate(header) if name is not None and _fold(str(name)) == folded]
            if len(found) > 1:
                raise DuplicateColumns(column, found)
        self._index = {}
        self._names = {}
        for field, column in self.mapping.columns.model_dump().items():
            if column:
                self._index[field] = positions[_fold(column)]
                self._names[field] = column
        for kind, column in self.mapping.amount_columns.items():
            self._index[f"amount:{kind}"] = positions[_fold(column)]
            self._names[f"amount:{kind}"] = column
        self._skip = [
            (positions[_fold(rule.column)], [re.compile(_glob(v)) for v in rule.values])
            for rule in self.mapping.skip_rows
        ]
        self._width = max(self._index.values()) + 1
        self._header_width = len(header)
        self._i_amount = self._index.get("amount", -1)
        self._i_kind = self._index.get("cost_kind", -1)
        self._i_period = self._index.get("period", -1)
        self._i_posting = self._index.get("posting_date", -1)
        self._text_indexes = tuple(self._index.get(f, -1) for f in _TEXT_FIELDS)

    def _cell(self, cells: Sequence[object], field: str) -> object:
        index = self._index.get(field)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def parse(self, cells: Sequence[object]) -> list[ParsedLine]:
        """The lines of one row ([] for a row that is not data); raises :class:`RowError`.

        This runs once per row of exports with millions of rows, hence the local variables."""
        count = len(cells)
        if (count < self._width or count > self._header_width) and self._blank_or_misshapen(cells):
            return []
        index = self._index
        code = _text_of(cells[index["project_code"]])
        if code is None:
            if all(text_value(c) is None for c in cells):
                return []  # a blank line
            if self._skipped(cells):
                return []
            raise RowError(self._names["project_code"], "", "is empty; every line needs a project code")
        if self._skip and self._skipped(cells):
            return []
        if len(code) > MAX_KEY_CHARS:
            raise RowError(self._names["project_code"], code[:40] + "...", _too_long(code))
        texts = [None if i < 0 else _text_of(cells[i]) for i in self._text_indexes]
        if self.check_nul and ("\x00" in code or any(t is not None and "\x00" in t for t in texts)):
            self._refuse_nul(code, texts)
        task, account, vendor, description, raw_category, po, line_id, currency = texts
        if line_id is not None and len(line_id) > MAX_KEY_CHARS:
            raise RowError(self._names["line_id"], line_id[:40] + "...", _too_long(line_id))
        period, posting = self._dates(cells)
        if currency is None:
            currency = self.currency
        else:
            code_of = self._currencies.get(currency)
            if code_of is None:
                code_of = currency.upper()
                if not _CURRENCY.match(code_of):
                    column = self._names.get("currency", "currency")
                    raise RowError(column, currency, "is not a 3-letter currency code")
                self._currencies[currency] = code_of
            currency = code_of
        category = self._category(account, raw_category, task, vendor, description)
        return [
            ParsedLine(
                code,
                kind,
                amount,
                currency,
                period,
                posting,
                task,
                account,
                category,
                vendor,
                po,
                description,
                line_id,
            )
            for kind, amount in self._amounts(cells)
        ]

    def _blank_or_misshapen(self, cells: Sequence[object]) -> bool:
        """True for a blank row; raises for a row whose cells do not line up with the header."""
        count = len(cells)
        if count > self._header_width and any(text_value(c) is not None for c in cells[self._header_width :]):
            raise RowError(
                "(whole row)",
                f"{count} cells",
                f"has more cells than the header row ({self._header_width}): an unquoted delimiter?",
            )
        if count < self._width:
            if all(text_value(c) is None for c in cells):
                return True
            raise RowError("(whole row)", f"{count} cells", "has fewer cells than the header row")
        return False

    def _skipped(self, cells: Sequence[object]) -> bool:
        """Whether a skip rule (e.g. a "Grand Total" footer) matches; cached per cell value."""
        for index, patterns in self._skip:
            value = (text_value(cells[index]) if index < len(cells) else None) or ""
            key = (index, value)
            hit = self._skip_cache.get(key)
            if hit is None:
                hit = any(p.match(value.casefold()) for p in patterns)
                if len(self._skip_cache) > 65536:
                    self._skip_cache.clear()
                self._skip_cache[key] = hit
            if hit:
                return True
        return False

    def _refuse_nul(self, code: str, texts: list[str | None]) -> None:
        """A NUL character is refused on every store alike: PostgreSQL cannot hold one in text or
        JSON, and SQLite would; the error names the column and shows the NUL as ``\\0``."""
        for field, value in (("project_code", code), *zip(_TEXT_FIELDS, texts, strict=True)):
            if value is not None and "\x00" in value:
                raise RowError(
                    self._names.get(field, field),
                    value.replace("\x00", "\\0"),
                    "contains a NUL character (\\0), which no store can hold; fix the export",
                )

    def _amounts(self, cells: Sequence[object]) -> list[tuple[CostKind, Decimal]]:
        if self.mapping.amount_columns:
            found: list[tuple[CostKind, Decimal]] = []
            for kind in self.mapping.amount_columns:
                raw = self._cell(cells, f"amount:{kind}")
                if text_value(raw) is None:
                    continue
                amount = self._amount(raw, f"amount:{kind}")
                if amount:  # a wide export's zero cell is no line
                    found.append((kind, amount))
            return found
        return [(self._kind(cells), self._amount(cells[self._i_amount], "amount"))]

    def _amount(self, raw: object, field: str) -> Decimal:
        try:
            amount = parse_amount(raw, decimal_separator=self.decimal, thousands_separator=self.thousands)
        except ValueError as exc:
            raise RowError(self._names[field], raw, str(exc)) from None
        if abs(amount) > self.max_abs_amount:
            raise RowError(
                self._names[field],
                raw,
                f"is beyond the plausible bound of ±{self.max_abs_amount:,} (max_abs_amount in the source)",
            )
        return amount

    def _kind(self, cells: Sequence[object]) -> CostKind:
        if self._fixed_kind is not None:
            return self._fixed_kind
        raw = cells[self._i_kind]
        kind = self._kind_cache.get(raw)
        if kind is None:
            text = text_value(raw) or ""
            kind = self.kind_values.get(text.casefold())
            if kind is None:
                known = ", ".join(self.kind_values_named)
                raise RowError(
                    self._names["cost_kind"], text, f"is not a cost kind the mapping knows ({known})"
                )
            if len(self._kind_cache) < 1024 and isinstance(raw, str):
                self._kind_cache[raw] = kind
        return kind

    def _dates(self, cells: Sequence[object]) -> tuple[date, date | None]:
        posting = None
        if self._i_posting >= 0:
            raw = cells[self._i_posting]
            if raw.__class__ is str:
                raw = raw.strip() or None
            if raw is not None:
                try:
                    posting = parse_date(raw, self.date_formats)
                except ValueError as exc:
                    raise RowError(self._names["posting_date"], raw, str(exc)) from None
        if self._i_period >= 0:
            raw = cells[self._i_period]
            period = self._period_cache.get(raw) if raw.__class__ is str else None
            if period is not None:
                return period, posting
            if text_value(raw) is not None:
                try:
                    period = parse_period(raw, self.period_formats)
                except ValueError as exc:
                    raise RowError(self._names["period"], raw, str(exc)) from None
                if isinstance(raw, str):
                    if len(self._period_cache) > 4096:
                        self._period_cache.clear()
                    self._period_cache[raw] = period
                return period, posting
        if "fiscal_year" in self._index:
            return self._fiscal_period(cells), posting
        if posting is not None:
            return posting.replace(day=1), posting
        column = self._names.get("period") or self._names["posting_date"]
        raise RowError(column, "", "is empty; every line needs a period or posting date")

    def _fiscal_period(self, cells: Sequence[object]) -> date:
        values = []
        for field in ("fiscal_year", "fiscal_period"):
            raw = self._cell(cells, field)
            try:
                values.append(parse_int(raw))
            except ValueError as exc:
                raise RowError(self._names[field], raw, str(exc)) from None
        year, number = values
        # period 13 is the year-end adjustment period many ERPs have; it belongs to the last month
        if number == 13:
            number = 12
        if not 1900 <= year <= 2999:
            raise RowError(
                self._names["fiscal_year"], self._cell(cells, "fiscal_year"), "is not a fiscal year"
            )
        if not 1 <= number <= 12:
            raw = self._cell(cells, "fiscal_period")
            raise RowError(self._names["fiscal_period"], raw, "is not a fiscal period (1..12, or 13)")
        return period_start(year, number, self.fiscal_start)

    def _category(
        self,
        account: str | None,
        raw: str | None,
        task: str | None,
        vendor: str | None,
        description: str | None,
    ) -> str | None:
        fields = {
            "account": account,
            "category": raw,
            "task_code": task,
            "vendor": vendor,
            "description": description,
        }
        # only the fields some rule tests make the cache key, so unique descriptions do not bloat it
        key = tuple(fields[f] for f in self._rule_fields)
        if key in self._category_cache:
            return self._category_cache[key]
        number = int(account) if account is not None and account.isdigit() else None
        result: str | None = self.mapping.default_category
        for category, field, ranges, patterns in self.rules:
            if number is not None and any(lo <= number <= hi for lo, hi in ranges):
                result = category
                break
            value = fields[field]
            if value is not None and any(p.match(value.casefold()) for p in patterns):
                result = category
                break
        if len(self._category_cache) > 65536:
            self._category_cache.clear()
        self._category_cache[key] = result
        return result

    def scope(self, line: ParsedLine) -> str:
        return line.scope_suffix()

    def record(
        self, line: ParsedLine, occurrence: int, identity: str | None = None, scope: str | None = None
    ) -> CostLine:
        """The record of a parsed line; ``occurrence`` numbers identical lines of one scope."""
        scope = scope or line.scope_suffix()
        identity = identity or line.identity(scope)
        external_id = identity if occurrence == 1 else f"{identity}/{occurrence}"
        fiscal = self._fiscal.get(line.period)
        if fiscal is None:
            fiscal = self._fiscal[line.period] = fiscal_period(line.period, self.fiscal_start)
        # validating one dict is the fastest checked way to build a record (model_construct is slower)
        return CostLine.model_validate(
            {
                "source": {"system": self.system, "instance": self.source_name, "external_id": external_id},
                "project": self.project_links.get(line.code),
                "project_code": line.code,
                "scope": scope,
                "kind": line.kind,
                "amount": line.amount,
                "currency": line.currency,
                "period": line.period,
                "posting_date": line.posting_date,
                "fiscal_year": fiscal.year,
                "fiscal_period": fiscal.period,
                "account": line.account,
                "category": line.category,
                "vendor": line.vendor,
                "po_number": line.po_number,
                "task_code": line.task_code,
                "description": line.description,
            }
        )


def _glob(pattern: str) -> str:
    return fnmatch.translate(pattern.casefold())
