"""Earned value reproduces textbook examples exactly, and timephased PV follows the working calendar."""

from datetime import date
from decimal import Decimal

import pytest

from pmsync.model import BaselineItem, SourceRef
from pmsync.reconcile.calendar import WorkingCalendar
from pmsync.reconcile.evm import compute_evm, month_ends, weighted_earned, weighted_planned_curve

D = Decimal


def pv(items: list[BaselineItem], ends: list[date], cal: WorkingCalendar) -> list[Decimal]:
    """Cumulative PV at ``ends``: the baseline cost as each item's weight, as measures weigh a
    cost-based basis."""
    return weighted_planned_curve([(i, i.cost or D(0)) for i in items], ends, cal)


def item(external_id: str, start: date | None, finish: date | None, cost: str) -> BaselineItem:
    return BaselineItem(
        source=SourceRef(system="pmsync", instance="baselines", external_id=f"P/1/{external_id}"),
        project="P",
        baseline_number=1,
        item=external_id,
        start=start,
        finish=finish,
        cost=D(cost),
    )


def test_schwalbe_it_project_management_example():
    """Schwalbe, *Information Technology Project Management*, ch. 7 (cost) exercise: a six-month
    project with BAC $200,000, three months in: PV $120,000, EV $100,000, AC $90,000.
    Textbook answers: CV = 100,000 − 90,000 = 10,000; SV = 100,000 − 120,000 = −20,000;
    CPI = 100/90 = 1.11; SPI = 100/120 = 0.83; EAC = BAC / CPI = 200,000 / 1.111 = 180,000."""
    evm = compute_evm(
        status_date=date(2026, 3, 31), bac=D(200_000), pv=D(120_000), ev=D(100_000), ac=D(90_000)
    )
    assert evm.cv == D("10000.00")
    assert evm.sv == D("-20000.00")
    assert round(evm.cpi or 0, 2) == 1.11
    assert round(evm.spi or 0, 2) == 0.83
    assert evm.eac == D("180000.00")
    assert evm.eac_formula == "EAC = BAC / CPI = 200,000.00 / 1.1111 = 180,000.00"
    assert evm.etc == D("90000.00")  # ETC = EAC − AC
    assert evm.vac == D("20000.00")  # VAC = BAC − EAC: under budget at completion
    assert evm.tcpi == pytest.approx(100_000 / 110_000)  # (BAC − EV) / (BAC − AC) = 0.909
    # against EAC = BAC / CPI the remaining work only needs the current CPI: 100,000 / 90,000
    assert evm.tcpi_eac == pytest.approx(evm.cpi)
    assert evm.percent_complete == pytest.approx(50.0)


def test_pmbok_eac_variants_on_the_same_figures():
    """PMBOK Guide 6th ed. §7.4.2.2 EAC forecasts, on Schwalbe's figures:
    atypical: EAC = AC + (BAC − EV) = 90,000 + 100,000 = 190,000;
    CPI × SPI: CPI × SPI = (100/90) × (100/120) = 0.925926, so
               EAC = 90,000 + 100,000 / 0.925926 = 90,000 + 108,000 = 198,000."""
    figures = {"status_date": date(2026, 3, 31), "bac": D(200_000), "pv": D(120_000)}
    atypical = compute_evm(**figures, ev=D(100_000), ac=D(90_000), eac_method="atypical")
    assert atypical.eac == D("190000.00")
    assert atypical.eac_formula.startswith("EAC = AC + (BAC − EV)")
    both = compute_evm(**figures, ev=D(100_000), ac=D(90_000), eac_method="cpi_spi")
    assert both.eac == D("198000.00")
    assert both.etc == D("108000.00")
    assert both.vac == D("2000.00")


def test_overrun_example_and_tcpi_above_one():
    """A project with BAC 5,000,000, EV 1,500,000, AC 1,800,000 (PV 2,000,000):
    CPI = 1.5/1.8 = 0.8333, EAC = 5,000,000 / 0.8333 = 6,000,000, VAC = −1,000,000,
    TCPI = (5.0 − 1.5) / (5.0 − 1.8) = 3.5 / 3.2 = 1.09375 (harder than plan)."""
    evm = compute_evm(
        status_date=date(2026, 6, 30), bac=D(5_000_000), pv=D(2_000_000), ev=D(1_500_000), ac=D(1_800_000)
    )
    assert evm.eac == D("6000000.00")
    assert evm.vac == D("-1000000.00")
    assert evm.cv == D("-300000.00")
    assert evm.cv_percent == pytest.approx(-20.0)
    assert evm.sv_percent == pytest.approx(-25.0)
    assert evm.tcpi == pytest.approx(1.09375)


def test_tcpi_is_none_once_the_budget_or_the_work_is_used_up():
    """Overspent: BAC 1,000, EV 800, AC 1,100. TCPI against BAC = 200 / −100 = −2 means nothing
    (no efficiency finishes within a spent budget): None. Against the EAC it still reads:
    EAC = 1,000 × 1,100 / 800 = 1,375; TCPI = (1,000 − 800) / (1,375 − 1,100) = 200 / 275 = 0.727.
    Finished: EV = BAC = 1,000, AC 900: no work left, so no TCPI (it was 0 / 100 = 0)."""
    over = compute_evm(status_date=date(2026, 1, 1), bac=D(1000), pv=D(900), ev=D(800), ac=D(1100))
    assert over.tcpi is None
    assert over.tcpi_eac == pytest.approx(200 / 275)
    done = compute_evm(status_date=date(2026, 1, 1), bac=D(1000), pv=D(1000), ev=D(1000), ac=D(900))
    assert done.tcpi is None and done.tcpi_eac is None


def test_nothing_earned_gives_none_not_zero():
    evm = compute_evm(status_date=date(2026, 1, 1), bac=D(1000), pv=D(0), ev=D(0), ac=D(0))
    assert evm.spi is None and evm.cpi is None and evm.eac is None and evm.vac is None
    assert "not computable" in evm.eac_formula


def test_timephased_pv_spreads_linearly_over_working_days():
    """Status date Friday 2026-11-06.
    A: 10,000 over Mon 11-02 .. Fri 11-13 = 10 working days; 5 worked by the status date → 5,000.
    B: a 1,000 milestone finishing on the status date → its whole budget, 1,000.
    C: 3,000 starting Mon 11-09 → nothing yet.
    D: 2,000 over Wed 11-25 .. Tue 12-01 with Thanksgiving 11-26 a holiday: 4 working days
       (25, 27, 30, 1); at 11-30 three of them are planned → 1,500.
    PV at 11-06 = 5,000 + 1,000 = 6,000."""
    cal = WorkingCalendar(holidays=[date(2026, 11, 26)])
    items = [
        item("A", date(2026, 11, 2), date(2026, 11, 13), "10000"),
        item("B", None, date(2026, 11, 6), "1000"),
        item("C", date(2026, 11, 9), date(2026, 11, 20), "3000"),
        item("D", date(2026, 11, 25), date(2026, 12, 1), "2000"),
    ]
    assert pv(items, [date(2026, 11, 6)], cal) == [D(6000)]
    assert pv(items, [date(2026, 11, 1)], cal) == [D(0)]
    ends = month_ends(date(2026, 11, 2), date(2026, 12, 1))
    assert ends == [date(2026, 11, 30), date(2026, 12, 31)]
    # November: A, B, C done (14,000) + 3/4 of D (1,500); December: everything (16,000).
    assert pv(items, ends, cal) == [D(15500), D(16000)]


def test_earned_value_is_budget_times_percent_complete():
    items = [item("A", None, date(2026, 1, 1), "10000"), item("B", None, date(2026, 1, 1), "3000")]
    assert weighted_earned([(items[0].cost or D(0), 45.0), (items[1].cost or D(0), None)]) == D(4500)


def test_month_ends_span_years():
    assert month_ends(date(2026, 12, 5), date(2027, 2, 1)) == [
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
    ]


def test_this_period_figures_and_monthly_burn_from_the_cumulative_curve():
    """Cumulative PV / EV / AC: Aug 100 / 90 / 100, Sep 250 / 200 / 230, Oct (status date) 400 / 380 / 400.
    Per period: Aug 100 / 90 / 100 (SPI 0.90, CPI 0.90); Sep 150 / 110 / 130 (SPI 0.733, CPI 0.846);
    Oct 150 / 180 / 170 (SPI 1.20, CPI 1.059). Cumulative CPI 380 / 400 = 0.95 hides October's recovery."""
    from pmsync.reconcile.results import EvmPoint

    def point(end: date, pv: int, ev: int | None, ac: int | None) -> EvmPoint:
        return EvmPoint(
            period_end=end, label=f"{end:%Y-%m}", pv=D(pv), ev=None if ev is None else D(ev),
            ac=None if ac is None else D(ac),
        )  # fmt: skip

    curve = [
        point(date(2026, 8, 31), 100, 90, 100),
        point(date(2026, 9, 30), 250, 200, 230),
        point(date(2026, 10, 30), 400, 380, 400),
        point(date(2026, 11, 30), 500, None, None),
    ]
    evm = compute_evm(
        status_date=date(2026, 10, 30), bac=D(500), pv=D(400), ev=D(380), ac=D(400), curve=curve
    )
    assert [(p.label, p.pv, p.ev, p.ac) for p in evm.periods] == [
        ("2026-08", D(100), D(90), D(100)),
        ("2026-09", D(150), D(110), D(130)),
        ("2026-10", D(150), D(180), D(170)),
    ]
    now = evm.this_period
    assert now is not None and now.start == date(2026, 9, 30) and now.end == date(2026, 10, 30)
    assert now.spi == pytest.approx(1.2) and now.cpi == pytest.approx(180 / 170)
    assert evm.cpi == pytest.approx(0.95)
    assert evm.periods[1].cpi == pytest.approx(110 / 130)
