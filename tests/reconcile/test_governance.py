"""Governance config turns measures into RAG with the rule and the figures in words."""

from decimal import Decimal

import pytest

from pmsync.errors import ConfigError
from pmsync.reconcile.governance import load_governance, rate_project
from pmsync.reconcile.results import (
    CostMeasures,
    RiskMeasures,
    ScheduleMeasures,
    ScopeMeasures,
)

D = Decimal


def cost(bac: str, forecast: str) -> CostMeasures:
    vac = D(bac) - D(forecast)
    return CostMeasures(
        budget_at_completion=D(bac),
        forecast_at_completion=D(forecast),
        forecast_basis="finance forecast",
        variance_at_completion=vac,
        variance_at_completion_percent=float(vac / D(bac) * 100),
    )


def schedule(slip_days: int, duration: int) -> ScheduleMeasures:
    return ScheduleMeasures(
        finish_variance_working_days=slip_days,
        baseline_duration_working_days=duration,
        finish_variance_percent=slip_days / duration * 100,
    )


SCOPE = ScopeMeasures(baseline_items=50, current_items=51, items_added=1, scope_change_percent=2.0)


def test_defaults_follow_it_dashboard_bands_for_small_projects():
    config = load_governance({})
    assert config.tier_of(None, D(100_000)) == "small"
    assert config.tier_of(None, D(2_000_000)) == "medium"
    assert config.tier_of(None, D(9_000_000)) == "large"
    assert config.tier_of("large", None) == "large"
    for forecast, expected in (("109999", "green"), ("110000", "amber"), ("130000", "red"), ("70000", "red")):
        rag = rate_project(
            config, "small", schedule(0, 100), cost("100000", forecast), None, SCOPE, RiskMeasures()
        )
        assert rag.cost.status == expected, forecast


def test_large_tier_amber_explained_in_words():
    """Large tier: cost amber from 5 %, red from 10 %. Forecast 2,680,000 on a 2,500,000 budget is
    180,000 over = 7.2 % → amber. Finish 6 working days late on a 120-day baseline = 5.0 % → amber."""
    config = load_governance({})
    rag = rate_project(
        config, "large", schedule(6, 120), cost("2500000", "2680000"), None, SCOPE, RiskMeasures(open_risks=2)
    )
    assert rag.cost.status == "amber"
    assert rag.cost.explanation == (
        "the forecast USD 2,680,000 (finance forecast) is USD 180,000 over the budget USD 2,500,000 "
        "(7.2 % over): amber"
    )
    assert "green below 5 %, amber from 5 %, red from 10 %" in rag.cost.rule
    assert rag.cost.figures["variance_at_completion"] == -180000.0
    assert rag.schedule.status == "amber"
    assert "6 working days late (5.0 % of the 120-working-day baseline duration)" in rag.schedule.explanation
    assert rag.scope.status == "green" and rag.risk.status == "green"
    assert rag.overall.status == "amber"
    assert rag.overall.explanation == (
        "amber because schedule and cost are amber: "
        "schedule: finish 6 working days late, 5.0 % (threshold 5 % late, red from 10 %); "
        "cost: forecast 7.2 % over budget (threshold ±5 %, red ±10 %)"
    )


def test_tier_overrides_merge_with_defaults_and_underrun_can_be_ignored():
    config = load_governance(
        {"count_underrun": False, "tiers": {"large": {"cost_variance_percent": {"amber": 3, "red": 8}}}}
    )
    assert config.tiers["large"].cost_variance_percent.red == 8
    assert config.tiers["large"].schedule_variance_percent.red == 10  # default kept
    under = rate_project(config, "large", schedule(0, 100), cost("100", "50"), None, SCOPE, RiskMeasures())
    assert under.cost.status == "green"
    assert "under-runs not rated" in under.cost.rule
    assert "(50.0 % under)" in under.cost.explanation


def test_missing_data_is_grey_and_says_why():
    config = load_governance({})
    rag = rate_project(
        config,
        "medium",
        ScheduleMeasures(),
        CostMeasures(),
        None,
        ScopeMeasures(),
        RiskMeasures(high_risks=3),
    )
    assert rag.schedule.status == "grey"
    assert "no approved baseline" in rag.schedule.explanation
    assert rag.risk.status == "red"
    # risk alone cannot vouch for a project whose schedule and cost are unknown
    assert rag.overall.status == "grey"
    assert rag.overall.explanation == "not rated: neither schedule nor cost could be rated"
    costed = rate_project(
        config,
        "medium",
        ScheduleMeasures(),
        cost("100", "100"),
        None,
        ScopeMeasures(),
        RiskMeasures(high_risks=3),
    )
    assert costed.overall.status == "red"
    assert costed.overall.explanation == (
        "red because risk is red: risk: 3 open risks scored 15 or more (threshold 1, red 3) "
        "(schedule, scope not rated)"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"tiers": {"large": {"cost_variance_percent": {"amber": 20, "red": 10}}}}, "governance.tiers.large"),
        ({"eac_method": "magic"}, "governance.eac_method"),
        ({"health": {"high_float_dayz": 3}}, "governance.health.high_float_dayz: unknown key"),
    ],
)
def test_bad_config_names_the_key(section, message):
    with pytest.raises(ConfigError) as err:
        load_governance(section)
    assert message in str(err.value)


def test_the_documented_example_config_is_valid():
    import re
    from pathlib import Path

    import yaml

    docs = Path(__file__).resolve().parents[2] / "docs" / "reconcile.md"
    block = re.search(r"```yaml\n(governance:.*?)```", docs.read_text(), re.S)
    assert block is not None
    config = load_governance(yaml.safe_load(block.group(1))["governance"])
    assert config.tiers["small"].schedule_variance_percent.red == 30
    assert len(config.calendar.holidays) == 2


def test_an_under_run_is_worded_as_one_with_figure_sign_and_threshold():
    """Medium tier, ±10 % amber, ±20 % red both ways (IT Dashboard). Budget 1,000,000, forecast 770,000:
    VAC = +230,000 = 23.0 % *under* → red, and the Why says so (it once read "red because cost is red")."""
    rag = rate_project(
        load_governance({}),
        "medium",
        schedule(0, 100),
        cost("1000000", "770000"),
        None,
        SCOPE,
        RiskMeasures(),
    )
    assert rag.cost.status == "red"
    assert "is USD 230,000 under the budget USD 1,000,000 (23.0 % under): red" in rag.cost.explanation
    assert rag.cost.headline == "cost: forecast 23.0 % under budget (threshold ±10 %, red ±20 %)"
    assert rag.overall.explanation == (
        "red because cost is red: cost: forecast 23.0 % under budget (threshold ±10 %, red ±20 %)"
    )


def test_over_and_under_run_thresholds_are_separate():
    """Under-runs amber from 25 %, red from 40 %; overruns keep the medium defaults (10 % / 20 %).
    23 % under → green; 23 % over → red; 30 % under → amber."""
    config = load_governance({"tiers": {"medium": {"cost_underrun_percent": {"amber": 25, "red": 40}}}})

    def rated(forecast: str) -> str:
        rag = rate_project(
            config, "medium", schedule(0, 100), cost("1000", forecast), None, SCOPE, RiskMeasures()
        )
        return rag.cost.status

    assert (rated("770"), rated("1230"), rated("700")) == ("green", "red", "amber")
    rag = rate_project(config, "medium", schedule(0, 100), cost("1000", "700"), None, SCOPE, RiskMeasures())
    assert rag.cost.headline == (
        "cost: forecast 30.0 % under budget (threshold over 10 % / under 25 %, red over 20 % / under 40 %)"
    )


def test_no_defensible_forecast_is_rated_on_the_floor_and_says_at_least():
    """Open flow work, no throughput: the project is at least 27 working days late on a 100-day baseline
    = at least 27 % → red (medium: red from 20 %); no forecast date is claimed."""
    floor = ScheduleMeasures(
        baseline_duration_working_days=100, finish_variance_at_least_working_days=27, forecast_method="floor"
    )
    rag = rate_project(load_governance({}), "medium", floor, cost("100", "100"), None, SCOPE, RiskMeasures())
    assert rag.schedule.status == "red"
    assert rag.schedule.explanation == (
        "no defensible forecast finish; the project is at least 27 working days late "
        "(at least 27.0 % of the 100-working-day baseline duration): at least red"
    )
    assert (
        rag.schedule.headline
        == "schedule: at least 27 working days late, at least 27.0 % (threshold 10 % late, red from 20 %)"
    )
