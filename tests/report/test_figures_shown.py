"""The report shows what reconcile decided: closing projects apart, restatements with their lines,
% complete with its basis."""

from __future__ import annotations

from pmsync.report.writers.html import render_html

from .htmlcheck import parse
from .sample import sample_report


def test_closing_projects_are_apart_from_active_work() -> None:
    report = sample_report()
    html = render_html(report)
    active, closed = html.split("<h3>Closing and closed projects</h3>", 1)
    active_table = active.split('<table class="portfolio-table">', 1)[1]
    assert 'href="#project-ERP"' in active_table and 'href="#project-WEB"' not in active_table
    assert 'href="#project-WEB"' in closed.split("</table>", 1)[0]
    assert not next(r for r in report.portfolio if r.key == "WEB").needs_attention


def test_a_restatement_is_listed_with_its_period_amount_and_lines() -> None:
    text = " ".join(parse(render_html(sample_report())).text.split())
    assert "Actuals for 2026-10 restated since the last report: they fell by USD 49,856.28" in text
    assert "finance_file:ledger:INV-1" in text


def test_percent_complete_names_its_basis() -> None:
    text = " ".join(parse(render_html(sample_report())).text.split())
    assert "100 % complete: detail items done ÷ detail items (by count)." in text


def test_exceptions_are_grouped_by_rule_with_counts_and_the_worst_examples() -> None:
    """Five date mismatches 1, 9, 3, 12, 5 working days apart and one broken link: the date group
    counts 5 and shows the three worst (12, 9, 5); groups with more exceptions come first."""
    from pmsync.reconcile.results import ReconciliationException
    from pmsync.report.exceptions import group_exceptions

    def gap(days: int) -> ReconciliationException:
        return ReconciliationException(
            kind="date_mismatch", severity="warning", project="ERP", records=[f"msproject:plan:{days}"],
            description=f"{days} apart", details={"working_days_apart": str(days)},
        )  # fmt: skip

    broken = ReconciliationException(
        kind="broken_link", severity="warning", project="ERP", records=["msproject:plan:28"], description="x"
    )
    groups = group_exceptions([gap(1), gap(9), broken, gap(3), gap(12), gap(5)])
    assert [(g.kind, g.count) for g in groups] == [("date_mismatch", 5), ("broken_link", 1)]
    assert [e.description for e in groups[0].examples] == ["12 apart", "9 apart", "5 apart"]
