"""Estimates at completion side by side, and the one the cost rating uses, never below what is owed.

The variants (PMBOK Guide 6th ed. §7.4.2.2; GAO Cost Estimating and Assessment Guide, GAO-20-195G,
which asks for a range of EACs rather than one):

- ``cpi``          EAC = BAC / CPI                              (cost efficiency so far continues)
- ``cpi_spi``      EAC = AC + (BAC − EV) / (CPI × SPI)          (cost and schedule efficiency persist)
- ``commitments``  EAC = AC + open commitments + max(BAC − EV − open commitments, 0)
  (what is spent, plus what is owed on purchase orders, plus the budget of the remaining work those
  orders do not already pay for: the "actuals + encumbrances + remaining budget" forecast finance
  offices use)
- ``finance_forecast`` actuals to date + finance forecast lines after the status date (when finance
  gives forecasts, this is the one that rates).

The rating uses the configured ``governance.eac_method`` (finance forecast lines take precedence when
present). Whatever the method, the forecast is **never below actual + open commitments**: money already
spent or contractually committed will be paid, so a lower forecast is not a forecast (it once showed a
project with 1,105,025 spent and committed against 1,100,000 as "120,375 under budget"). When the
method's figure is lower, the forecast is raised to that floor and the words say so.
"""

from __future__ import annotations

from decimal import Decimal

from pmsync.reconcile.evm import commitments_eac, estimate_at_completion, money
from pmsync.reconcile.results import EacMethod, EacVariant, EvmMeasures

ZERO = Decimal(0)

LABELS: dict[EacMethod, str] = {
    "cpi": "BAC ÷ CPI",
    "cpi_spi": "AC + (BAC − EV) ÷ (CPI × SPI)",
    "atypical": "AC + (BAC − EV)",
    "commitments": "actual + open commitments + remaining budget",
    "finance_forecast": "actual + finance forecast",
}


def eac_variants(
    evm: EvmMeasures | None, bac: Decimal | None, actual: Decimal, committed: Decimal
) -> dict[EacMethod, tuple[Decimal | None, str]]:
    """Every EAC variant that can be computed (value and formula in figures), by method."""
    found: dict[EacMethod, tuple[Decimal | None, str]] = {}
    if evm is not None:
        for method in ("cpi", "cpi_spi"):
            if method == evm.eac_method:  # EVM's own figure, from the unrounded PV, EV and AC
                found[method] = (evm.eac, evm.eac_formula)
            else:  # from the reported (cent-rounded) figures, as a reader would recompute it
                found[method] = estimate_at_completion(evm.bac, evm.pv, evm.ev, evm.ac, method)
    if bac is not None:
        earned = evm.ev if evm is not None else ZERO
        found["commitments"] = commitments_eac(bac, earned, actual, committed)
    return found


def rated_forecast(
    method: EacMethod,
    variants: dict[EacMethod, tuple[Decimal | None, str]],
    finance: tuple[Decimal, str] | None,
    evm: EvmMeasures | None,
    floor: Decimal,
) -> tuple[Decimal | None, str, bool, list[EacVariant]]:
    """The forecast that rates (value, basis in words, raised to the floor?) and the variants listed."""
    chosen: EacMethod | None = None
    value: Decimal | None = None
    basis = "no forecast"
    if method == "finance_forecast" and finance is None:
        method = "cpi"  # no finance forecast lines: the default EVM estimate rates, and says so
    if finance is not None:
        chosen, (value, basis) = "finance_forecast", finance
    elif method in variants and variants[method][0] is not None:
        chosen = method
        value, formula = variants[method]
        basis = " = ".join(formula.split(" = ")[:2])  # the formula without its figures
        basis = basis if method == "commitments" else "EVM " + basis
    elif method not in variants and evm is not None and evm.eac is not None:
        # a method outside the list (e.g. "atypical"): EVM computed it
        chosen, value, basis = method, evm.eac, "EVM " + " = ".join(evm.eac_formula.split(" = ")[:2])
    raised = value is not None and value < floor
    if raised:
        value = floor
    listed = [
        EacVariant(
            method=m,
            label=LABELS[m],
            value=None if v is None else money(v),
            formula=f,
            rates=m == chosen,
        )
        for m, (v, f) in variants.items()
    ]
    if chosen == "finance_forecast" and finance is not None:
        listed.append(
            EacVariant(
                method="finance_forecast",
                label=LABELS["finance_forecast"],
                value=money(finance[0]),
                formula=finance[1],
                rates=True,
            )
        )
    elif chosen is not None and chosen not in variants and evm is not None and evm.eac is not None:
        listed.append(
            EacVariant(
                method=chosen, label=LABELS[chosen], value=evm.eac, formula=evm.eac_formula, rates=True
            )
        )
    return value, basis, raised, listed
