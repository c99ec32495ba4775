"""Forecasts a committee can defend: EAC never below what is owed, throughput forecasts with a range,
one percent spent; every expectation computed by hand in the docstring."""

from datetime import date
from decimal import Decimal

import pytest

from pmsync.model import BaselineItem, CostLine, SourceRef, WorkItem
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.evm import compute_evm
from pmsync.reconcile.figures import ChosenBaseline, FlowSettings, cost_measures, schedule_measures
from pmsync.reconcile.throughput import flow_forecast, weekly_throughput, weeks_to_finish
from pmsync.reconcile.valuation import BudgetAtCompletion

D = Decimal
STATUS = date(2026, 10, 30)


def line(kind: str, amount: str, day: date = date(2026, 9, 15)) -> CostLine:
    return CostLine(
        source=SourceRef(system="finance_file", instance="ledger", external_id=f"{kind}-{amount}-{day}"),
        project="IAM",
        kind=kind,  # type: ignore[arg-type]
        amount=D(amount),
        posting_date=day,
    )


def test_forecast_is_never_below_actual_plus_open_commitments():
    """The IAM case: BAC 1,100,000, all work earned (EV = BAC), AC 979,625.01, open commitments
    125,400.00. BAC / CPI = 1,100,000 / (1,100,000 / 979,625.01) = 979,625.01, which is *below* what is
    spent and owed (979,625.01 + 125,400.00 = 1,105,025.01). The forecast is raised to 1,105,025.01:
    VAC = 1,100,000 − 1,105,025.01 = −5,025.01, an overrun of 0.46 %, not "120,375 under"."""
    evm = compute_evm(
        status_date=STATUS, bac=D(1_100_000), pv=D(1_100_000), ev=D(1_100_000), ac=D("979625.01")
    )
    lines = [line("actual", "979625.01"), line("commitment", "125400.00")]
    cost = cost_measures(lines, [], BudgetAtCompletion(D(1_100_000), "approved budget"), evm, STATUS, "USD")
    assert evm.eac == D("979625.01")
    assert cost.committed_floor == D("1105025.01")
    assert cost.forecast_at_completion == D("1105025.01")
    assert cost.forecast_raised_to_floor
    assert cost.variance_at_completion == D("-5025.01")
    assert cost.variance_at_completion_percent == pytest.approx(-0.4568, abs=1e-4)
    # one percent spent: actual ÷ BAC = 979,625.01 / 1,100,000 = 89.06 %, the same as EVM's
    assert cost.percent_spent == pytest.approx(89.0568, abs=1e-4)
    assert cost.percent_spent == pytest.approx(evm.percent_spent)
    assert cost.percent_committed == pytest.approx(100.4568, abs=1e-4)  # (AC + commitments) ÷ BAC


def test_eac_variants_side_by_side_and_the_one_that_rates():
    """Schwalbe's figures (BAC 200,000, PV 120,000, EV 100,000, AC 90,000) with 30,000 committed:
    BAC / CPI = 180,000; AC + (BAC − EV) / (CPI × SPI) = 198,000;
    AC + commitments + max(BAC − EV − commitments, 0) = 90,000 + 30,000 + 70,000 = 190,000.
    The configured method rates (cpi by default; commitments when chosen)."""
    evm = compute_evm(status_date=STATUS, bac=D(200_000), pv=D(120_000), ev=D(100_000), ac=D(90_000))
    lines = [line("actual", "90000"), line("commitment", "30000")]
    bac = BudgetAtCompletion(D(200_000), "approved budget")
    cost = cost_measures(lines, [], bac, evm, STATUS, "USD")
    values = {v.method: v.value for v in cost.eac_variants}
    assert values == {"cpi": D("180000.00"), "cpi_spi": D("198000.00"), "commitments": D("190000.00")}
    assert [v.method for v in cost.eac_variants if v.rates] == ["cpi"]
    assert cost.forecast_at_completion == D("180000.00") and not cost.forecast_raised_to_floor
    by_commitments = cost_measures(lines, [], bac, evm, STATUS, "USD", "commitments")
    assert by_commitments.forecast_at_completion == D("190000.00")
    assert [v.method for v in by_commitments.eac_variants if v.rates] == ["commitments"]
    formula = next(v.formula for v in by_commitments.eac_variants if v.method == "commitments")
    assert formula.endswith(
        "= 90,000.00 + 30,000.00 + max(200,000.00 − 100,000.00 − 30,000.00, 0) = 190,000.00"
    )


def test_weekly_throughput_counts_seven_day_weeks_ending_on_the_status_date():
    """Status 2026-10-30. Week 4 (newest) is 10-24..10-30, week 3 10-17..10-23, ... 10-02 is outside."""
    days = [date(2026, 10, 30), date(2026, 10, 24), date(2026, 10, 23), date(2026, 10, 3), date(2026, 10, 2)]
    assert weekly_throughput(days, STATUS, 4) == [1, 0, 1, 2]


def test_weeks_to_finish_by_exact_resampling():
    """History [2, 4] (each week equally likely), 6 items left.
    After 1 week at most 4 are done: P = 0. After 2 weeks the totals 4, 6, 6, 8 are equally likely:
    P(≥ 6) = 3/4 ≥ 50 % but < 85 %. After 3 weeks the smallest total is 6: P = 1.
    So the 50 % forecast is 2 weeks, the 85 % forecast 3 weeks."""
    assert weeks_to_finish([2, 4], 6, 0.50) == 2
    assert weeks_to_finish([2, 4], 6, 0.85) == 3
    assert weeks_to_finish([0, 0], 6, 0.50) is None


def test_flow_forecast_dates_and_no_defensible_forecast():
    forecast = flow_forecast([date(2026, 10, 28)] * 2 + [date(2026, 10, 21)] * 4, 6, STATUS, window=2)
    assert forecast.weekly_throughput == [4, 2]
    assert (forecast.p50_finish, forecast.p85_finish) == (date(2026, 11, 13), date(2026, 11, 20))
    none = flow_forecast([], 6, STATUS, window=8)
    assert none.p50_finish is None and none.p85_finish is None
    assert none.explanation.startswith("no defensible forecast: 6 items open")


def _story(n: int, done_on: date | None, due: date = date(2026, 9, 30)) -> WorkItem:
    return WorkItem(
        source=SourceRef(system="jira", instance="cloud", external_id=str(n)),
        project="GRANTS",
        key=f"GRANTS-{n}",
        name=f"story {n}",
        kind="story",
        status_category="done" if done_on else "in_progress",
        due=due,
        actual_finish=done_on,
    )


def _baseline(items: list[WorkItem]) -> ChosenBaseline:
    base = {
        i.source.key(): BaselineItem(
            source=SourceRef(system="pmsync", instance="baselines", external_id=f"GRANTS/1/{i.source.key()}"),
            project="GRANTS",
            baseline_number=1,
            item=i.source.key(),
            start=date(2026, 6, 1),
            finish=date(2026, 9, 30),
        )
        for i in items
    }
    return ChosenBaseline(None, base, 1, [])


def test_a_jira_backlog_is_forecast_from_throughput_never_clamped_to_the_status_date():
    """Baseline finish 2026-09-30 (Wed), status 2026-10-30. Six stories done in the last two weeks
    (4 in the week to 10-23, 2 in the week to 10-30), six open: as above, 50 % by 11-13 and 85 % by
    11-20 (3 weeks). The rated finish is the 85 % date: 2026-09-30 → 2026-11-20 is 37 working days late
    (the working days after the baseline finish: Oct 1-30 = 22, Nov 2-20 = 15) — not the status date."""
    done = [_story(n, date(2026, 10, 21)) for n in range(4)] + [
        _story(n, date(2026, 10, 28)) for n in range(4, 6)
    ]
    open_ = [_story(n, None) for n in range(6, 12)]
    work = done + open_
    cal = WorkingCalendar([])
    flow = FlowSettings(window_weeks=2)
    measures = schedule_measures(work, work, _baseline(work), STATUS, cal, STATUS, flow)
    assert measures.forecast_method == "throughput"
    assert measures.current_finish == date(2026, 11, 20)
    assert measures.flow_forecast is not None and measures.flow_forecast.p50_finish == date(2026, 11, 13)
    assert measures.finish_variance_working_days == cal.variance(date(2026, 9, 30), date(2026, 11, 20)) == 37


def test_without_throughput_the_slip_is_a_floor_at_least_n_working_days():
    """Nothing finished in the window: no date. Baseline finish 2026-09-30 has passed: at least
    cal.variance(09-30, 10-30) = 22 working days late."""
    work = [_story(n, None) for n in range(3)]
    cal = WorkingCalendar([])
    measures = schedule_measures(work, work, _baseline(work), STATUS, cal, STATUS, FlowSettings())
    assert measures.forecast_method == "floor"
    assert measures.current_finish is None and measures.finish_variance_working_days is None
    assert measures.finish_variance_at_least_working_days == 22
    assert "at least 22 working days late" in measures.forecast_explanation


def test_a_large_backlog_is_forecast_quickly_and_the_impossible_is_refused():
    """5,000 open items at 40-60 a week: about 100 weeks; the exact computation stays fast because only
    reachable totals are visited. 5,000 items at 1 a week cannot finish within five years: None."""
    import time

    started = time.perf_counter()
    weeks = weeks_to_finish([40, 45, 50, 55, 60, 50, 45, 55], 5000, 0.85)
    assert weeks is not None and 95 <= weeks <= 105
    assert time.perf_counter() - started < 10
    assert weeks_to_finish([1, 1, 1], 5000, 0.5) is None


def test_finance_forecast_rates_and_is_raised_to_what_is_owed():
    """Finance: actual 100,000 to date, 50,000 committed, forecast lines 30,000 after the status date.
    Actual + finance forecast = 130,000 < actual + commitments = 150,000: the forecast is 150,000."""
    lines = [
        line("actual", "100000"),
        line("commitment", "50000"),
        line("forecast", "30000", date(2026, 12, 15)),
    ]
    cost = cost_measures(lines, [], BudgetAtCompletion(D(200_000), "approved budget"), None, STATUS, "USD")
    # without earned value EV counts as 0: AC + commitments + max(BAC − 0 − commitments, 0)
    # = 100,000 + 50,000 + 150,000 = 300,000 (listed, not rated)
    assert [(v.method, v.value, v.rates) for v in cost.eac_variants] == [
        ("commitments", D("300000.00"), False),
        ("finance_forecast", D("130000.00"), True),
    ]
    assert cost.forecast_at_completion == D("150000.00") and cost.forecast_raised_to_floor
    assert cost.forecast_basis == "actuals to date plus finance forecast"
