"""What the finance connectors (files and SQL) share: their config keys, the finance mapping, and the
:class:`~.lines.LineBuilder` that turns a row into cost lines."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from pydantic import Field

from pmsync.connector import ConnectorConfig
from pmsync.connector_kit import MappingFile, SourceConnector

from .lines import DEFAULT_MAX_ABS_AMOUNT, LineBuilder
from .mapping import FinanceMapping

#: finance lines are swept by scope per record type: a scope's other records are left alone
COST_LINE = frozenset({"cost_line"})


class FinanceSourceConfig(ConnectorConfig):
    """The keys of every finance source block."""

    #: a mapping file name (searched in mappings_dir, then the shipped mappings) or a path
    mapping: str
    #: currency when the export has none (overrides the mapping's)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    #: amounts beyond this, either sign, are bad rows (a unit or parsing mistake; default 10^15)
    max_abs_amount: Decimal = Field(default=DEFAULT_MAX_ABS_AMOUNT, gt=0)
    #: load the good rows despite bad ones, listing the bad ones in the run ledger
    skip_bad_rows: bool = False


FinanceConfigT = TypeVar("FinanceConfigT", bound=FinanceSourceConfig)


class FinanceSource(SourceConnector[FinanceConfigT]):
    """Base of the finance connectors: the mapping and the line builder."""

    mapping = MappingFile(FinanceMapping)

    def line_builder(self) -> LineBuilder:
        return LineBuilder(
            self.mapping,
            system=self.system,
            source_name=self.source,
            project_links=self.context.project_links,
            fiscal_year_start_month=self.context.fiscal_year_start_month,
            currency=self.config.currency,
            max_abs_amount=self.config.max_abs_amount,
        )
