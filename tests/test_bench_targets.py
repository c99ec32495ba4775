"""bench/targets.py: the verdict under the benchmark table must never call a target met that was not
measured, or that a measured figure misses."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("bench_targets", BENCH / "targets.py")
assert _spec is not None and _spec.loader is not None
targets = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = targets  # dataclasses look their module up there
_spec.loader.exec_module(targets)


def row(stage: str, size: int, seconds: float, peak_mb: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {
        "stage": stage,
        "size": size,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "http_requests": extra.pop("http_requests", None),
        "error": extra.pop("error", None),
        "extra": extra,
    }


def verdict(rows: list[dict[str, Any]], starts: str) -> Any:
    [found] = [v for v in targets.verdicts(rows) if v.target.startswith(starts)]
    return found


def test_mspdi_memory_is_the_reads_growth_against_the_file() -> None:
    lean = row(targets.MSPDI_PMSYNC, 100_000, 9.0, peak_mb=500, file_mb=340.0, rss_before_mb=90.0)
    assert verdict([lean], "Memory of an MSPDI").met is True  # 410 MB for 340 MB: 1.21x
    heavy = row(targets.MSPDI_PMSYNC, 100_000, 9.0, peak_mb=600, file_mb=340.0, rss_before_mb=90.0)
    assert verdict([heavy], "Memory of an MSPDI").met is False  # 510 MB: 1.5x
    older = row(targets.MSPDI_PMSYNC, 100_000, 9.0, peak_mb=500, file_mb=340.0)
    assert verdict([older], "Memory of an MSPDI").met is None


def test_a_target_is_met_only_when_every_figure_is_inside_it() -> None:
    fast = row(targets.JIRA_FULL, 100_000, 45.0, peak_mb=250, http_requests=2100)
    heavy = row(targets.JIRA_FULL, 100_000, 45.0, peak_mb=420)
    slow = row(targets.JIRA_FULL, 100_000, 75.0, peak_mb=250)
    assert verdict([fast], "Jira: 10^5").met is True
    assert verdict([heavy], "Jira: 10^5").met is False
    assert verdict([slow], "Jira: 10^5").met is False
    assert "75.0 s" in verdict([slow], "Jira: 10^5").line()


def test_a_stage_not_run_or_failed_is_not_run_never_met() -> None:
    failed = row(targets.JIRA_FULL, 100_000, 1.0, error="timed out after 900 s")
    smaller = row(targets.JIRA_FULL, 50_000, 20.0)
    for rows in ([], [failed], [smaller]):
        found = verdict(rows, "Jira: 10^5")
        assert found.met is None
        assert found.line().startswith("[not run]")


def test_incremental_sync_must_make_exactly_one_search_request() -> None:
    one = row(targets.JIRA_NOTHING, 100_000, 0.4, search_requests=1)
    two = row(targets.JIRA_NOTHING, 100_000, 0.4, search_requests=2)
    assert verdict([one], "Jira: incremental").met is True
    assert verdict([two], "Jira: incremental").met is False
    unknown = row(targets.JIRA_NOTHING, 100_000, 0.4)
    assert verdict([unknown], "Jira: incremental").met is None


def test_mspdi_is_compared_like_for_like_and_memory_with_the_file() -> None:
    parse = row(targets.MSPDI_PARSE, 100_000, 7.0)
    mpxj = row(targets.MSPDI_MPXJ, 100_000, 12.0)
    ours = row(targets.MSPDI_PMSYNC, 100_000, 9.0, peak_mb=500, file_mb=340.0)
    via_mpxj = row(targets.MSPDI_CONNECTOR_MPXJ, 100_000, 40.0)
    assert verdict([parse, mpxj, ours, via_mpxj], "MSPDI").met is True
    bloated = row(targets.MSPDI_PMSYNC, 100_000, 9.0, peak_mb=1400, file_mb=340.0)
    assert verdict([parse, mpxj, bloated, via_mpxj], "MSPDI").met is False
    slow_parse = row(targets.MSPDI_PARSE, 100_000, 13.0)
    assert verdict([slow_parse, mpxj, ours, via_mpxj], "MSPDI").met is False
    slow_records = row(targets.MSPDI_PMSYNC, 100_000, 41.0, peak_mb=500, file_mb=340.0)
    assert verdict([parse, mpxj, slow_records, via_mpxj], "MSPDI").met is False
    assert verdict([parse, mpxj, ours], "MSPDI").met is None


def test_sizes_not_run_are_extrapolated_linearly_and_say_so() -> None:
    rows = [
        row(targets.REPORT_BUILD, 500, 4.0),
        row(targets.REPORT_RENDER, 500, 6.0),
        row(targets.REPORT_PDF_WEASYPRINT, 125, 50.0),
    ]
    without_pdf = verdict(rows, "Report: 500-project portfolio built")
    with_pdf = verdict(rows, "Report: 500-project portfolio, all formats (PDF by WeasyPrint")
    assert without_pdf.met is True
    assert with_pdf.met is False
    assert "~200 s (extrapolated from 50.0 s at 125)" in with_pdf.evidence
    finance = verdict([row(targets.FINANCE_READ, 500_000, 20.0)], "Finance: 10^6 lines read")
    assert finance.met is True and "extrapolated" in finance.evidence
    # never scaled down from a larger size: 2x10^6 lines in 100 s says nothing of 10^6 in 60 s
    larger = verdict([row(targets.FINANCE_READ, 2_000_000, 100.0)], "Finance: 10^6 lines read")
    assert larger.met is None


def test_the_default_pdf_is_judged_and_names_the_engine_it_resolved_to() -> None:
    rows = [row(targets.REPORT_BUILD, 500, 10.0), row(targets.REPORT_RENDER, 500, 4.0)]
    default = "Report: 500-project portfolio, all formats, default PDF (tagged, by chromium)"
    fast = verdict([*rows, row(targets.REPORT_PDF, 500, 15.0, engine="chromium", tagged=1)], default)
    slow = verdict([*rows, row(targets.REPORT_PDF, 500, 38.0, engine="chromium", tagged=1)], default)
    assert (fast.met, slow.met) == (True, False)
    assert "= 29.0 s" in fast.evidence
    # what tagging costs is shown beside it, never judged on its own
    untagged = row(targets.REPORT_PDF_UNTAGGED, 500, 9.0, engine="chromium", tagged=0)
    both = verdict([*rows, row(targets.REPORT_PDF, 500, 15.0, engine="chromium"), untagged], default)
    assert "(the PDF untagged: 9.0 s)" in both.evidence
    assert len([v for v in targets.verdicts([*rows, untagged]) if "untagged" in v.evidence]) == 0
    # a machine without Chromium: the default is WeasyPrint, and the line says so
    fallback = row(targets.REPORT_PDF, 500, 300.0, engine="weasyprint")
    assert (
        verdict(
            [*rows, fallback],
            "Report: 500-project portfolio, all formats, default PDF (tagged, by weasyprint)",
        ).met
        is False
    )
    # WeasyPrint's own stage is judged only when the default was not measured
    weasyprint = row(targets.REPORT_PDF_WEASYPRINT, 125, 50.0)
    judged = [v.target for v in targets.verdicts([*rows, row(targets.REPORT_PDF, 500, 15.0), weasyprint])]
    assert not [t for t in judged if "WeasyPrint, the fallback" in t]
    nothing = verdict(rows, "Report: 500-project portfolio, all formats")
    assert nothing.met is None and targets.REPORT_PDF in nothing.evidence


def test_the_whole_report_command_is_judged_when_it_ran() -> None:
    assert not [v for v in targets.verdicts([]) if "pmsync report" in v.target]
    command = "Report: `pmsync report` for 500 projects"
    met = verdict([row(targets.REPORT_COMMAND, 500, 23.5, engine="chromium")], command)
    assert met.met is True and "by chromium" in met.target
    slow = verdict([row(targets.REPORT_COMMAND, 250, 20.0)], command)
    assert slow.met is False and "~40 s (extrapolated from 20.0 s at 250)" in slow.evidence
    # the CPU seconds say what the run cost on a machine other work kept busy
    loaded = row(targets.REPORT_COMMAND, 500, 45.0, cpu_pmsync_s=30.5, cpu_started_s=40.0, pages=3000)
    evidence = verdict([loaded], command).evidence
    assert (
        evidence == "45.0 s (70.5 CPU s at 500: pmsync 30.5 + the processes it started 40.0; PDF 3,000 pages)"
    )


def test_the_tap_jira_comparison_states_both_ratios_and_needs_both_stages() -> None:
    ours = row(targets.JIRA_HTTPS, 10_000, 10.0, http_requests=100)
    theirs = row(targets.TAP_JIRA, 10_000, 40.0, http_requests=203)
    met = verdict([ours, theirs], "Jira vs tap-jira 2.6.0 at 10,000")
    assert met.met is True and "4.00x the issues/s" in met.evidence and "0.49x the requests" in met.evidence
    slow = verdict(
        [row(targets.JIRA_HTTPS, 10_000, 20.0, http_requests=100), theirs], "Jira vs tap-jira 2.6.0 at 10,000"
    )
    assert slow.met is False and "2.00x the issues/s" in slow.evidence
    assert verdict([ours], "Jira vs tap-jira 2.6.0 at 10,000").met is None
    assert verdict([ours, theirs], "Jira vs tap-jira 2.6.0 at 20,000").met is None


def test_a_resync_is_judged_against_the_changed_files_read_time() -> None:
    stage = targets.FINANCE_RESYNC[0]
    assert verdict([row(stage, 100_000, 2.3, read_seconds=2.0)], stage + " at 100,000").met is True
    assert verdict([row(stage, 100_000, 2.5, read_seconds=2.0)], stage + " at 100,000").met is False
    assert verdict([row(stage, 100_000, 2.5)], stage + " at 100,000").met is None  # no read time
    assert verdict([], stage + " at 1,000,000").met is None


def test_a_first_load_is_judged_against_the_bare_loop_at_the_largest_size_both_ran() -> None:
    rows = [
        row(targets.FINANCE_SQLITE, 125_000, 4.0),
        row(targets.FINANCE_BARE_SQLITE, 125_000, 1.0),
        row(targets.FINANCE_SQLITE, 1_000_000, 30.0),
        row(targets.FINANCE_BARE_SQLITE, 1_000_000, 10.0),
    ]
    found = verdict(rows, "Finance first load into SQLite")
    assert found.met is True and "1,000,000" in found.evidence  # 10 / 30 = 0.33x
    assert verdict(rows[:2], "Finance first load into SQLite").met is False  # 0.25x
    assert verdict(rows[:1], "Finance first load into SQLite").met is None


def test_lxml_is_called_for_only_when_about_twice_as_fast() -> None:
    std = row(targets.MSPDI_SCAN_STDLIB, 100_000, 10.0)
    assert verdict([std, row(targets.MSPDI_SCAN_LXML, 100_000, 8.0)], "XML parser for MSPDI").met is True
    assert verdict([std, row(targets.MSPDI_SCAN_LXML, 100_000, 5.0)], "XML parser for MSPDI").met is False
    assert verdict([std], "XML parser for MSPDI").met is None


def test_the_pack_summary_is_judged_from_the_pdf_bookmarks_and_never_assumed() -> None:
    pdf = targets.REPORT_PDF
    assert verdict([], "Report: each project's summary").met is None
    fits = [
        row(pdf, 8, 10.0, summary_pages_max=1, pages_per_project=8.9),
        row(pdf, 16, 20.0, summary_pages_max=2),
    ]
    assert verdict(fits, "Report: each project's summary").met is True
    assert "2 page(s) at 16 projects" in verdict(fits, "Report: each project's summary").evidence
    too_long = [row(pdf, 16, 20.0, summary_pages_max=3)]
    assert verdict(too_long, "Report: each project's summary").met is False
    # the committee's front page is one page
    front_spills = [row(pdf, 16, 20.0, summary_pages_max=1, front_pages=2)]
    assert verdict(front_spills, "Report: each project's summary").met is False
    assert "front page 2 page(s)" in verdict(front_spills, "Report: each project's summary").evidence
    assert (
        verdict(
            [row(pdf, 16, 20.0, summary_pages_max=1, front_pages=1)], "Report: each project's summary"
        ).met
        is True
    )
    # a PDF without bookmarks cannot show its summaries' length: said, never passed
    unmarked = verdict(
        [row(pdf, 16, 20.0, summary_pages_max=0, front_pages=0)], "Report: each project's summary"
    )
    assert unmarked.met is False and "no project summary among the PDF's bookmarks" in unmarked.evidence


def test_the_latency_targets_need_their_sizes_and_state_the_memory_ratio() -> None:
    small = row(targets.JIRA_LATENCY, 10_000, 6.0, peak_mb=100.0, http_requests=110)
    fast = row(targets.JIRA_LATENCY, 100_000, 45.0, peak_mb=108.0, http_requests=1_100)
    assert verdict([fast], "Jira at 200 ms per request: 10^5").met is True
    slow = row(targets.JIRA_LATENCY, 100_000, 75.0, peak_mb=108.0, http_requests=1_100)
    assert verdict([slow], "Jira at 200 ms per request: 10^5").met is False
    flat = verdict([small, fast], "Jira at 200 ms per request: peak")
    assert flat.met is True and "1.08x" in flat.evidence
    grown = row(targets.JIRA_LATENCY, 100_000, 45.0, peak_mb=126.0, http_requests=1_100)
    assert verdict([small, grown], "Jira at 200 ms per request: peak").met is False
    assert verdict([fast], "Jira at 200 ms per request: peak").met is None
    assert verdict([small], "Jira at 200 ms per request: 10^5").met is None


def test_the_large_ledger_report_is_judged_at_each_size_with_its_cpu_and_bare_loop_ratio() -> None:
    stage = targets.REPORT_LEDGER
    rows = [row(stage, 1_000_000, 8.0, cpu_s=7.5, bare_scan_s=2.0)]
    found = verdict(rows, "Report: 200 projects over 1,000,000 cost lines")
    assert found.met is True
    assert (
        "8.0 s" in found.evidence and "7.5 s CPU" in found.evidence and "4.0x the bare loop" in found.evidence
    )
    assert verdict([row(stage, 1_000_000, 12.0)], "Report: 200 projects over 1,000,000").met is False
    # 10^7 not run: extrapolated linearly from the largest size (8 s x 10 = 80 s), and it says so
    big = verdict(rows, "Report: 200 projects over 10,000,000 cost lines")
    assert big.met is False and "extrapolated" in big.evidence and "at 1,000,000" in big.evidence
    assert verdict([row(stage, 10_000_000, 29.0)], "Report: 200 projects over 10,000,000").met is True
    # only 10^7 run: 10^6 is not measured, not "~7 s" scaled down from 72 s and judged met
    only_big = verdict(
        [row(stage, 10_000_000, 72.0, bare_scan_s=13.0)], "Report: 200 projects over 1,000,000"
    )
    assert only_big.met is None and "at 1000000" in only_big.evidence
    assert verdict([], "Report: 200 projects over 1,000,000").met is None
    assert (
        verdict([row(stage, 1_000_000, 5.0, error="boom")], "Report: 200 projects over 1,000,000").met is None
    )


def test_a_size_between_two_run_is_interpolated_and_larger_runs_alone_judge_nothing() -> None:
    command = "Report: `pmsync report` for 500 projects"
    # 10 s at 250 and 100 s at 1000: not "~20 s, met" from the smaller alone, but ~40 s
    both = [
        row(targets.REPORT_COMMAND, 250, 10.0, cpu_pmsync_s=5.0, cpu_started_s=10.0),
        row(targets.REPORT_COMMAND, 1000, 100.0, cpu_pmsync_s=50.0, cpu_started_s=100.0),
    ]
    between = verdict(both, command)
    assert between.met is False
    assert "~40 s (interpolated between 10.0 s at 250 and 100.0 s at 1,000)" in between.evidence
    assert "15.0 CPU s at 250" in between.evidence  # the CPU of a row the figure came from
    # run only at a larger size: the target is shown as not measured, not left out
    only_larger = verdict([row(targets.REPORT_COMMAND, 1000, 20.0)], command)
    assert only_larger.met is None and "at 500" in only_larger.evidence
    # the default PDF run only at 1000: not judged by WeasyPrint's small run instead
    rows = [
        row(targets.REPORT_BUILD, 500, 4.0),
        row(targets.REPORT_RENDER, 500, 6.0),
        row(targets.REPORT_PDF, 1000, 20.0, engine="chromium"),
        row(targets.REPORT_PDF_WEASYPRINT, 125, 50.0),
    ]
    judged = [v for v in targets.verdicts(rows) if "all formats" in v.target]
    assert [(v.met, "WeasyPrint" in v.target) for v in judged] == [(None, False)]
