"""Finish forecasts for flow-managed work (a Jira backlog) from its recent weekly throughput.

A backlog has no network of dated tasks, so its planned dates say little once they pass: pmsync used
to forecast such a project to finish "no earlier than the status date", a floor that grew every month
and read like a forecast. Flow practice (Vacanti, *When Will It Be Done?*; the Kanban Guide's
throughput measure) forecasts from the team's own recent delivery instead:

- **weekly throughput**: detail items finished in each of the last ``window`` weeks (a week is seven
  days ending on the status date, then the seven before, ...);
- each future week delivers as many items as one of those weeks, each week equally likely (the
  resampling a Monte Carlo throughput forecast does); pmsync computes the resulting probabilities
  **exactly** by convolution instead of sampling, so the dates are reproducible and checkable by hand;
- the **50 %** and **85 %** dates are the first week-ends by which the remaining items are done with at
  least that probability. The rated forecast is the 85 % date (the conventional commitment level);
- with no item finished in the window (or no finish within five years) there is **no defensible
  forecast**: the report says "at least N working days late" (N from the baseline finish to the status
  date) and never shows a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pmsync.reconcile.results import FlowForecast

#: no forecast is given beyond this many weeks: a backlog that far out has no defensible finish
MAX_WEEKS = 260
_EPSILON = 1e-12


def weekly_throughput(finished: Iterable[date], status_date: date, window: int) -> list[int]:
    """Items finished in each of the ``window`` seven-day weeks ending on ``status_date``, oldest first."""
    counts = [0] * window
    for day in finished:
        age = (status_date - day).days
        if 0 <= age < 7 * window:
            counts[window - 1 - age // 7] += 1
    return counts


def weeks_to_finish(history: Sequence[int], remaining: int, confidence: float) -> int | None:
    """The fewest whole weeks after which ``remaining`` items are done with probability ≥ ``confidence``
    (0..1), each week's throughput drawn with equal chance from ``history``; None past MAX_WEEKS."""
    if remaining <= 0:
        return 0
    if not history or max(history) <= 0:
        return None
    if remaining > max(history) * MAX_WEEKS:
        return None  # even the best week every week would not finish within MAX_WEEKS
    # each distinct weekly throughput with its chance (repeated weeks are one outcome, weighted)
    outcomes = [(delivered, history.count(delivered) / len(history)) for delivered in sorted(set(history))]
    # done[v]: probability that v items (capped at ``remaining``) are done after the weeks so far;
    # only totals between ``low`` and ``high`` can have a chance, so only those are visited
    done = [0.0] * (remaining + 1)
    done[0] = 1.0
    low = high = 0
    for week in range(1, MAX_WEEKS + 1):
        after = [0.0] * (remaining + 1)
        for total in range(low, high + 1):
            chance = done[total]
            if not chance:
                continue
            for delivered, share in outcomes:
                after[min(total + delivered, remaining)] += chance * share
        done = after
        low, high = min(low + outcomes[0][0], remaining), min(high + outcomes[-1][0], remaining)
        if done[remaining] + _EPSILON >= confidence:
            return week
    return None


def flow_forecast(
    finished: Iterable[date], remaining: int, status_date: date, window: int = 8, confidence: int = 85
) -> FlowForecast:
    """The 50 % and 85 % finish of ``remaining`` items from the throughput of the last ``window`` weeks."""
    history = weekly_throughput(finished, status_date, window)
    p50 = weeks_to_finish(history, remaining, 0.50)
    p85 = weeks_to_finish(history, remaining, 0.85)
    shown = ", ".join(str(n) for n in history)
    if p50 is None or p85 is None:
        reason = (
            "no item was finished in the window"
            if not any(history)
            else f"the remaining items would take more than {MAX_WEEKS} weeks"
        )
        text = (
            f"no defensible forecast: {remaining} items open, weekly throughput over the last {window} "
            f"weeks {shown}; {reason}"
        )
        return FlowForecast(
            weekly_throughput=history,
            remaining_items=remaining,
            rated_confidence=confidence,
            explanation=text,
        )
    p50_finish = status_date + timedelta(weeks=p50)
    p85_finish = status_date + timedelta(weeks=p85)
    text = (
        f"{remaining} items open; at the last {window} weeks' throughput ({shown} items a week, each week "
        f"equally likely) they are done by {p50_finish} with 50 % and by {p85_finish} with 85 % probability"
    )
    return FlowForecast(
        weekly_throughput=history,
        remaining_items=remaining,
        p50_weeks=p50,
        p85_weeks=p85,
        p50_finish=p50_finish,
        p85_finish=p85_finish,
        rated_confidence=confidence,
        explanation=text,
    )
