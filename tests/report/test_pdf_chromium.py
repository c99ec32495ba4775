"""The chromium PDF engine: the same HTML printed by a headless browser over the DevTools pipe.
Printing tests are skipped when no Chromium/Chrome/Edge is installed; the error tests always run."""

from __future__ import annotations

import io
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pmsync.errors import ReportError
from pmsync.report.writers import write_report
from pmsync.report.writers.chromium import BROWSER_NAMES, ChromiumPrinter, find_browser

from .sample import sample_report
from .test_hostile_text import BREAKOUT, hostile

pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) reads the PDF back")
pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins and dates the PDF")

try:
    BROWSER: str | None = find_browser()
except ReportError:
    BROWSER = None
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium, Chrome or Edge on PATH (apt-get install chromium to run this test)"
)
#: every kind installed (a headless shell and a full browser print differently inside): each is tested
INSTALLED = sorted({found for name in BROWSER_NAMES if (found := shutil.which(name)) is not None})


def page_texts(data: bytes) -> list[str]:
    # NFKC: Chromium sets "fi" as a ligature, which a reader (and a search) sees as "fi"
    return [
        unicodedata.normalize("NFKC", page.extract_text()) for page in pypdf.PdfReader(io.BytesIO(data)).pages
    ]


def project_starts(pages: list[str]) -> list[int]:
    return [
        i for i, text in enumerate(pages) if "ERP — ERP upgrade" in text[:200] or "WEB — Public" in text[:200]
    ]


@needs_browser
@pytest.mark.parametrize("browser", INSTALLED)
def test_chromium_prints_the_report_numbered_and_dated_by_the_data(tmp_path: Path, browser: str) -> None:
    (path,) = write_report(
        sample_report(), tmp_path / "a", ["pdf"], pdf_engine="chromium", chromium_path=browser
    )
    data = path.read_bytes()
    pages = page_texts(data)
    # the pack: the committee's front page, a summary per project, then the full detail
    assert "Committee summary" in pages[0] and "Committee summary" not in pages[1]
    assert any("Portfolio overview" in text for text in pages[1:])
    assert any("EAC = BAC / CPI" in text for text in pages)
    assert len(project_starts(pages)) == 4, "each project's summary and its detail start on a new page"
    assert [f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages, start=1)] == [True] * len(
        pages
    )
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.metadata is not None and reader.metadata["/CreationDate"] == "D:20261130060000Z"
    time.sleep(1.1)  # the browser dates its PDF with the current second; pmsync must not let that through
    (again,) = write_report(
        sample_report(), tmp_path / "b", ["pdf"], pdf_engine="chromium", chromium_path=browser
    )
    assert again.read_bytes() == data


def with_element_names_moved_on(data: bytes, by: int) -> bytes:
    """``data`` as Chromium prints it when its node counter stood ``by`` further: every element name
    ``nodeNNNNNNNN`` (ids, the ID tree, table headers) counted on, at the same length and in place
    (Chromium writes them in plain objects)."""
    moved, count = re.subn(rb"\(node(\d{8})\)", lambda m: b"(node%08d)" % (int(m[1]) + by), data)
    assert count > 100, "the browser named its tagged elements as it did when this test was written"
    return moved


@needs_browser
@pytest.mark.parametrize("browser", INSTALLED)
def test_a_tagged_pdf_does_not_depend_on_the_browsers_node_counter(browser: str) -> None:
    # Chromium names tagged elements after DOM node ids, a counter of the browser process that moves
    # with what it did before: CI once saw the same report printed twice differ in these names alone
    from pmsync.report.writers import pdf
    from pmsync.report.writers.html import render_html

    report = sample_report()
    with ChromiumPrinter(browser) as printer:
        printed = printer.print_html(render_html(report))
    first, second = (
        pdf._join(iter([data]), report, stamp=False)
        for data in (printed, with_element_names_moved_on(printed, 7))
    )
    assert first == second
    document = pikepdf.open(io.BytesIO(first))
    ids = dict(pikepdf.NameTree(document.Root.StructTreeRoot.IDTree).items())
    assert len(ids) > 50 and all(str(element.ID) == name for name, element in ids.items())
    attributes = [
        owner
        for thing in document.objects
        if isinstance(thing, pikepdf.Dictionary) and isinstance(thing.get("/A"), pikepdf.Array)
        for owner in thing.A
    ]
    headers = [str(name) for owner in attributes if "/Headers" in owner for name in owner.Headers]
    assert headers and set(headers) <= set(ids), "table cells still point at their header cells"


@needs_browser
def test_a_lone_document_and_a_joined_one_are_both_tagged_for_screen_readers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pmsync.report.writers import pdf

    whole = pikepdf.open(io.BytesIO(pdf.report_to_pdf(sample_report(), engine="chromium")))
    assert "/StructTreeRoot" in whole.Root and whole.Root.MarkInfo.Marked
    # the chunks are printed tagged and their structure trees joined (tests/report/test_pdf_structure.py)
    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    joined = pikepdf.open(io.BytesIO(pdf.report_to_pdf(sample_report(), engine="chromium")))
    assert "/StructTreeRoot" in joined.Root and joined.Root.MarkInfo.Marked


@needs_browser
def test_a_page_without_a_head_prints_too() -> None:
    # the printer adds a screen-only style to each page; a page with no <head> must still print
    assert BROWSER is not None
    with ChromiumPrinter(BROWSER) as printer:
        data = printer.print_html("<p>Steering committee, December</p>")
    assert "Steering committee, December" in page_texts(data)[0]


def test_the_headless_shell_is_preferred_when_a_full_browser_is_installed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("google-chrome", "chromium", "chromium-headless-shell"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_browser() == str(tmp_path / "chromium-headless-shell")
    (tmp_path / "chromium-headless-shell").unlink()
    assert find_browser() == str(tmp_path / "chromium")
    assert find_browser("google-chrome") == str(tmp_path / "google-chrome")  # configured wins


@needs_browser
def test_chromium_prints_a_big_report_in_chunks_in_parallel_tabs(monkeypatch: pytest.MonkeyPatch) -> None:
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)  # two projects: four chunks, two tabs at once
    first = pdf.report_to_pdf(sample_report(), engine="chromium", workers=2)
    assert pdf.report_to_pdf(sample_report(), engine="chromium", workers=1) == first
    pages = page_texts(first)
    footers = [text.rsplit("Page ", 1)[1].split()[:3] for text in pages]
    assert footers == [[str(n), "of", str(len(pages))] for n in range(1, len(pages) + 1)]
    assert all(text.count("Page ") == 1 for text in pages), "one page number per page"
    text = "\n".join(pages)
    assert text.count("Portfolio overview") == 1 and text.count("Appendix: where the figures come from") == 1
    assert len(project_starts(pages)) == 4, "summary and detail of each project"


@dataclass
class PrintLog:
    """What a report printed in four chunks did so far: chunks printed, joins started (their
    folders) and joins that returned."""

    pages: list[int] = field(default_factory=list)
    join_folders: list[Path] = field(default_factory=list)
    joins_done: list[int] = field(default_factory=list)


@pytest.fixture
def four_chunks(monkeypatch: pytest.MonkeyPatch) -> PrintLog:
    """The two sample projects printed one per chunk (four chunks), each print and join logged."""
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    log = PrintLog()
    print_html = ChromiumPrinter.print_html
    join_in_a_process = pdf._join_in_a_process

    def counting(self: ChromiumPrinter, html: str, *, tagged: bool = True) -> bytes:
        data = print_html(self, html, tagged=tagged)
        log.pages.append(1)
        return data

    def joining(folder: Path, *args: Any) -> bytes:
        log.join_folders.append(folder)
        data = join_in_a_process(folder, *args)
        log.joins_done.append(1)
        return data

    monkeypatch.setattr(ChromiumPrinter, "print_html", counting)
    monkeypatch.setattr(pdf, "_join_in_a_process", joining)
    return log


@needs_browser
def test_the_caller_is_told_once_when_every_page_is_printed_and_only_the_join_is_left(
    tmp_path: Path, four_chunks: PrintLog
) -> None:
    """write_report renders the other formats from that moment (the join's save runs on one core)."""
    from pmsync.report.writers import pdf

    told: list[tuple[int, bool]] = []

    def printed() -> None:  # how many pages were printed, and whether the join had saved yet
        told.append((len(four_chunks.pages), (four_chunks.join_folders[0] / "joined.pdf").exists()))

    data = pdf.report_to_pdf(sample_report(), engine="chromium", printed=printed)
    assert told == [(4, False)], "once, after the last of four chunks, while the join still runs"
    assert len(pikepdf.open(io.BytesIO(data)).pages) > 4

    # The last chunk (the detail of the last project, which carries the back matter) fails to
    # print, after the chunks before it were handed to the join (one tab: in order): never told,
    # the error is the page's.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text(
        "<html><body><p>{{ report.projects[0].key }}</p>"
        '{% if "back" in parts and pdf_chunked %}<img src="https://example.org/x.png">{% endif %}'
        "</body></html>"
    )
    four_chunks.pages.clear()
    told.clear()
    with pytest.raises(ReportError, match="reports must be self-contained"):
        pdf.report_to_pdf(
            sample_report(), engine="chromium", templates_dir=templates, workers=1, printed=printed
        )
    assert told == []
    assert len(four_chunks.pages) == 3 and len(four_chunks.join_folders) == 2, (
        "three chunks printed, given to the join"
    )


@needs_browser
def test_write_report_renders_the_other_formats_once_every_page_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, four_chunks: PrintLog
) -> None:
    from pmsync.report.writers import xlsx

    xlsx_bytes = xlsx.xlsx_bytes
    rendered_after: list[tuple[int, int]] = []

    def recording(report: Any) -> bytes:  # pages printed, joins done when the workbook is rendered
        rendered_after.append((len(four_chunks.pages), len(four_chunks.joins_done)))
        return xlsx_bytes(report)

    monkeypatch.setattr(xlsx, "xlsx_bytes", recording)
    paths = write_report(sample_report(), tmp_path, ["pdf", "xlsx"], pdf_engine="chromium")
    assert sorted(p.suffix for p in paths) == [".pdf", ".xlsx"]
    assert rendered_after == [(4, 0)], "once, after the last of four chunks, while they are joined"


@needs_browser
def test_hostile_text_is_printed_as_text(tmp_path: Path) -> None:
    (path,) = write_report(hostile(sample_report(), BREAKOUT), tmp_path, ["pdf"], pdf_engine="chromium")
    text = "".join("\n".join(page_texts(path.read_bytes())).split())
    assert "<script>alert(1)</script>" in text and "onerror=alert(1)" in text


@needs_browser
def test_a_template_that_loads_anything_fails_the_report_and_writes_nothing(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the report")
    (templates / "report.html.j2").write_text(
        f'<!doctype html><html><body><p>hello</p><img src="{secret.as_uri()}"></body></html>'
    )
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="reports must be self-contained") as info:
        write_report(sample_report(), out, ["html", "pdf"], templates_dir=templates, pdf_engine="chromium")
    assert secret.as_uri() in str(info.value)
    assert not out.exists() or list(out.iterdir()) == []


def test_a_missing_browser_is_a_clear_error_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ReportError) as info:
        write_report(
            sample_report(),
            tmp_path,
            ["html", "pdf"],
            pdf_engine="chromium",
            chromium_path=str(tmp_path / "nope"),
        )
    assert "reports.chromium_path" in str(info.value) and "apt-get install chromium" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_browser_that_exits_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    browser = tmp_path / "fake-chromium"
    browser.write_text("#!/bin/sh\necho 'FATAL: cannot open display' >&2\nexit 1\n")
    browser.chmod(0o755)
    out = tmp_path / "out"
    with pytest.raises(ReportError, match="the browser printing the PDF exited: FATAL: cannot open display"):
        write_report(sample_report(), out, ["html", "pdf"], pdf_engine="chromium", chromium_path=str(browser))
    assert not out.exists() or list(out.iterdir()) == []


def open_pages(printer: ChromiumPrinter, settle_on: int | None = None) -> int:
    """How many pages (tabs) the browser has open, asked of the browser itself; with ``settle_on``,
    asked again for up to 10 s until it says so (a tab closes after the browser answered the close)."""
    deadline = time.monotonic() + 10
    while True:
        targets = printer._call("Target.getTargets")["targetInfos"]
        count = sum(1 for target in targets if target["type"] == "page")
        if settle_on is None or count == settle_on or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


@needs_browser
def test_tabs_print_one_page_after_another_without_carrying_the_last_one_over() -> None:
    # A tab is kept for the next page once it printed one (a new tab is a new renderer process):
    # each PDF must hold its own page and nothing of the page printed before it in that tab.
    from concurrent.futures import ThreadPoolExecutor

    assert BROWSER is not None
    texts = [f"<p>Steering committee, meeting {n}</p>" + "<p>filler</p>" * (n % 3) for n in range(8)]
    with ChromiumPrinter(BROWSER) as printer:
        opened_before = open_pages(printer)
        with ThreadPoolExecutor(max_workers=2) as pool:
            printed = list(pool.map(printer.print_html, texts))
        assert open_pages(printer) <= opened_before + 2, "two at a time need two tabs, not one per page"
    for n, data in enumerate(printed):
        text = "\n".join(page_texts(data))
        assert f"meeting {n}" in text
        assert [m for m in range(8) if f"meeting {m}" in text] == [n]
        assert text.count("filler") == n % 3


@needs_browser
def test_a_page_that_failed_leaves_the_printer_able_to_print_the_next(tmp_path: Path) -> None:
    assert BROWSER is not None
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the report")
    with ChromiumPrinter(BROWSER) as printer:
        printer.print_html("<p>first</p>")  # a tab now waits for the next page
        opened = open_pages(printer)
        with pytest.raises(ReportError, match="reports must be self-contained"):
            printer.print_html(f'<p>hostile</p><img src="{secret.as_uri()}">')
        assert open_pages(printer, settle_on=opened - 1) == opened - 1, "the refused page's tab is closed"
        data = printer.print_html("<p>Steering committee, after a refusal</p>")
    text = "\n".join(page_texts(data))
    assert "after a refusal" in text and "hostile" not in text


@needs_browser
def test_no_script_runs_in_a_printed_page_so_none_acts_on_the_next_one() -> None:
    # A template override without the shipped Content-Security-Policy could run a script; in a tab
    # that prints page after page, one left running (navigating away, loading a file on a timer)
    # would act while the tab loads the next page. Seen before scripts were turned off: the next
    # page printed before it loaded ("Printing failed") or failed for the other page's request.
    assert BROWSER is not None
    restless = """<html><head><title>one</title></head><body><h1>Page one</h1><script>
document.body.append('script ran');
addEventListener('load', () => setTimeout(() => {
  new Image().src = 'http://example.invalid/late';
  location.replace('about:blank');
}, 1));
</script></body></html>"""
    with ChromiumPrinter(BROWSER) as printer:
        for _ in range(3):
            first = printer.print_html(restless)
            second = printer.print_html("<html><body><h1>Page two</h1></body></html>")
            assert "Page one" in page_texts(first)[0] and "script ran" not in page_texts(first)[0]
            assert "Page two" in page_texts(second)[0]
