"""The writers, from a hand-made report model: what a committee member, an Excel user, a PDF reader and a
dashboard builder each get, and that hostile text from a source cannot do harm in any of them."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pmsync.errors import ReportError
from pmsync.report.writers import parse_formats, write_report
from pmsync.report.writers.html import render_html
from pmsync.report.writers.json import json_text, schema_text, shipped_schema_text
from pmsync.report.writers.xlsx import xlsx_bytes

from .htmlcheck import parse
from .sample import HYPERLINK, PLUS_CMD, XSS, sample_report


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(sample_report())


def test_html_escapes_script_from_sources(html: str) -> None:
    page = parse(html)
    assert page.find("script") == []
    assert all("onerror" not in e.attrs for e in page.elements)
    # the hostile text is shown to the reader as text, not swallowed
    assert XSS in page.text


def test_html_is_self_contained(html: str) -> None:
    page = parse(html)
    for element in page.elements:
        for name in ("src", "href"):
            value = element.attrs.get(name)
            assert value is None or value.startswith(("#", "data:")), (element.tag, name, value)
    assert page.find("link") == []
    csp = [e for e in page.find("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0].attrs["content"] or "")


def test_html_is_accessible_rag_is_a_word_and_tables_have_scoped_headers(html: str) -> None:
    page = parse(html)
    assert page.find("html")[0].attrs.get("lang") == "en"
    assert len(page.find("h1")) == 1
    assert {"ERP — ERP upgrade", "WEB — Public website", "Portfolio overview"} <= {
        h.text for h in page.find("h2")
    }
    headers = page.find("th")
    assert headers and all(h.attrs.get("scope") in ("col", "row") for h in headers)
    assert all(t.text.strip() for t in page.find("caption"))
    badges = [e for e in page.find("span") if "rag" in (e.attrs.get("class") or "").split()]
    assert badges and all(b.text in ("Red", "Amber", "Green", "Not rated") for b in badges)
    for svg in page.find("svg"):
        assert svg.attrs.get("role") == "img" and svg.attrs.get("aria-labelledby")


def test_html_portfolio_puts_projects_needing_attention_first(html: str) -> None:
    # the portfolio table (in the full detail; the front page lists the same order)
    page = parse(html[html.index('class="portfolio-table"') :])
    rows = [th.text for th in page.find("th") if th.attrs.get("scope") == "row"]
    assert rows[0].startswith("ERP") and rows[1].startswith("WEB")
    assert "▼ Worsening" in page.text


def test_html_shows_no_narrative_when_none_was_provided(html: str) -> None:
    page = parse(html)
    assert "No narrative provided." in page.text  # WEB has none
    assert "Cutover slipped two weeks." in page.text  # ERP's comes from its file


def test_html_warns_about_stale_sources_at_the_top(html: str) -> None:
    page = parse(html)
    warning = next(p for p in page.find("p") if "warning" in (p.attrs.get("class") or ""))
    assert warning.text.startswith("Stale data: finance was not synced successfully within 72 hours")


def test_html_names_the_tasks_a_failed_health_check_flagged(html: str) -> None:
    assert "Flagged: Task 20; Task 21; Task 22; Task 23; Task 24 and 2 more" in parse(html).text


def test_html_prints_each_project_on_its_own_page(html: str) -> None:
    assert ".project, .appendix, .summary, .detail-start { break-before: page; }" in html


def test_template_override_replaces_logo_and_adds_sections(tmp_path: Path) -> None:
    (tmp_path / "logo.html.j2").write_text('<p class="agency">Department of Examples</p>')
    (tmp_path / "extra_sections.html.j2").write_text(
        "<section><h2>Sign-off</h2><p>{{ report.projects | length }} projects reviewed</p></section>"
    )
    page = parse(render_html(sample_report(), templates_dir=tmp_path))
    assert "Department of Examples" in page.text
    assert "2 projects reviewed" in page.text
    assert "Portfolio overview" in page.text  # the shipped templates still do the rest


def test_template_override_cannot_turn_off_escaping(tmp_path: Path) -> None:
    (tmp_path / "extra_sections.html.j2").write_text("<p>{{ report.projects[0].summary.narrative }}</p>")
    assert "<script>" not in render_html(sample_report(), templates_dir=tmp_path)


def test_broken_override_names_the_template(tmp_path: Path) -> None:
    (tmp_path / "logo.html.j2").write_text("{{ report.no_such_field }}")
    with pytest.raises(ReportError) as info:
        render_html(sample_report(), templates_dir=tmp_path)
    assert "logo.html.j2" in str(info.value)


def test_missing_templates_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="templates_dir"):
        render_html(sample_report(), templates_dir=tmp_path / "nope")


def _workbook() -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes(sample_report())))


def test_xlsx_has_a_sheet_per_section_with_frozen_headers_and_filters() -> None:
    wb = _workbook()
    for name in (
        "Portfolio",
        "Changes",
        "Milestones",
        "EVM",
        "S-curve",
        "Budget",
        "Risks",
        "Issues",
        "Decisions",
        "Actions",
        "Baselines",
        "Health",
        "Exceptions",
        "Freshness",
        "Sync runs",
    ):
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws["A1"].font.bold, name


def test_xlsx_figures_are_numbers_and_dates_with_formats() -> None:
    wb = _workbook()
    evm = wb["EVM"]
    header = [c.value for c in evm[1]]
    row = {h: c for h, c in zip(header, evm[2], strict=True)}
    assert row["Status date"].value == datetime(2026, 11, 30)
    assert row["Status date"].number_format == "yyyy-mm-dd"
    assert row["AC"].value == pytest.approx(692307.69) and row["AC"].data_type == "n"
    assert row["AC"].number_format == "#,##0.00"
    assert row["CPI"].value == pytest.approx(0.91) and row["CPI"].number_format == "0.00"
    ms = wb["Milestones"]
    assert ms["E2"].value == datetime(2026, 6, 30)  # current finish: a real date
    assert ms["G3"].value == 12  # variance in working days: a number
    assert wb["Portfolio"]["A2"].value == "ERP"  # attention first here too


def test_xlsx_formula_injection_arrives_inert() -> None:
    data = xlsx_bytes(sample_report())
    wb = openpyxl.load_workbook(io.BytesIO(data))
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in (HYPERLINK, PLUS_CMD, "@SUM(1+1)*cmd", "-dry run", "\tTab-led action"):
                    found[cell.value] = cell
    assert set(found) == {HYPERLINK, PLUS_CMD, "@SUM(1+1)*cmd", "-dry run", "\tTab-led action"}
    for cell in found.values():
        assert cell.data_type == "s" and cell.quotePrefix, cell.value
    # and at the file level: no sheet holds a single formula element
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name


def test_json_is_the_model_and_matches_the_shipped_schema() -> None:
    data = json.loads(json_text(sample_report()))
    assert data["meta"]["period"] == "2026-11"
    erp = data["projects"][0]
    assert erp["measures"]["evm"]["cpi"] == 0.91
    assert erp["measures"]["evm"]["ac"] == "692307.69"  # money: exact decimal strings
    assert schema_text() == shipped_schema_text(), "regenerate src/pmsync/report/report.schema.json"


def test_json_validates_against_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    jsonschema.validate(json.loads(json_text(sample_report())), json.loads(schema_text()))


def test_pdf_has_the_report_text_and_one_page_break_per_project(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) reads the PDF back")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    (path,) = write_report(sample_report(), tmp_path, ["pdf"], pdf_engine="weasyprint")
    reader = pypdf.PdfReader(path)
    pages = [page.extract_text() for page in reader.pages]
    starts = [
        i for i, text in enumerate(pages) if text.lstrip().startswith(("ERP — ERP upgrade", "WEB — Public"))
    ]
    # the pack: a one-page summary per project after the front page, then each project's full detail
    assert len(starts) == 4, "each project's summary and its detail start on a new page"
    appendix = next(i for i, text in enumerate(pages) if text.lstrip().startswith("Appendix A"))
    assert starts[0] == 1, "the front page is one page"
    assert starts[1] - starts[0] <= 2 and appendix - starts[1] <= 2, "each summary is one or two pages"
    assert "Committee summary" in pages[0] and "Committee summary" not in pages[1]
    assert "Portfolio overview" in "".join(pages[3:5])
    assert any("EAC = BAC / CPI" in text for text in pages)
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20261130060000Z"


def test_every_format_is_byte_identical_on_a_rerun(tmp_path: Path) -> None:
    formats = ["html", "xlsx", "json"]
    try:
        import weasyprint  # noqa: F401

        formats.append("pdf")
    except ImportError:
        pass
    first = write_report(sample_report(), tmp_path / "a", formats)
    time.sleep(1.1)  # into the next second: PDF font subsets were once dated with the current second
    second = write_report(sample_report(), tmp_path / "b", formats)
    assert [p.name for p in first] == [f"report-2026-11.{f}" for f in parse_formats(formats)]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_unknown_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="docx"):
        parse_formats("html,docx")
    assert parse_formats("json, pdf,html") == ["html", "pdf", "json"]
    assert list(tmp_path.iterdir()) == []


def test_pdf_without_weasyprint_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # what an install without the extra looks like
    with pytest.raises(ReportError) as info:
        write_report(sample_report(), tmp_path, ["html", "pdf"], pdf_engine="weasyprint")
    assert "pip install 'pmsync[pdf]'" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_pdf_without_pikepdf_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    import sys

    # The WeasyPrint engine asks for WeasyPrint first: without the pdf extra its message names WeasyPrint
    # (tested above), so only the chromium engine shows the pikepdf message on a `.[dev]` install.
    engines = ["chromium"] + (["weasyprint"] if importlib.util.find_spec("weasyprint") else [])
    monkeypatch.setitem(sys.modules, "pikepdf", None)  # e.g. WeasyPrint installed on its own
    for engine in engines:
        with pytest.raises(ReportError) as info:
            write_report(sample_report(), tmp_path, ["html", "pdf"], pdf_engine=engine, chromium_path="sh")
        assert "pikepdf" in str(info.value) and "pip install 'pmsync[pdf]'" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_big_pdf_is_printed_in_parallel_chunks_and_numbered_page_n_of_m(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) reads the PDF back")
    pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins the chunks")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)  # two projects: two chunks, printed in parallel
    first = pdf.report_to_pdf(sample_report(), workers=2, engine="weasyprint")
    # reproducible, however printed
    assert pdf.report_to_pdf(sample_report(), workers=1, engine="weasyprint") == first
    reader = pypdf.PdfReader(io.BytesIO(first))
    pages = [page.extract_text() for page in reader.pages]
    footers = [text.rsplit("Page ", 1)[1].split()[:3] for text in pages]
    assert footers == [[str(n), "of", str(len(pages))] for n in range(1, len(pages) + 1)]
    assert all(text.count("Page ") == 1 for text in pages), "one page number per page"
    text = "\n".join(pages)
    assert text.count("Portfolio overview") == 1 and text.count("Appendix: where the figures come from") == 1
    starts = [i for i, t in enumerate(pages) if t.lstrip().startswith(("ERP — ERP upgrade", "WEB — Public"))]
    assert len(starts) == 4, "each project's summary and its detail start on a new page"
    appendix = next(i for i, t in enumerate(pages) if t.lstrip().startswith("Appendix A"))
    assert starts[0] == 1 and starts[1] < appendix < starts[2], "every summary comes before any detail"
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20261130060000Z"
    # the chunks' bookmarks survive the join and lead to the right pages of the whole document
    document = pikepdf.open(io.BytesIO(first))
    page_of = {page.objgen: n for n, page in enumerate(document.pages)}
    with document.open_outline() as outline:
        marks = [(item.title, page_of[item.destination[0].objgen]) for item in outline.root]
        marks += [
            (child.title, page_of[child.destination[0].objgen])
            for item in outline.root
            for child in item.children
        ]
    projects = ("ERP — ERP upgrade", "WEB — Public website")
    assert sorted(page for title, page in marks if title in projects) == starts
    assert dict(marks)["Committee summary — 2026-11"] == 0
    assert dict(marks)["Appendix A — full detail"] == appendix


def test_beside_a_chunked_pdf_the_html_is_the_whole_report_and_its_failure_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PDF printed in chunks does not print the whole report's HTML, so the HTML file is rendered
    # in the thread beside the printing: it must still be that HTML, and still fail the whole run.
    pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins the chunks")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)  # two projects: four chunks
    assert not pdf.prints_in_one_pass(sample_report())
    html_path, pdf_path = write_report(
        sample_report(), tmp_path / "ok", ["html", "pdf"], pdf_engine="weasyprint"
    )
    assert html_path.read_text(encoding="utf-8") == render_html(sample_report())
    assert pdf_path.read_bytes().startswith(b"%PDF")

    # an override that breaks only the whole report's HTML (the chunks print fine)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "extra_sections.html.j2").write_text(
        "{% if not pdf_chunked %}{{ report.no_such_field }}{% endif %}", encoding="utf-8"
    )
    out = tmp_path / "broken"
    out.mkdir()
    with pytest.raises(ReportError) as info:
        write_report(sample_report(), out, ["html", "pdf"], pdf_engine="weasyprint", templates_dir=templates)
    assert "extra_sections.html.j2" in str(info.value)
    assert list(out.iterdir()) == [], "no PDF without its HTML"


def test_a_script_without_a_main_guard_can_print_a_big_pdf(tmp_path: Path) -> None:
    """Chunks print in worker processes; a plain script (no ``if __name__ == "__main__"``) that
    writes a report must not be re-run by them, which crashed the pool when workers were spawned."""
    pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins the chunks")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    import subprocess
    import sys

    script = tmp_path / "monthly.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from pmsync.report.writers import pdf\n"
        "from tests.report.sample import sample_report\n"
        "pdf.PROJECTS_PER_CHUNK = 1\n"
        f"pdf_bytes = pdf.report_to_pdf(sample_report(), workers=2, engine='weasyprint')\n"
        f"open({str(tmp_path / 'out.pdf')!r}, 'wb').write(pdf_bytes)\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def _printer_that_dies(html: str, fonts_dated: object = None, tagged: bool = True) -> bytes:
    import os

    os._exit(9)  # what the kernel's out-of-memory killer does to a worker


def test_a_pdf_worker_that_dies_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins the chunks")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    monkeypatch.setattr(pdf, "html_to_pdf", _printer_that_dies)
    monkeypatch.setattr(pdf, "pdf_workers", lambda chunks: 2)
    with pytest.raises(ReportError) as info:
        write_report(sample_report(), tmp_path, ["html", "pdf"], pdf_engine="weasyprint")
    assert "died" in str(info.value) and "--program" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_one_piece_weasyprint_pdf_is_tagged_for_screen_readers(tmp_path: Path) -> None:
    pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) reads the structure tree")
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed")
    (path,) = write_report(sample_report(), tmp_path, ["pdf"], pdf_engine="weasyprint")
    with pikepdf.open(path) as document:
        root = document.Root
        assert "/StructTreeRoot" in root, "a tagged PDF has a structure tree"
        assert bool(root.MarkInfo.Marked)
