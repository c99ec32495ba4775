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
        "(7.2 %): amber"
    )
    assert "green below 5 %, amber from 5 %, red from 10 %" in rag.cost.rule
    assert rag.cost.figures["variance_at_completion"] == -180000.0
    assert rag.schedule.status == "amber"
    assert "6 working days late (5.0 % of the 120-working-day baseline duration)" in rag.schedule.explanation
    assert rag.scope.status == "green" and rag.risk.status == "green"
    assert rag.overall.status == "amber"
    assert rag.overall.explanation == "amber because schedule and cost are amber"


def test_tier_overrides_merge_with_defaults_and_underrun_can_be_ignored():
    config = load_governance(
        {"count_underrun": False, "tiers": {"large": {"cost_variance_percent": {"amber": 3, "red": 8}}}}
    )
    assert config.tiers["large"].cost_variance_percent.red == 8
    assert config.tiers["large"].schedule_variance_percent.red == 10  # default kept
    under = rate_project(config, "large", schedule(0, 100), cost("100", "50"), None, SCOPE, RiskMeasures())
    assert under.cost.status == "green"
    assert "overrun against" in under.cost.rule


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
    assert costed.overall.explanation == "red because risk is red (schedule, scope not rated)"


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
