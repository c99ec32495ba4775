"""Oversight figures against values worked out by hand (status date 2026-11-30)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pmsync.config import ProjectConfig
from pmsync.errors import ConfigError
from pmsync.model import BenefitRealised, CioRating, CostLine, GateDecision, SourceRef, StaffingActual
from pmsync.oversight.config import ProjectOversight, oversight_settings
from pmsync.reconcile import oversight as ov
from pmsync.reconcile.results import ProjectMeasures
from pmsync.store import Store

from .sample import erp_measures

STATUS = date(2026, 11, 30)
AT = datetime(2026, 11, 1, tzinfo=UTC)


def _ref(external_id: str) -> SourceRef:
    return SourceRef(system="oversight_file", instance="oversight", external_id=external_id)


def _actual(amount: str, *, po: str | None = None, account: str | None = None, fy: int = 2027) -> CostLine:
    return CostLine(
        source=_ref(f"line-{amount}-{po}-{account}"),
        project="ERP",
        kind="actual",
        amount=Decimal(amount),
        po_number=po,
        account=account,
        fiscal_year=fy,
        posting_date=date(2026, 11, 1),
    )


PLAN = ProjectOversight.model_validate(
    {
        "criticality": {"Cost": "over 10M", "Reach": "statewide", "Complexity": "moderate"},
        "phase": "Execution",
        "gates": [
            {"gate": "Gate 1", "planned": "2026-03-01", "funds_planned": 500000},
            {"gate": "Gate 2", "planned": "2026-09-01", "funds_planned": 700000},
            {"gate": "Gate 3", "planned": "2027-01-15"},
        ],
        "funding": [
            {"source": "General Fund", "fiscal_year": 2027, "amount": 800000, "accounts": ["5100"]},
            {"source": "Federal", "fiscal_year": 2027, "amount": 400000, "accounts": ["5200"]},
            {"source": "Special Fund", "fiscal_year": 2026, "amount": 100000, "cost_type": "continuing"},
        ],
        "contracts": [
            {
                "vendor": "Acme Integrators",
                "number": "C-42",
                "po_numbers": ["PO-7"],
                "value": 1000000,
                "amendments": [
                    {"number": "A1", "value_change": 200000, "executed": "2026-10-01"},
                    {"number": "A2", "value_change": 50000, "executed": "2026-12-15"},
                ],
                "deliverables": [
                    {"name": "Design", "due": "2026-06-30", "accepted": "2026-07-10"},
                    {"name": "Build", "due": "2026-11-15"},
                    {"name": "Cutover", "due": "2027-02-01"},
                ],
            }
        ],
        "staffing": [{"month": "2026-07-01", "fte": 5}, {"month": "2026-10-01", "fte": 8}],
        "benefits": [
            {"benefit": "Hours saved", "planned": 1000, "by": "2026-09-30", "unit": "hours"},
            {"benefit": "Licences retired", "planned": 200, "by": "2027-06-30", "unit": "licences"},
        ],
    }
)

SHEET = {
    "preset": "california",
    "criticality": {
        "medium_from": 4,
        "high_from": 7,
        "factors": [
            {
                "name": "Cost",
                "levels": [{"name": "under 1M", "points": 1}, {"name": "over 10M", "points": 3}],
            },
            {
                "name": "Reach",
                "levels": [{"name": "one office", "points": 1}, {"name": "statewide", "points": 3}],
            },
            {
                "name": "Complexity",
                "levels": [{"name": "low", "points": 0}, {"name": "moderate", "points": 2}],
            },
        ],
    },
}


def _measures(bac: str, forecast: str, finish_percent: float, days: int) -> ProjectMeasures:
    m = erp_measures()
    return m.model_copy(
        update={
            "baseline_comparison": [],
            "cost": m.cost.model_copy(
                update={"budget_at_completion": Decimal(bac), "forecast_at_completion": Decimal(forecast)}
            ),
            "schedule": m.schedule.model_copy(
                update={"finish_variance_percent": finish_percent, "finish_variance_working_days": days}
            ),
        }
    )


def test_contract_burn_counts_payments_by_po_and_amendments_executed_by_the_status_date() -> None:
    actuals = [_actual("600000", po="PO-7"), _actual("500000", po="po-7"), _actual("90000", po="PO-9")]
    [burn] = ov.contract_burn(PLAN, actuals, STATUS, warn_percent=90)
    # 1,000,000 + A1 200,000 (A2 is executed after the status date); paid 600,000 + 500,000
    assert burn.current_value == Decimal("1200000") and [a.number for a in burn.amendments] == ["A1"]
    assert burn.paid_to_date == Decimal("1100000.00") and burn.remaining == Decimal("100000.00")
    assert burn.burn_percent == pytest.approx(91.6667, abs=1e-3)
    assert burn.nearing_value and not burn.over_value and burn.payment_lines == 2
    assert (burn.deliverables, burn.deliverables_accepted, burn.deliverables_overdue) == (3, 1, 1)


def test_funding_consumed_per_source_and_fiscal_year() -> None:
    actuals = [
        _actual("300000", account="5100"),
        _actual("100000", account="5100"),
        _actual("50000", account="5200"),
        _actual("25000", fy=2026),
    ]
    rows = {(r.source, r.fiscal_year): r for r in ov.funding(PLAN, actuals)}
    general, federal, special = rows["General Fund", 2027], rows["Federal", 2027], rows["Special Fund", 2026]
    assert (general.spent, general.remaining, general.consumed_percent) == (
        Decimal("400000.00"),
        Decimal("400000.00"),
        50.0,
    )
    assert (federal.spent, federal.consumed_percent) == (Decimal("50000.00"), 12.5)
    # FY2026 has one funding line: all of the year's actuals are charged to it
    assert special.spent == Decimal("25000.00") and "only funding line" in special.basis


def test_staffing_variance_is_actual_minus_the_plan_in_force() -> None:
    actuals = [
        StaffingActual(
            source=_ref("s1"),
            project="ERP",
            recorded_by="PMO",
            month=date(2026, 11, 1),
            fte=Decimal("4"),
            role="dev",
        ),
        StaffingActual(
            source=_ref("s2"),
            project="ERP",
            recorded_by="PMO",
            month=date(2026, 11, 1),
            fte=Decimal("2.5"),
            role="BA",
        ),
        StaffingActual(
            source=_ref("s3"), project="ERP", recorded_by="PMO", month=date(2026, 12, 1), fte=Decimal("9")
        ),
    ]
    s = ov.staffing(PLAN, actuals, STATUS)
    assert s is not None and s.month == date(2026, 11, 1)
    assert (s.planned_fte, s.actual_fte, s.variance_fte) == (Decimal("8"), Decimal("6.5"), Decimal("-1.5"))
    assert s.variance_percent == pytest.approx(-18.75)


def test_benefits_and_escalation_triggers_say_which_figure_tripped_them() -> None:
    realised = [
        BenefitRealised(
            source=_ref("b1"),
            project="ERP",
            recorded_by="Business owner",
            benefit="Hours saved",
            value=Decimal("850"),
            measured_on=date(2026, 10, 31),
        ),
        BenefitRealised(
            source=_ref("b2"),
            project="ERP",
            recorded_by="Business owner",
            benefit="Hours saved",
            value=Decimal("990"),
            measured_on=date(2026, 12, 10),
        ),
    ]
    rows = ov.benefits(PLAN, realised, STATUS)
    hours, licences = rows
    assert (hours.realised, hours.variance, hours.variance_percent, hours.due) == (
        Decimal("850"),
        Decimal("-150"),
        -15.0,
        True,
    )
    assert licences.due is False and licences.realised is None

    settings = oversight_settings(SHEET)
    triggers = {
        t.dimension: t for t in ov.triggers(settings.triggers, _measures("2500000", "2760000", 8.0, 12), rows)
    }
    # cost: (2,760,000 − 2,500,000) ÷ 2,500,000 = +10.4 % ≥ 10 → tripped
    assert triggers["cost"].tripped and triggers["cost"].figure_percent == pytest.approx(10.4)
    assert "10.4 % over" in triggers["cost"].explanation
    assert "re-approval required (Special Project Report)" in triggers["cost"].explanation
    # schedule: 8 % late < 10 % → not tripped; benefits: −15 % → tripped
    assert not triggers["schedule"].tripped and triggers["schedule"].figure_percent == 8.0
    assert triggers["benefits"].tripped and triggers["benefits"].figure_percent == -15.0
    # 9.9 % under the budget stays within ±10 %
    [cost] = [
        t
        for t in ov.triggers(settings.triggers, _measures("1000000", "901000", 0.0, 0), rows)
        if t.dimension == "cost"
    ]
    assert not cost.tripped and cost.figure_percent == pytest.approx(-9.9)


def test_the_benefits_trigger_is_measured_per_unit_never_adding_hours_to_dollars() -> None:
    plan = ProjectOversight.model_validate(
        {
            "benefits": [
                {"benefit": "Hours saved", "planned": 1000, "by": "2026-09-30", "unit": "hours"},
                {"benefit": "Postage saved", "planned": 50000, "by": "2026-10-31", "unit": "USD"},
                {"benefit": "Print saved", "planned": 10000, "by": "2026-11-30", "unit": "USD"},
            ]
        }
    )

    def realised(i: str, benefit: str, value: str) -> BenefitRealised:
        return BenefitRealised(
            source=_ref(i),
            project="ERP",
            recorded_by="Business owner",
            benefit=benefit,
            value=Decimal(value),
            measured_on=date(2026, 11, 15),
        )

    rows = ov.benefits(
        plan, [realised("h", "Hours saved", "850"), realised("p", "Postage saved", "57000")], STATUS
    )
    rules = oversight_settings({"preset": "california"}).triggers
    by_unit = {t.unit: t for t in ov.triggers(rules, _measures("1000", "1000", 0.0, 0), rows) if t.unit}
    # hours: (850 − 1,000) ÷ 1,000 = −15 % → tripped. Added together with the dollars it would read
    # (850 + 57,000 − 61,000) ÷ 61,000 = −5.2 % and hide the shortfall.
    hours, usd = by_unit["hours"], by_unit["USD"]
    assert hours.tripped and hours.figure_percent == -15.0 and hours.label == "benefits (hours)"
    assert "850 hours realised against 1,000 hours planned" in hours.explanation
    assert hours.explanation.endswith("re-approval required (Special Project Report)")
    # USD: Print saved is due with nothing recorded, so it counts as 0 and is named:
    # (57,000 + 0 − 60,000) ÷ 60,000 = −5 % → within ±10 %
    assert not usd.tripped and usd.figure_percent == -5.0
    assert "counted as 0, nothing recorded: Print saved" in usd.explanation
    assert usd.explanation.endswith("within the threshold")


def test_criticality_from_the_scoring_sheet_and_the_override() -> None:
    settings = oversight_settings(SHEET)
    result = ov.criticality(PLAN, settings.criticality)
    # 3 + 3 + 2 = 8 ≥ high_from 7
    assert (result.level, result.score) == ("high", 8)
    partial = PLAN.model_copy(update={"criticality": {"Cost": "under 1M"}})
    assert ov.criticality(partial, settings.criticality).level is None
    assert "unanswered Reach, Complexity" in ov.criticality(partial, settings.criticality).basis
    fixed = PLAN.model_copy(update={"criticality_override": "low"})
    assert ov.criticality(fixed, settings.criticality).level == "low"


def test_gates_take_the_latest_decision_by_the_status_date() -> None:
    def decision(i: str, gate: str, outcome: str, on: date, funds: str | None = None) -> GateDecision:
        return GateDecision(
            source=_ref(i),
            project="ERP",
            recorded_by="PRB secretary",
            gate=gate,
            decision=outcome,  # type: ignore[arg-type]
            decided_on=on,
            decided_by="Project Review Board",
            funds_released=Decimal(funds) if funds else None,
        )

    decisions = [
        decision("g1", "Gate 1", "approved", date(2026, 3, 5), "500000"),
        decision("g2", "Gate 2", "deferred", date(2026, 9, 10)),
        decision("g3", "Gate 2", "approved", date(2026, 12, 1), "700000"),  # after the status date
    ]
    rows, current, nxt, released = ov.gates(PLAN, decisions, STATUS)
    assert [(g.gate, g.state) for g in rows] == [
        ("Gate 1", "passed"),
        ("Gate 2", "deferred"),
        ("Gate 3", "pending"),
    ]
    assert (current, nxt, released) == ("Gate 1", "Gate 2", Decimal("500000"))


def test_the_cio_rating_overrides_the_computed_overall_and_both_are_kept() -> None:
    settings = oversight_settings({"preset": "federal"})
    ratings = [
        CioRating(
            source=_ref("c1"),
            project="ERP",
            recorded_by="CIO office",
            rating=4,
            reason="on track",
            rated_on=date(2026, 10, 15),
        ),
        CioRating(
            source=_ref("c2"),
            project="ERP",
            recorded_by="J. Rivera, CIO",
            rating=2,
            reason="vendor staffing gaps",
            rated_on=date(2026, 11, 20),
        ),
        CioRating(
            source=_ref("c3"),
            project="ERP",
            recorded_by="J. Rivera, CIO",
            rating=5,
            reason="recovered",
            rated_on=date(2026, 12, 3),
        ),
    ]
    cio = ov.cio_rating(ratings, settings, STATUS)
    assert cio is not None and (cio.rating, cio.rag, cio.rated_by) == (2, "red", "J. Rivera, CIO")
    computed = erp_measures().rag.overall.model_copy(update={"status": "amber"})
    effective = ov.effective_overall(computed, cio)
    assert (
        effective.status == "red" and "overrides the computed overall status amber" in effective.explanation
    )
    no_override = oversight_settings({"preset": "federal", "cio_rating": {"overrides_overall": False}})
    assert ov.effective_overall(computed, ov.cio_rating(ratings, no_override, STATUS)).status == "amber"


def test_a_preset_is_overridden_key_by_key_and_an_unknown_one_is_refused() -> None:
    settings = oversight_settings({"preset": "california", "triggers": {"cost_percent": 5}})
    assert (settings.triggers.cost_percent, settings.triggers.schedule_percent) == (5, 10)
    assert settings.triggers.report_name == "Special Project Report"
    with pytest.raises(ConfigError, match="unknown oversight preset 'ohio'"):
        oversight_settings({"preset": "ohio"})
    with pytest.raises(ConfigError, match="must map each rating 1, 2, 3, 4 and 5"):
        oversight_settings({"cio_rating": {"rag": {1: "red"}}})


@pytest.mark.parametrize(
    ("answers", "total", "level"),
    [
        ((3, 2, 3, 3), 11, "high"),
        ((3, 3, 2, 2), 10, "high"),  # the lowest high: average 2.5 rounds up
        ((2, 2, 2, 3), 9, "medium"),
        ((1, 1, 2, 2), 6, "medium"),  # the lowest medium: average 1.5 rounds up
        ((1, 1, 1, 2), 5, "low"),
    ],
)
def test_the_california_preset_scores_the_four_simm_45_factors(
    answers: tuple[int, ...], total: int, level: str
) -> None:
    sheet = oversight_settings({"preset": "california"}).criticality
    names = ["Project size", "Project manager experience", "Team experience", "Project type"]
    assert [f.name for f in sheet.factors] == names
    word = {1: "low", 2: "medium", 3: "high"}
    plan = ProjectOversight(criticality={n: word[a] for n, a in zip(names, answers, strict=True)})
    result = ov.criticality(plan, sheet)
    assert (result.score, result.level) == (total, level)
    assert "medium from 6, high from 10" in result.basis


def test_each_preset_loads_cites_its_source_and_the_agency_overrides_pieces() -> None:
    from pmsync.oversight.config import PRESETS

    loaded = {name: oversight_settings({"preset": name}) for name in PRESETS}
    assert all(s.preset == name and s.source for name, s in loaded.items())
    assert "SIMM Section 45" in (loaded["california"].source or "")
    assert "GAO-14-64" in (loaded["federal"].source or "")
    # federal: 1-2 red, 3 amber, 4-5 green; an agency reads 3 as red instead
    assert loaded["federal"].cio_rating.rag == {1: "red", 2: "red", 3: "amber", 4: "green", 5: "green"}
    stricter = oversight_settings({"preset": "federal", "cio_rating": {"rag": {3: "red"}}})
    assert stricter.cio_rating.rag[3] == "red" and stricter.cio_rating.rag[4] == "green"
    # california: overriding one key of the sheet keeps the preset's factors (3+2+3+3 = 11 < 12)
    raised = oversight_settings({"preset": "california", "criticality": {"high_from": 12}})
    assert len(raised.criticality.factors) == 4 and raised.criticality.medium_from == 6
    plan = ProjectOversight(
        criticality={
            "Project size": "high",
            "Project manager experience": "medium",
            "Team experience": "high",
            "Project type": "high",
        }
    )
    assert ov.criticality(plan, raised.criticality).level == "medium"
    # Texas QAT: against the initial estimate, no threshold of its own (no trigger until one is set)
    texas = oversight_settings({"preset": "texas_qat"})
    assert texas.triggers.basis == "original" and ov.triggers(texas.triggers, erp_measures(), []) == []


def test_the_texas_preset_measures_against_the_original_baseline() -> None:
    from pmsync.reconcile.results import BaselineVariance

    rules = oversight_settings({"preset": "texas_qat", "triggers": {"cost_percent": 10}}).triggers
    m = _measures("2200000", "2640000", 0.0, 0)
    m = m.model_copy(
        update={
            "baseline_comparison": [
                BaselineVariance(role="original", number=1, baseline_cost=Decimal("2000000")),
                BaselineVariance(role="current", number=2, baseline_cost=Decimal("2200000")),
            ]
        }
    )
    [cost] = ov.triggers(rules, m, [])
    # (2,640,000 − 2,000,000) ÷ 2,000,000 = +32 % against the initial estimate (the current budget
    # 2,200,000 would read +20 %)
    assert cost.figure_percent == pytest.approx(32.0) and cost.tripped
    assert (
        cost.basis == "original baseline 1" and "USD 2,000,000 of the original baseline 1" in cost.explanation
    )


def test_gated_funding_reports_funds_released_against_funds_planned(store: Store) -> None:
    settings = oversight_settings({"preset": "king_county"})
    assert settings.gated_funding and settings.triggers.cost_percent is None
    decision = GateDecision(
        source=_ref("g1"), project="ERP", recorded_by="PRB", gate="Gate 1", decision="approved",
        decided_on=date(2026, 3, 5), funds_released=Decimal("500000"),
    )  # fmt: skip
    project = ProjectConfig(key="ERP", name="ERP upgrade", oversight=PLAN)
    inputs = ov.MaintainedInputs(decisions=[decision])
    measured = ov.measure_oversight(store, project, settings, erp_measures(), STATUS, inputs)
    # Gate 1 500,000 + Gate 2 700,000 planned (Gate 3 none); 500,000 released; no triggers configured
    assert (measured.funds_released, measured.funds_planned) == (Decimal("500000"), Decimal("1200000"))
    assert measured.triggers == [] and not measured.reapproval_required
    # the contract's payments are read from the (empty) store: nothing paid yet
    assert measured.contracts[0].paid_to_date == 0
    assert oversight_settings({"preset": "california"}).gated_funding is False


def test_oversight_changes_since_the_previous_report() -> None:
    from pmsync.report.oversight_changes import oversight_changes

    from .sample import erp_oversight

    now = erp_oversight(erp_measures())
    assert oversight_changes("ERP", now, None) == []  # a project new to the report has no changes
    before = now.model_copy(
        update={
            "cio": now.cio.model_copy(update={"rating": 4, "rated_on": date(2026, 10, 20)})
            if now.cio
            else None,
            "findings": [],
            "triggers": [t.model_copy(update={"tripped": False}) for t in now.triggers],
            "gates": [],
        }
    )
    changes = {c.kind: c for c in oversight_changes("ERP", now, before)}
    assert set(changes) == {"cio_rating", "finding_raised", "trigger_tripped", "gate_decision"}
    assert (changes["cio_rating"].before, changes["cio_rating"].after) == ("4", "2")
    assert changes["trigger_tripped"].after == "-20.0 %"
    closed = now.model_copy(
        update={
            "findings": [
                f.model_copy(update={"open": False, "closed_on": date(2026, 11, 28)}) for f in now.findings
            ]
        }
    )
    [change] = oversight_changes("ERP", closed, now)
    assert change.kind == "finding_closed" and change.after == "closed 2026-11-28"
