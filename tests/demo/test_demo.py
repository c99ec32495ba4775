"""`pmsync demo` and `pmsync sandbox`: what a newcomer sees in the first ten minutes."""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
import unicodedata
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pmsync.cli import cli
from pmsync.config import load_config
from pmsync.demo.portfolio import DEMO_PERIODS, PROJECTS, period_end, report_moment
from pmsync.report.build import build_report
from pmsync.report.period import Period, ReportingCalendar
from pmsync.store import Store


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo") / "pmsync-demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(workdir), "--format", "html,xlsx,json"])
    assert result.exit_code == 0, result.output
    return workdir, result.output


def test_demo_prints_where_every_report_is(demo_run: tuple[Path, str]) -> None:
    workdir, output = demo_run
    for period in DEMO_PERIODS:
        for suffix in ("html", "xlsx", "json"):
            path = workdir / "reports" / period / f"report-{period}.{suffix}"
            assert str(path) in output
            assert path.stat().st_size > 1000
    assert f"config:  {workdir / 'pmsync.yaml'}" in output


def test_demo_report_covers_every_project_with_its_status_in_words(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    last = DEMO_PERIODS[-1]
    parser = _Text()
    parser.feed((workdir / "reports" / last / f"report-{last}.html").read_text(encoding="utf-8"))
    text = " ".join(parser.chunks)
    for project in PROJECTS:
        assert project.name in text
    report = json.loads((workdir / "reports" / last / f"report-{last}.json").read_text())
    assert {row["key"] for row in report["portfolio"]} == {p.key for p in PROJECTS}
    assert all(row["overall"]["explanation"] for row in report["portfolio"])


def test_demo_syncs_every_source_each_period_and_records_the_rebaseline(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    config = load_config(workdir / "pmsync.yaml", env={**os.environ, **_demo_env()})
    with Store.open(config.store_url()) as store:
        runs = store.sync_runs(limit=100)
        by_source: dict[str, int] = {}
        for run in runs:
            assert run.status == "ok", run
            by_source[run.source_name] = by_source.get(run.source_name, 0) + 1
        # first sync, then per period: the month-end sync and the early sync before the pack is built
        assert by_source == {s.name: 1 + 2 * len(DEMO_PERIODS) for s in config.sources}
    from pmsync.reconcile.baselines import BaselineRegister

    with Store.open(config.store_url()) as store:
        history = BaselineRegister(store, "GRANTS").history()
        assert any("CR-2026-014" in json.dumps(event.model_dump(mode="json")) for event in history)


def test_demo_reports_each_month_a_few_working_days_after_it_closes(demo_run: tuple[Path, str]) -> None:
    """The demo builds each pack on the 3rd working day of the next month, after Jira moved on and new
    issues were filed: the report still describes the month's last day."""
    workdir, _ = demo_run
    config = load_config(workdir / "pmsync.yaml", env={**os.environ, **_demo_env()})
    for period in DEMO_PERIODS:
        report = json.loads((workdir / "reports" / period / f"report-{period}.json").read_text())
        meta = report["meta"]
        built_on = report_moment(period)
        assert meta["status_date"] == Period.parse(period).end.isoformat()
        # the newest data is from the early sync of the next month, yet the state is the month end's
        assert meta["store"]["data_through"][:10] == built_on.date().isoformat()
        assert meta["store"]["valid_at"][:10] == meta["status_date"] and meta["gaps"] == []
        # what Jira did after the month closed (issues moved on, new ones filed) changes nothing in it:
        # the figures equal those of the same report built as the month closed (after its last sync)
        month = Period.parse(period)
        closed = ReportingCalendar(config.reporting).status_moment(month)
        assert period_end(period) < closed < report_moment(period)
        with Store.open(config.store_url()) as store:
            at_close = build_report(store, config, month, as_of=closed)
        for project in report["projects"]:
            then = next(p for p in at_close.projects if p.key == project["key"]).measures
            now = project["measures"]
            for part in ("rag", "schedule", "cost", "evm", "scope"):
                assert now[part] == json.loads(then.model_dump_json())[part], (period, project["key"], part)


def test_demo_publishes_each_period_to_the_sandbox_sharepoint(demo_run: tuple[Path, str]) -> None:
    workdir, output = demo_run
    assert output.count("published:") == len(DEMO_PERIODS)


def test_demo_config_is_copyable_and_holds_no_secret(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    text = (workdir / "pmsync.yaml").read_text()
    assert "sandbox-api-token" not in text and "sbx~" not in text
    raw = yaml.safe_load(text)
    kinds = {s["type"] for s in raw["sources"]}
    assert kinds == {"jira", "msproject", "planner", "dataverse", "finance_file", "oversight_file"}
    # The secrets are in files beside it that only their owner can read, named by *_file keys.
    secret_keys = {
        key: value
        for source in raw["sources"]
        for key, value in source.items()
        if key.endswith(("token_file", "secret_file"))
    }
    assert set(secret_keys) == {"api_token_file", "client_secret_file"}
    for relative in secret_keys.values():
        secret = workdir / relative
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text().strip()


def test_every_next_step_the_demo_prints_works_as_printed(
    demo_run: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox has stopped and no secret is exported: what the demo suggests still runs."""
    workdir, output = demo_run
    steps = [line.strip() for line in output.split("next:", 1)[1].splitlines()[1:] if line.strip()]
    assert len(steps) >= 4 and all(step.startswith("pmsync --config ") for step in steps)
    for name in [k for k in os.environ if k.startswith("PMSYNC")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(workdir.parent)  # where `pmsync demo` was run from
    for step in steps:
        result = CliRunner().invoke(cli, shlex.split(step)[1:])
        assert result.exit_code == 0, (step, result.output)
    assert "plan of record" in CliRunner().invoke(cli, shlex.split(steps[1])[1:]).output


def test_demo_refuses_a_folder_it_did_not_make_and_keeps_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pmsync.yaml").write_text("projects: []\n")
    (tmp_path / "pmsync.db").write_bytes(b"precious")
    for folder in (".", str(tmp_path)):
        result = CliRunner().invoke(cli, ["demo", "--dir", folder])
        assert result.exit_code == 2, result.output  # a bad --dir is a usage error
        assert "not empty and was not made by `pmsync demo`" in result.output and "--force" in result.output
    assert (tmp_path / "pmsync.db").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pmsync.db", "pmsync.yaml"]


def test_demo_never_empties_a_folder_holding_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "project" / "work"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "project"), "--force"])
    assert result.exit_code == 2 and "contains the current directory" in result.output
    assert inner.is_dir()


def test_demo_folder_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """New and empty folders are used; a folder an earlier demo made is emptied (the folder itself,
    e.g. the working directory, stays); --force empties any other folder."""
    from pmsync.demo.runner import MARKER, prepare_workdir

    monkeypatch.chdir(tmp_path)
    prepare_workdir(tmp_path / "new")
    assert (tmp_path / "new" / MARKER).is_file()
    (tmp_path / "new" / "old-report.html").write_text("from the last demo")
    prepare_workdir(tmp_path / "new")
    assert [p.name for p in (tmp_path / "new").iterdir()] == [MARKER]

    (tmp_path / "keep.txt").write_text("mine")
    prepare_workdir(Path("."), force=True)  # the working directory is emptied, never removed
    assert Path.cwd() == tmp_path and [p.name for p in tmp_path.iterdir()] == [MARKER]


def _demo_env() -> dict[str, str]:
    return {}


def _start_sandbox(tmp_path: Path, base_port: int) -> tuple[subprocess.Popen[str], str]:
    """``pmsync sandbox --port base_port``; returns the process and what it printed up to "serving"."""
    stderr = (tmp_path / "sandbox.err").open("a")
    process = subprocess.Popen(
        [sys.executable, "-m", "pmsync", "sandbox", "--dir", str(tmp_path / "sbx"), "--jira-issues", "20"]
        + ["--port", str(base_port)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    stderr.close()
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("    client_secret_file") and any(x.startswith("publish:") for x in lines):
            break
    return process, "".join(lines)


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)


def _free_base_port() -> int:
    """Four consecutive free ports on 127.0.0.1 (other test runs may share this machine)."""
    import random
    import socket

    for _ in range(50):
        base = random.randrange(20000, 60000)
        sockets = []
        try:
            for port in range(base, base + 4):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no four consecutive free ports")


def test_sandbox_snippet_pastes_into_the_init_file_and_keeps_working_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pmsync sandbox` serves until stopped; its printed snippet, pasted at the end of the file
    `pmsync init` writes, checks and syncs, and still does after the sandbox is restarted."""
    from pmsync.sandbox.finance_gen import write_monthly_exports

    base = _free_base_port()
    process, output = _start_sandbox(tmp_path, base)
    try:
        assert f"Jira (cloud):      http://127.0.0.1:{base}\n" in output, output
        snippet = output.split("# pmsync.yaml: paste at the end", 1)[1]
        snippet = "# pmsync.yaml: paste at the end" + snippet
        monkeypatch.chdir(tmp_path)
        runner = CliRunner()
        assert runner.invoke(cli, ["init"]).exit_code == 0
        path = tmp_path / "pmsync.yaml"
        path.write_text(path.read_text().rstrip("\n") + "\n" + snippet)  # pasted as printed
        write_monthly_exports(tmp_path / "finance-exports", projects=("P-100",), months=1, lines_per_month=5)
        doctor = runner.invoke(cli, ["doctor"])
        assert doctor.exit_code == 0, doctor.output
        assert "sharepoint: list 'Project Status'" in doctor.output
        synced = runner.invoke(cli, ["sync"])
        assert synced.exit_code == 0, synced.output
    finally:
        _stop(process)
    assert process.returncode == 0, (tmp_path / "sandbox.err").read_text()

    process, again = _start_sandbox(tmp_path, base)
    try:
        assert again.split("# pmsync.yaml", 1)[1] == output.split("# pmsync.yaml", 1)[1]  # same URLs, files
        synced = CliRunner().invoke(cli, ["sync", "-s", "jira", "-s", "planner"])
        assert synced.exit_code == 0, synced.output
    finally:
        _stop(process)


def test_sandbox_port_in_use_is_a_clear_usage_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["sandbox", "--dir", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert (
        f"cannot listen on 127.0.0.1 ports {port}-{port + 3}" in result.output and "--port 0" in result.output
    )


def test_demo_shows_figures_a_committee_can_defend(demo_run: tuple[Path, str]) -> None:
    """Each case of issue 22 appears in the last period's report: a High/High risk rated high, a
    project whose commitments push its forecast over budget rated on cost, an under-run worded as one,
    a restated month disclosed, finished projects apart, and Jira backlogs forecast from throughput."""
    workdir, _ = demo_run
    last = DEMO_PERIODS[-1]
    report = json.loads((workdir / "reports" / last / f"report-{last}.json").read_text())
    projects = {p["key"]: p for p in report["projects"]}
    rows = {r["key"]: r for r in report["portfolio"]}
    # High (5) x High (5) = 25 on the shipped 1-5 scales: high at the default threshold 15
    portal = projects["PORTAL"]["measures"]
    assert portal["risk"]["high_risks"] >= 1 and portal["rag"]["risk"]["status"] != "green"
    # TEL: BAC / CPI is below actual + open commitments, so the forecast is raised and rated over budget
    tel = projects["TEL"]["measures"]["cost"]
    assert tel["forecast_raised_to_floor"]
    assert tel["forecast_at_completion"] == tel["committed_floor"]
    assert "over budget" in projects["TEL"]["measures"]["rag"]["cost"]["headline"]
    # DCX: an under-run is worded as one, with figure, sign and threshold in the portfolio's Why
    assert "cost: forecast" in rows["DCX"]["overall"]["explanation"]
    assert "% under budget (threshold ±" in rows["DCX"]["overall"]["explanation"]
    # the restated August invoice is disclosed with amount, month and line
    restated = [c for c in report["changes"] if c["kind"] == "restatement"]
    assert [(c["project"], c["period"], c["amount"]) for c in restated] == [("ERP", "2026-08", "-49856.28")]
    assert restated[0]["records"]
    # finished projects are closing, apart from active work and never "needing attention"
    closing = {k for k, r in rows.items() if r["lifecycle"] == "closing"}
    assert {"SOC", "TEL", "WIFI", "M365"} <= closing
    assert not any(rows[k]["needs_attention"] for k in closing)
    # Jira backlogs: a throughput forecast with a 50 / 85 % range, never the status date
    for key in ("PORTAL", "GRANTS", "DATA"):
        schedule = projects[key]["measures"]["schedule"]
        assert schedule["forecast_method"] == "throughput", key
        flow = schedule["flow_forecast"]
        assert flow["p50_finish"] <= flow["p85_finish"] == schedule["current_finish"], key
        assert schedule["current_finish"] > report["meta"]["status_date"], key
    # GRANTS was re-baselined (CR-2026-014): the original and the current baseline side by side
    original, current = projects["GRANTS"]["measures"]["baseline_comparison"]
    assert (original["role"], current["role"]) == ("original", "current")
    assert original["baseline_finish"] < current["baseline_finish"]
    assert original["finish_variance_working_days"] > current["finish_variance_working_days"]
    # the same forecast against both: the gap is the weekdays between the two baseline finishes,
    # 2026-09-13 to 2026-11-25 counted by hand: 13 in September + 22 in October + 18 in November
    assert (original["baseline_finish"], current["baseline_finish"]) == ("2026-09-13", "2026-11-25")
    assert original["finish_variance_working_days"] - current["finish_variance_working_days"] == 53
    # this period's figures beside the cumulative ones
    erp_period = projects["ERP"]["measures"]["evm"]["this_period"]
    assert erp_period["end"] == report["meta"]["status_date"] and erp_period["ac"] is not None
    # budget periods are labelled by month and the forecast per period adds up to the forecast
    cost = projects["DCX"]["measures"]["cost"]
    assert all(row["month"] for row in cost["by_category"]) and cost["forecast_phasing"]
    total = sum(Decimal(row["forecast"]) for row in cost["by_category"])
    assert abs(total - Decimal(cost["forecast_at_completion"])) < Decimal("0.05") * len(cost["by_category"])
    # one % complete per project, with its basis named
    assert all(r["percent_complete_basis"] for r in rows.values())
    # only the exceptions the demo means: one ERP status mismatch, and the unowned P-199 spend
    found = [(k, e["kind"]) for k, p in projects.items() for e in p["measures"]["exceptions"]]
    assert found == [("ERP", "status_mismatch")]
    assert [e["kind"] for e in report["rollup"]["exceptions"]] == ["unowned_spend"]


def test_demo_carries_the_oversight_pack_in_every_format(demo_run: tuple[Path, str]) -> None:
    """Issue 27 in the last period's report: criticality, gates, a CIO override, open findings, a
    contract nearing its value and a tripped Special Project Report trigger, in JSON, HTML and XLSX."""
    import openpyxl

    workdir, _ = demo_run
    last = DEMO_PERIODS[-1]
    folder = workdir / "reports" / last
    report = json.loads((folder / f"report-{last}.json").read_text())
    erp = next(p for p in report["projects"] if p["key"] == "ERP")["oversight"]
    # criticality on California's sheet (SIMM 45's four factors): 3 + 2 + 3 + 3 = 11, high from 10
    assert (erp["criticality"]["level"], erp["criticality"]["score"]) == ("high", 11)
    assert (erp["current_gate"], erp["next_gate"]) == ("Gate 2 design", "Gate 3 build")
    assert erp["funds_released"] == "3200000"
    assert [g["state"] for g in erp["gates"]] == ["passed", "passed_with_conditions", "overdue"]
    # the CIO's 2 (red) overrides the computed amber; both are in the report
    assert (erp["cio"]["rating"], erp["effective_overall"]["status"]) == (2, "red")
    assert erp["computed_overall"]["status"] == "amber"
    net = next(r for r in report["portfolio"] if r["key"] == "NET")
    assert (net["cio_rating"], net["effective_overall"], net["overall"]["status"]) == (3, "amber", "green")
    # one high IV&V finding open and past its corrective action date; the closed one is not open
    assert (erp["open_findings"], erp["overdue_findings"], len(erp["findings"])) == (1, 1, 2)
    # the integrator's contract: 322,000 + amendment 40,000, paid by invoice, nearing its value
    [contract] = erp["contracts"]
    assert contract["current_value"] == "362000" and contract["nearing_value"]
    assert 90 <= contract["burn_percent"] <= 100
    # benefits: 1,500 hours realised of 2,000 due by September 30: -25 %, the SPR trigger trips
    benefits = next(t for t in erp["triggers"] if t["dimension"] == "benefits")
    assert benefits["tripped"] and benefits["figure_percent"] == -25.0
    assert "re-approval required (Special Project Report)" in benefits["explanation"]
    assert erp["reapproval_required"]
    # staffing: 10 developers + 2 analysts in October against 14 planned
    assert (erp["staffing"]["actual_fte"], erp["staffing"]["variance_fte"]) == ("12", "-2")
    front = report["front_page"]
    assert front["preset"] == "california" and "4819.36" in front["preset_source"]
    assert any(i["project"] == "ERP" and "Gate 3 build" in i["text"] for i in front["decisions_needed"])

    parser = _Text()
    parser.feed((folder / f"report-{last}.html").read_text(encoding="utf-8"))
    text = " ".join(parser.chunks)
    assert text.index("Committee summary") < text.index("Appendix A — full detail")
    assert "Re-approval required" in text and "CIO rating 2 (red) of 2026-08-25" in text
    assert "No performance test of the payroll run before parallel run" in text
    front = text[text.index("Committee summary") : text.index("Escalation triggers tripped")]
    assert "NET" in front, "the CIO's amber puts NET on the front page though its computed status is green"
    # GRANTS's summary sets cost and schedule against its original and its current baseline
    grants = next(p for p in report["projects"] if p["key"] == "GRANTS")["measures"]["baseline_comparison"]
    start = text.index("GRANTS — Grants management system")
    summary = " ".join(text[start : text.index("Top risks", start)].split())
    for b in grants:
        row = f"{b['role'].capitalize()} (baseline {b['number']}) {b['baseline_finish']} "
        assert row + f"{b['finish_variance_working_days']:+d}" in summary, row

    wb = openpyxl.load_workbook(folder / f"report-{last}.xlsx")
    assert {"Front page", "Oversight", "Gates", "Findings", "Contracts", "Funding", "Triggers"} <= set(
        wb.sheetnames
    )
    overview = {row[0].value: row for row in wb["Oversight"].iter_rows(min_row=2)}
    assert overview["ERP"][3].value == 2 and overview["ERP"][16].value == "required"
    contracts = [row for row in wb["Contracts"].iter_rows(min_row=2, values_only=True)]
    assert contracts[0][0] == "ERP" and contracts[0][10] is True
    # funding by source and fiscal year, staffing and benefits: in the JSON, the HTML and the XLSX
    funding = {(f["source"], f["fiscal_year"]): f for f in erp["funding"]}
    assert set(funding) == {("Special Fund", 2026), ("General Fund", 2027), ("Federal", 2027)}
    assert all(f["spent"] is not None for f in funding.values())
    assert "Funding by source and fiscal year" in text and "Staffing 2026-10: planned 14 FTE" in text
    assert "Benefits planned and realised" in text and "Invoice processing hours saved" in text
    sheets = {
        name: list(wb[name].iter_rows(min_row=2, values_only=True))
        for name in ("Funding", "Staffing", "Benefits")
    }
    assert len(sheets["Funding"]) == 3 and sheets["Staffing"][0][:4] == (
        "ERP",
        sheets["Staffing"][0][1],
        14,
        12,
    )
    assert {row[1] for row in sheets["Benefits"]} == {
        "Invoice processing hours saved",
        "Legacy licences retired",
    }


def test_the_demo_pdf_is_the_pack_front_page_summaries_then_appendix(
    demo_run: tuple[Path, str], tmp_path: Path
) -> None:
    """The demo's last report printed by the default PDF engine (``pdf_engine: auto``) from the
    demo's own report model (the JSON is that model; the demo prints its PDF from it the same way
    with --format pdf): a one-page committee front page, a one- or two-page summary per project,
    then appendix A."""
    pytest.importorskip("pikepdf", reason="the pdf extra is not installed (pikepdf numbers the pages)")
    import pypdf

    from pmsync.report.model import Report
    from pmsync.report.writers import write_report

    workdir, _ = demo_run
    last = DEMO_PERIODS[-1]
    report = Report.model_validate_json((workdir / "reports" / last / f"report-{last}.json").read_text())
    (path,) = write_report(report, tmp_path, ["pdf"])
    pdf = pypdf.PdfReader(path)
    marks: list[tuple[str, int, int]] = []

    def walk(items: list[object], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                marks.append((item.title, pdf.get_destination_page_number(item), level))  # type: ignore[attr-defined]

    walk(pdf.outline, 0)
    pages = len(pdf.pages)

    def length(n: int) -> int:
        _, page, level = marks[n]
        return next((p for _, p, lv in marks[n + 1 :] if lv <= level), pages) - page

    titles = [t for t, _, _ in marks]
    front = next(n for n, t in enumerate(titles) if t.startswith("Committee summary"))
    appendix = titles.index("Appendix A — full detail")
    assert marks[front][1] == 0 and length(front) == 1, "the committee's front page is page 1, alone"
    heads = {f"{p.key} — {p.name}" for p in report.projects}
    summaries = [n for n, t in enumerate(titles[:appendix]) if t in heads]
    assert {titles[n] for n in summaries} == heads, "every project has a summary before the appendix"
    assert all(1 <= length(n) <= 2 for n in summaries), [(titles[n], length(n)) for n in summaries]
    assert {t for t in titles[appendix:] if t in heads} == heads, "and its full detail in the appendix"

    def page_text(n: int) -> str:
        # NFKC undoes the ligatures a PDF engine may set ("ﬁ" in "Beneﬁts")
        return unicodedata.normalize("NFKC", pdf.pages[n].extract_text())

    front_text = page_text(0)
    for words in ("Committee summary", "Escalation triggers tripped", "re-approval required", "ERP"):
        assert words in front_text, words
    assert "CIO rating 2 (red) of 2026-08-25" in front_text, "the CIO override is on the front page"
    erp = next(n for n in summaries if titles[n].startswith("ERP"))
    erp_text = " ".join(page_text(p) for p in range(marks[erp][1], marks[erp][1] + length(erp)))
    erp_text = " ".join(erp_text.split())
    for words in (
        "Criticality high",
        "Gate passed Gate 2 design",
        "CIO rating 2 of 5",
        "Overall (computed)",
        "Original = current (baseline",
        "Benefits (hours): TRIPPED",
        "(nearing value)",
        "No performance test of the payroll run",
        "Gate 3 build: planned 2026-10-15, no decision recorded",
    ):
        assert words in erp_text, words
