"""Earned value: pure functions with the textbook definitions (ANSI/EIA-748, PMI PMBOK Guide).

- PV (planned value, BCWS): the baseline budget of the work scheduled to be done by the status date.
  Each baseline item's budget is spread linearly over the working days between its baseline start and
  finish; a zero-length item (a milestone) earns its whole budget on its finish date.
- EV (earned value, BCWP): the baseline budget of the work actually done = Σ budget × % complete.
- Both take any weight in place of the budget (``weighted_*``): :mod:`~pmsync.reconcile.valuation`
  scales them to the budget at completion, so PV, EV and AC share one basis.
- AC (actual cost, ACWP): what was spent, from finance actuals.
- SV = EV − PV, CV = EV − AC, SPI = EV / PV, CPI = EV / AC;
- EAC, by the method the governance config names (PMBOK Guide 6th ed., §7.4.2.2):
  ``cpi``      EAC = BAC / CPI                        (current cost efficiency continues; the default)
  ``atypical`` EAC = AC + (BAC − EV)                  (the overrun so far will not recur)
  ``cpi_spi``  EAC = AC + (BAC − EV) / (CPI × SPI)    (both cost and schedule efficiency persist)
  ``commitments`` EAC = AC + open commitments + max(BAC − EV − open commitments, 0) (see eac.py)
- ETC = EAC − AC, VAC = BAC − EAC, TCPI = (BAC − EV) / (BAC − AC) (and against the EAC). TCPI is
  ``None`` when no work is left (EV ≥ BAC) or no funds are (AC ≥ BAC): a negative or zero index
  means nothing a committee can act on — read the TCPI against the EAC instead.

Money is computed in ``Decimal`` and rounded to cents only at the end, so the figures match a hand
calculation; ratios that divide by zero are ``None``, never 0 or infinity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal

from pmsync.model import BaselineItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.results import EacMethod, EvmMeasures, EvmPeriod, EvmPoint

CENT = Decimal("0.01")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (as accountants do).

    Any stored value rounds, however large: quantizing in the default context (28 digits) raised
    ``InvalidOperation`` for an amount of 10^30, and one such line broke every project's report. The
    context here has room for every digit; infinities and NaN (which sync refuses) pass through."""
    if not value.is_finite():
        return value
    room = Context(prec=max(value.adjusted() + 3, 28), rounding=ROUND_HALF_UP)
    return value.quantize(CENT, context=room)


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if denominator == 0:
        return None
    return float(numerator / denominator)


def _to_complete(work_left: Decimal, funds_left: Decimal) -> float | None:
    """TCPI: the efficiency the remaining work needs to finish within the remaining funds."""
    if work_left <= 0 or funds_left <= 0:
        return None
    return float(work_left / funds_left)


def _fmt(value: Decimal | float | None, places: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{places}f}"


def planned_fraction(
    start: date | None, finish: date | None, status_date: date, calendar: WorkingCalendar
) -> Decimal:
    """The share (0..1) of an item's budget planned to be done by the end of ``status_date``."""
    if finish is None:
        return ZERO
    if start is None or start > finish:
        start = finish
    if status_date >= finish:
        return Decimal(1)
    if status_date < start:
        return ZERO
    total = calendar.count(start, finish)
    if total == 0:
        return ZERO  # a weekend-only span earns on its finish date, handled above
    return Decimal(calendar.count(start, status_date)) / Decimal(total)


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from ``first``'s month through ``last``'s month."""
    ends: list[date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        next_first = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(next_first - timedelta(days=1))
        year, month = next_first.year, next_first.month
    return ends


def weighted_planned_curve(
    items: Iterable[tuple[BaselineItem, Decimal]], period_ends: Sequence[date], calendar: WorkingCalendar
) -> list[Decimal]:
    """Cumulative Σ weight × planned fraction at each of ``period_ends``, in one pass over ``items``."""
    totals = [ZERO] * len(period_ends)
    for item, weight in items:
        if not weight:
            continue
        for index, end in enumerate(period_ends):
            totals[index] += weight * planned_fraction(item.start, item.finish, end, calendar)
    return totals


def weighted_earned(items: Iterable[tuple[Decimal, float | None]]) -> Decimal:
    """Σ weight × percent complete / 100 (unrounded); ``None`` percent counts as 0."""
    total = ZERO
    for weight, percent in items:
        if weight and percent:
            total += weight * Decimal(str(percent)) / Decimal(100)
    return total


def s_curve(
    period_ends: Sequence[date],
    pv: Sequence[Decimal],
    ev: Sequence[Decimal | None],
    ac: Sequence[Decimal | None],
) -> list[EvmPoint]:
    """Zip cumulative series into S-curve points (rounded to cents)."""
    points = []
    for index, end in enumerate(period_ends):
        earned, actual = ev[index], ac[index]
        points.append(
            EvmPoint(
                period_end=end,
                label=f"{end.year:04d}-{end.month:02d}",
                pv=money(pv[index]),
                ev=None if earned is None else money(earned),
                ac=None if actual is None else money(actual),
            )
        )
    return points


def commitments_eac(bac: Decimal, ev: Decimal, ac: Decimal, committed: Decimal) -> tuple[Decimal, str]:
    """EAC = AC + open commitments + max(BAC − EV − open commitments, 0), and its formula in figures:
    spent, plus owed on purchase orders, plus the budget of remaining work the orders do not cover."""
    remaining = max(bac - ev - committed, ZERO)
    eac = ac + committed + remaining
    return eac, (
        f"EAC = AC + open commitments + max(BAC − EV − open commitments, 0) = {_fmt(ac)} + "
        f"{_fmt(committed)} + max({_fmt(bac)} − {_fmt(ev)} − {_fmt(committed)}, 0) = {_fmt(money(eac))}"
    )


def _step(now: Decimal | None, before: Decimal | None, first: bool) -> Decimal | None:
    """A period's increment of a cumulative figure; unknown when either end is unknown."""
    if now is None:
        return None
    if first:
        return now
    return None if before is None else now - before


def period_figures(curve: Sequence[EvmPoint], status_date: date) -> list[EvmPeriod]:
    """Each period's own PV, EV, AC (the increments of the cumulative S-curve) up to the status date,
    with that period's SPI = ΔEV / ΔPV and CPI = ΔEV / ΔAC. The first point's increment is from zero;
    a period whose start is unknown (no EV or AC recorded then) has no increment (None, not a guess)."""
    found: list[EvmPeriod] = []
    previous: EvmPoint | None = None
    for point in curve:
        if point.period_end > status_date:
            break
        first = previous is None
        pv = point.pv - (previous.pv if previous is not None else ZERO)
        ev = _step(point.ev, previous.ev if previous is not None else None, first)
        ac = _step(point.ac, previous.ac if previous is not None else None, first)
        found.append(
            EvmPeriod(
                start=previous.period_end if previous is not None else None,
                end=point.period_end,
                label=point.label,
                pv=pv,
                ev=ev,
                ac=ac,
                spi=None if ev is None else _ratio(ev, pv),
                cpi=None if ev is None or ac is None else _ratio(ev, ac),
            )
        )
        previous = point
    return found


def estimate_at_completion(
    bac: Decimal,
    pv: Decimal,
    ev: Decimal,
    ac: Decimal,
    method: EacMethod = "cpi",
    committed: Decimal = ZERO,
) -> tuple[Decimal | None, str]:
    """EAC by ``method`` and the formula with its figures, in words. ``finance_forecast`` is not an
    EVM formula: EVM then shows BAC / CPI (the cost measures use the finance lines)."""
    if method == "commitments":
        return commitments_eac(bac, ev, ac, committed)
    if method == "finance_forecast":
        method = "cpi"
    if method == "atypical":
        eac = ac + (bac - ev)
        return eac, (f"EAC = AC + (BAC − EV) = {_fmt(ac)} + ({_fmt(bac)} − {_fmt(ev)}) = {_fmt(money(eac))}")
    if method == "cpi_spi":
        if ev == 0 or pv == 0 or ac == 0:
            return None, "EAC = AC + (BAC − EV) / (CPI × SPI): not computable while EV, PV or AC is 0"
        # (BAC − EV) / (CPI × SPI) = (BAC − EV) × AC × PV / EV², exact in Decimal
        eac = ac + (bac - ev) * ac * pv / (ev * ev)
        cpi, spi = ev / ac, ev / pv
        return eac, (
            f"EAC = AC + (BAC − EV) / (CPI × SPI) = {_fmt(ac)} + ({_fmt(bac)} − {_fmt(ev)}) / "
            f"({_fmt(cpi, 4)} × {_fmt(spi, 4)}) = {_fmt(money(eac))}"
        )
    if method == "cpi":
        if ev == 0 or ac == 0:
            return None, "EAC = BAC / CPI: not computable until work is both earned and paid for"
        eac = bac * ac / ev  # BAC / (EV / AC), exact in Decimal
        return eac, f"EAC = BAC / CPI = {_fmt(bac)} / {_fmt(ev / ac, 4)} = {_fmt(money(eac))}"
    raise ValueError(f"unknown EAC method {method!r}")


def compute_evm(
    *,
    status_date: date,
    bac: Decimal,
    pv: Decimal,
    ev: Decimal,
    ac: Decimal,
    eac_method: EacMethod = "cpi",
    currency: str = "USD",
    basis: str = "",
    curve: Sequence[EvmPoint] = (),
    committed: Decimal = ZERO,
) -> EvmMeasures:
    """Every EVM measure from the four base figures (and open commitments, for that EAC method)."""
    eac, formula = estimate_at_completion(bac, pv, ev, ac, eac_method, committed)
    etc = None if eac is None else eac - ac
    vac = None if eac is None else bac - eac
    return EvmMeasures(
        status_date=status_date,
        currency=currency,
        bac=money(bac),
        pv=money(pv),
        ev=money(ev),
        ac=money(ac),
        sv=money(ev - pv),
        cv=money(ev - ac),
        sv_percent=None if pv == 0 else float((ev - pv) / pv * 100),
        cv_percent=None if ev == 0 else float((ev - ac) / ev * 100),
        spi=_ratio(ev, pv),
        cpi=_ratio(ev, ac),
        eac=None if eac is None else money(eac),
        eac_method=eac_method,
        eac_formula=formula,
        etc=None if etc is None else money(etc),
        vac=None if vac is None else money(vac),
        tcpi=_to_complete(bac - ev, bac - ac),
        tcpi_eac=None if eac is None else _to_complete(bac - ev, eac - ac),
        percent_complete=None if bac == 0 else float(ev / bac * 100),
        percent_spent=None if bac == 0 else float(ac / bac * 100),
        basis=basis,
        s_curve=list(curve),
        periods=(periods := period_figures(curve, status_date)),
        this_period=periods[-1] if periods and periods[-1].end == status_date else None,
    )
