"""One basis for PV, EV and AC: the budget at completion, spread over the baseline for its shape.

AC comes from finance, so it is on the *budget's* basis. A schedule's baseline cost is often a
different thing (resource rates in an MS Project file cover labour only, not hardware, licences or
contractors), and pmsync's own baselines of Jira, Planner or Dataverse work carry no cost at all.
Earned value compares PV, EV and AC, so they must be on one basis:

- **BAC** is the approved budget (pmsync.yaml or the source), else the sum of finance budget lines,
  else the baseline's own cost.
- The baseline gives the **time-phased shape** only. Each baseline detail item gets a weight: its
  baseline cost when the baseline is costed; otherwise its work hours when every item has them, else
  its working days from baseline start to finish, else one each (``weighting`` names which). Items
  without a baseline finish cannot be time-phased and carry no value (counted in ``unscheduled``).
- PV(t) = BAC × Σ weight × planned fraction at t / Σ weight;
  EV    = BAC × Σ weight × percent complete / Σ weight.

When BAC equals the baseline's cost this is the textbook Σ cost × fraction, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from pmsync.model import BaselineItem, CostLine
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.results import Weighting
from pmsync.store import CostTotal

ZERO = Decimal(0)

#: how EV credits progress; stated in the results so a committee can check it
PROGRESS_RULE = (
    "EV credits physical % complete when the schedule gives it, else % complete; done = 100 %; "
    "an item with no percentage earns by the 0/50/100 rule (not started 0 %, in progress 50 %, done 100 %)"
)

_WEIGHT_WORDS: dict[Weighting, str] = {
    "cost": "baseline cost",
    "work_hours": "baseline work hours",
    "working_days": "baseline duration in working days",
    "equal": "equal weights (one per item)",
}


@dataclass(frozen=True)
class BudgetAtCompletion:
    amount: Decimal | None
    #: "approved budget", "finance budget lines", "baseline cost" or "no budget"
    basis: str


def budget_at_completion(
    approved: Decimal | None, lines: Iterable[CostLine | CostTotal], baseline_cost: Decimal
) -> BudgetAtCompletion:
    """BAC: the approved budget, else finance budget lines, else the baseline's cost."""
    if approved is not None:
        return BudgetAtCompletion(approved, "approved budget")
    budgets = [x.amount for x in lines if x.kind == "budget"]
    if budgets:
        return BudgetAtCompletion(sum(budgets, ZERO), "finance budget lines")
    if baseline_cost:
        return BudgetAtCompletion(baseline_cost, "baseline cost")
    return BudgetAtCompletion(None, "no budget")


@dataclass(frozen=True)
class ValueBasis:
    """How BAC is spread over the baseline items that carry value."""

    bac: Decimal
    bac_basis: str
    weighting: Weighting
    #: baseline item key → weight (cost, hours, working days or 1)
    weights: dict[str, Decimal]
    items: dict[str, BaselineItem]
    #: the baseline's own cost of the weighted items (0 when the baseline carries no cost)
    baseline_cost: Decimal
    #: baseline detail items left out because they have no baseline finish to time-phase them by
    unscheduled: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.weights.values(), ZERO)

    @property
    def scaled(self) -> bool:
        """True when BAC is not the baseline's cost, so the baseline gives only the shape."""
        return self.weighting != "cost" or self.bac != self.baseline_cost

    def share_of_bac(self, weighted: Decimal) -> Decimal:
        """BAC × ``weighted`` / Σ weight (unrounded)."""
        return self.bac * weighted / self.total

    def describe(self, baseline_name: str, currency: str) -> str:
        """The basis in words, with the formula, for the results and the report."""
        count = f"{len(self.weights)} {'costed ' if self.weighting == 'cost' else ''}items"
        skipped = (
            f"; {self.unscheduled} items without a baseline finish carry no value" if self.unscheduled else ""
        )
        bac = f"BAC {currency} {self.bac:,.2f} ({self.bac_basis})"
        if not self.scaled:
            return (
                f"{bac} = {baseline_name}'s cost, spread linearly over each item's baseline working days "
                f"({count}){skipped}"
            )
        if self.weighting == "cost":
            return (
                f"{bac} differs from {baseline_name}'s cost {currency} {self.baseline_cost:,.2f}, so the "
                f"baseline gives only the time-phasing: PV(t) = BAC × baseline cost planned by t / total "
                f"baseline cost, EV = BAC × earned share of baseline cost ({count}){skipped}"
            )
        return (
            f"{bac} time-phased by {baseline_name}, which carries no cost: items weighted by "
            f"{_WEIGHT_WORDS[self.weighting]}, PV(t) = BAC × weight planned by t / total weight, "
            f"EV = BAC × earned weight / total weight ({count}){skipped}"
        )


def _working_days(item: BaselineItem, cal: WorkingCalendar) -> Decimal:
    assert item.finish is not None
    start = item.start if item.start is not None and item.start <= item.finish else item.finish
    return Decimal(cal.count(start, item.finish))


def value_basis(
    candidates: Mapping[str, BaselineItem],
    bac: BudgetAtCompletion,
    cal: WorkingCalendar,
) -> ValueBasis | None:
    """Weights for the baseline detail items ``candidates``; None when nothing can carry value."""
    costed = {k: b for k, b in candidates.items() if b.cost}
    if costed:
        weights = {k: b.cost or ZERO for k, b in costed.items()}
        cost = sum(weights.values(), ZERO)
        amount = bac.amount if bac.amount is not None else cost
        return ValueBasis(amount, bac.basis, "cost", weights, dict(costed), cost)
    if bac.amount is None:
        return None  # no budget and no baseline cost: nothing to spread
    scheduled = {k: b for k, b in candidates.items() if b.finish is not None}
    unscheduled = len(candidates) - len(scheduled)
    if not scheduled:
        return None
    weighting: Weighting
    if all(b.work_hours is not None for b in scheduled.values()) and any(
        b.work_hours for b in scheduled.values()
    ):
        weighting = "work_hours"
        weights = {k: Decimal(str(b.work_hours)) for k, b in scheduled.items()}
    else:
        weighting = "working_days"
        weights = {k: _working_days(b, cal) for k, b in scheduled.items()}
        if not any(weights.values()):
            weighting, weights = "equal", {k: Decimal(1) for k in scheduled}
    return ValueBasis(bac.amount, bac.basis, weighting, weights, scheduled, ZERO, unscheduled)
