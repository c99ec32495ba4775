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
