"""The default PDF is tagged whichever engine prints it and however many chunks it is printed in: the
joined document keeps one valid structure tree (what a screen reader reads), and says which engine
printed it. Also how ``pdf_engine: auto`` chooses, and says so when it falls back to WeasyPrint."""

from __future__ import annotations

import importlib.util
import io
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pmsync.errors import ReportError
from pmsync.report.writers import write_report
from pmsync.report.writers.chromium import find_browser
from pmsync.report.writers.pdf import resolve_engine

from .sample import sample_report

pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) reads the PDF back")
pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (pdf extra) joins the chunks")

try:
    find_browser()
    HAS_BROWSER = True
except ReportError:
    HAS_BROWSER = False
ENGINES = [
    pytest.param(
        "chromium",
        marks=pytest.mark.skipif(
            not HAS_BROWSER, reason="no Chromium on PATH (apt-get install chromium-headless-shell)"
        ),
    ),
    pytest.param(
        "weasyprint",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("weasyprint") is None, reason="the pdf extra is not installed"
        ),
    ),
]


def elements(root: Any) -> list[Any]:
    found, seen, pending = [], set(), [root.K]
    while pending:
        node = pending.pop()
        if isinstance(node, pikepdf.Array):
            pending.extend(node)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node and node.objgen not in seen:
            seen.add(node.objgen)
            found.append(node)
            pending.append(node.get("/K"))
    return found


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pdf_printed_in_chunks_keeps_one_valid_structure_tree(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)  # two projects: four chunks (summaries, detail)
    data = pdf.report_to_pdf(sample_report(), engine=engine, workers=2)  # type: ignore[arg-type]
    document = pikepdf.open(io.BytesIO(data))
    assert bool(document.Root.MarkInfo.Marked), "marked as a tagged PDF"
    root = document.Root.StructTreeRoot
    # one Document at the top, each chunk's tree a division of it
    (top,) = root.K
    assert top.S == "/Document" and top.P.objgen == root.objgen
    assert len(top.K) == 4 and all(kid.S == "/Div" and kid.P.objgen == top.objgen for kid in top.K)
    # every page's content is owned by elements of the tree: its key is in the parent tree
    parents = dict(pikepdf.NumberTree(root.ParentTree).items())
    keys = [int(page.obj.StructParents) for page in document.pages]
    assert len(set(keys)) == len(document.pages) and set(keys) <= set(parents)
    assert int(root.ParentTreeNextKey) > max(parents)
    owned = set()
    for key in keys:
        owned |= {element.objgen for element in parents[key] if isinstance(element, pikepdf.Dictionary)}
    tree = elements(root)
    assert owned and owned <= {element.objgen for element in tree}
    # each element leads to a page of this document (not of a chunk left behind)
    pages = {page.obj.objgen for page in document.pages}
    assert {element.Pg.objgen for element in tree if "/Pg" in element} <= pages
    # names unique across chunks, and the table cells still point at their header cells
    if "/IDTree" in root:
        ids = dict(pikepdf.NameTree(root.IDTree).items())
        assert all(str(element.ID) == name for name, element in ids.items())
        headers = [
            str(name)
            for element in tree
            for owner in (element.A if isinstance(element.get("/A"), pikepdf.Array) else [element.get("/A")])
            if isinstance(owner, pikepdf.Dictionary) and "/Headers" in owner
            for name in owner.Headers
        ]
        assert set(headers) <= set(ids)
    # and the text reads back, with both projects' summaries and detail
    pages_text = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    text = unicodedata.normalize("NFKC", "\n".join(pages_text))
    assert text.count("Portfolio overview") == 1 and "EAC = BAC / CPI" in text
    assert str(document.docinfo["/Creator"]).startswith("pmsync, printed by ")
    expected = "HeadlessChrome" if engine == "chromium" else "WeasyPrint"
    assert expected in str(document.docinfo["/Creator"])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_tagged_join_is_reproducible(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmsync.report.writers import pdf

    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    first = pdf.report_to_pdf(sample_report(), engine=engine, workers=2)  # type: ignore[arg-type]
    assert pdf.report_to_pdf(sample_report(), engine=engine, workers=1) == first  # type: ignore[arg-type]


def fake_browser(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)
    return path


def test_auto_takes_chromium_when_one_is_found_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = fake_browser(tmp_path / "bin", "chromium-headless-shell")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    resolved = resolve_engine("auto")
    assert (resolved.engine, resolved.browser, resolved.fell_back) == ("chromium", str(shell), False)
    assert "found by reports.pdf_engine: auto" in resolved.reason
    assert resolve_engine("weasyprint").engine == "weasyprint", "an explicit engine is honoured"
    elsewhere = fake_browser(tmp_path / "opt", "chrome")
    assert resolve_engine("auto", str(elsewhere)).browser == str(elsewhere), "the configured path wins"


def test_auto_falls_back_to_weasyprint_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a fresh machine: no browser anywhere
    resolved = resolve_engine("auto")
    assert (resolved.engine, resolved.fell_back) == ("weasyprint", True)
    assert resolved.reason.startswith("PDF by WeasyPrint: no Chromium found; install")
    assert "chromium-headless-shell" in resolved.reason and "~10x faster" in resolved.reason
    told: list[str] = []
    write_report(sample_report(), tmp_path / "out", ["html"], notice=told.append)
    assert told == [], "nothing to say when no PDF is written"
    if importlib.util.find_spec("weasyprint") is not None:
        (path,) = write_report(sample_report(), tmp_path / "out", ["pdf"], notice=told.append)
        assert told == [resolved.reason]
        with pikepdf.open(path) as document:
            assert "WeasyPrint" in str(document.docinfo["/Creator"])


def test_a_configured_browser_that_is_missing_is_an_error_even_under_auto(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="reports.chromium_path"):
        resolve_engine("auto", str(tmp_path / "nope"))


def test_a_chunk_the_join_cannot_read_is_a_clear_error() -> None:
    # the chunks are joined in a process of their own; its failure comes back as one clear line
    from pmsync.report.writers import pdf

    with pytest.raises(ReportError, match="joining the printed chunks failed: .*PdfError") as info:
        pdf._join(iter([b"%PDF-1.7 not really", b"nor this"]), sample_report(), stamp=True)
    assert info.value.record == "PDF"


@pytest.mark.threads
def test_chunks_are_rendered_as_places_free_up_and_printed_in_order() -> None:
    # A big report's chunks are rendered while earlier ones print, never all at once up front:
    # a report of 50 chunks holds a few in memory, in the order they are joined.
    from concurrent.futures import ThreadPoolExecutor

    from pmsync.report.writers.pdf import in_order

    taken: list[int] = []
    most_ahead = 0

    def texts() -> Iterator[str]:
        for n in range(50):
            taken.append(n)
            yield str(n)

    printed: list[bytes] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for data in in_order(pool, lambda text: text.encode(), texts(), 2):
            most_ahead = max(most_ahead, len(taken) - len(printed))
            printed.append(data)
    assert printed == [str(n).encode() for n in range(50)]
    assert most_ahead <= 3, "two printing and one waiting, not the whole report"


@pytest.mark.threads
def test_a_chunk_that_fails_stops_the_report_at_once() -> None:
    # The second chunk fails while the first is still printing: the error comes back without
    # waiting for the first, and the chunks after it are never rendered.
    from concurrent.futures import ThreadPoolExecutor

    from pmsync.report.writers.pdf import in_order

    first_may_finish, first_finished = threading.Event(), threading.Event()
    taken: list[int] = []

    def texts() -> Iterator[str]:
        for n in range(50):
            taken.append(n)
            yield str(n)

    def print_one(text: str) -> bytes:
        if text == "0":
            first_may_finish.wait(timeout=30)
            first_finished.set()
        if text == "1":
            raise ReportError("the browser refused Page.printToPDF", record="PDF")
        return text.encode()

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            with pytest.raises(ReportError, match="refused"):
                list(in_order(pool, print_one, texts(), 2))
            assert not first_finished.is_set(), "raised while the first chunk was still printing"
        finally:
            first_may_finish.set()
    assert len(taken) <= 3


def bookmarks(data: bytes) -> list[tuple[int, str, int]]:
    """(level, title, page index) of every bookmark, in order."""
    document = pikepdf.open(io.BytesIO(data))
    page_of = {page.objgen: n for n, page in enumerate(document.pages)}
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            found.append((level, item.title, page_of[item.destination[0].objgen]))
            walk(item.children, level + 1)

    with document.open_outline() as outline:
        walk(outline.root, 0)
    return found


def bookmarked_elements(data: bytes) -> list[tuple[str, str | None]]:
    """(title, role of the structure element it names in ``/SE``, or None) of every bookmark, in
    order; a named element must be one of the document's structure tree."""
    from pmsync.report.writers.pdf_structure import structure_elements

    document = pikepdf.open(io.BytesIO(data))
    tree = {element.objgen for element in structure_elements(pikepdf, document.Root.StructTreeRoot)}
    found: list[tuple[str, str | None]] = []

    def walk(item: Any) -> None:
        while item is not None:
            element = item.get("/SE")
            assert element is None or element.objgen in tree, f"{item.Title} names an element not in the tree"
            found.append((str(item.Title), None if element is None else str(element.S)))
            walk(item.get("/First"))
            item = item.get("/Next")

    walk(document.Root.Outlines.get("/First"))
    return found


@pytest.mark.parametrize("engine", ENGINES)
def test_bookmarks_lead_to_their_headings_in_the_structure_tree_however_printed(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A screen reader follows a bookmark to the heading it stands for (/SE), in a PDF printed in
    # chunks as in one printed in one pass (the join once rebuilt each bookmark and dropped it).
    from pmsync.report.writers import pdf

    one_pass = bookmarked_elements(pdf.report_to_pdf(sample_report(), engine=engine))  # type: ignore[arg-type]
    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    chunked = bookmarked_elements(pdf.report_to_pdf(sample_report(), engine=engine, workers=2))  # type: ignore[arg-type]
    assert chunked == one_pass
    if engine == "chromium":  # Chromium names each bookmark's heading; WeasyPrint names none
        assert len(chunked) > 20 and all(role in {"/H1", "/H2", "/H3"} for _, role in chunked)


@pytest.mark.skipif(not HAS_BROWSER, reason="no Chromium on PATH (apt-get install chromium-headless-shell)")
def test_a_join_with_an_untagged_chunk_keeps_no_links_to_a_tree_it_dropped(tmp_path: Path) -> None:
    # One untagged chunk makes the joined PDF untagged: its bookmarks must not name headings of a
    # tree the document no longer has (nor carry that tree into the file through them).
    from pmsync.report.writers.chromium import ChromiumPrinter
    from pmsync.report.writers.html import render_html
    from pmsync.report.writers.pdf_join import join_files

    html = render_html(sample_report())
    with ChromiumPrinter(find_browser()) as printer:
        chunks = [printer.print_html(html, tagged=True), printer.print_html(html, tagged=False)]
    paths = [tmp_path / "tagged.pdf", tmp_path / "untagged.pdf"]
    for path, data in zip(paths, chunks, strict=True):
        path.write_bytes(data)
    assert [title for title, role in bookmarked_elements(chunks[0]) if role is not None], (
        "the chunk names headings"
    )
    document = pikepdf.open(
        io.BytesIO(join_files(paths, stamp=True, creator="pmsync", moment="D:20261202090000Z"))
    )
    assert "/StructTreeRoot" not in document.Root
    items, pending = 0, [document.Root.Outlines.get("/First")]
    while pending:
        item = pending.pop()
        while item is not None:
            items += 1
            assert "/SE" not in item, str(item.Title)
            pending.append(item.get("/First"))
            item = item.get("/Next")
    assert items == len(bookmarks(chunks[0])) + len(bookmarks(chunks[1])) > 20, "every bookmark kept"
    kinds = {str(o.get("/Type")) for o in document.objects if isinstance(o, pikepdf.Dictionary)}
    assert "/StructElem" not in kinds


@pytest.mark.parametrize("engine", ENGINES)
def test_the_pack_has_bookmarks_to_each_section_however_it_was_printed(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A committee member opens the bookmarks and finds the committee summary, each project's
    # summary, the appendix and each project's detail at the top level, each leading to its page.
    from pmsync.report.writers import pdf

    one_pass = pdf.report_to_pdf(sample_report(), engine=engine)  # type: ignore[arg-type]
    monkeypatch.setattr(pdf, "PROJECTS_PER_CHUNK", 1)
    chunked = pdf.report_to_pdf(sample_report(), engine=engine, workers=2)  # type: ignore[arg-type]
    marks = bookmarks(chunked)
    assert marks == bookmarks(one_pass), "the same bookmarks whether printed in one pass or in chunks"
    top = [(title, page) for level, title, page in marks if level == 0]
    titles = [title for title, _ in top]
    projects = ["ERP — ERP upgrade", "WEB — Public website"]
    expected = ["Committee summary — 2026-11", *projects, "Appendix A — full detail"]
    assert titles[1:5] == expected
    assert titles[-1] == "Appendix: where the figures come from"
    assert [title for title in titles if title in projects] == projects * 2, "each summary and detail"
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(chunked)).pages]
    for title, page in top[1:]:
        assert title in unicodedata.normalize("NFKC", pages[page]), f"{title!r} leads to its page"
    # each project's own headings are below it
    below = [title for level, title, _ in marks if level == 1]
    assert "Earned value" in below and "Decisions needed" in below


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_table_prints_its_first_rows_and_says_where_the_rest_are(engine: str) -> None:
    # A project with 40 milestones: the printed appendix shows 15 and says where the other 25
    # are; the HTML on screen keeps all 40.
    from pmsync.report.writers.html import render_html
    from pmsync.report.writers.pdf import report_to_pdf

    report = sample_report()
    erp = report.projects[0]
    template = erp.measures.schedule.milestones[0]
    milestones = [template.model_copy(update={"name": f"Milestone number {n:02d}"}) for n in range(1, 41)]
    schedule = erp.measures.schedule.model_copy(update={"milestones": milestones})
    erp = erp.model_copy(update={"measures": erp.measures.model_copy(update={"schedule": schedule})})
    report = report.model_copy(update={"projects": [erp, *report.projects[1:]]})
    html = render_html(report)
    assert all(f"Milestone number {n:02d}" in html for n in range(1, 41))
    data = report_to_pdf(report, engine=engine)  # type: ignore[arg-type]
    text = unicodedata.normalize(
        "NFKC", "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    )
    text = " ".join(text.split())
    assert "Milestone number 15" in text and "Milestone number 16" not in text
    note = "Printed: the first 15 of 40 rows; the other 25 are in the HTML report and on the XLSX sheet"
    assert f'{note} "Milestones".' in text


@pytest.mark.threads
def test_waiting_for_a_slow_first_chunk_does_not_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    # The second chunk is printed while the first still prints: the parent then sleeps until the
    # first is done, instead of spinning on the finished second one (CPU the printers need).
    from concurrent.futures import ThreadPoolExecutor

    from pmsync.report.writers import pdf

    second_done = threading.Event()
    waits = 0
    real_wait = pdf.wait

    def counted_wait(*args: Any, **kwargs: Any) -> Any:
        nonlocal waits
        waits += 1
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(pdf, "wait", counted_wait)

    def print_one(text: str) -> bytes:
        if text == "0":
            second_done.wait(timeout=30)
            threading.Event().wait(0.3)  # the first finishes well after the second
        elif text == "1":
            second_done.set()
        return text.encode()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pdf.in_order(pool, print_one, iter(["0", "1"]), 2)) == [b"0", b"1"]
    assert waits <= 3, f"the parent woke {waits} times waiting for the first chunk"


@pytest.mark.threads
def test_the_other_places_keep_printing_while_a_long_first_chunk_prints() -> None:
    # The first detail chunk carries the portfolio's tables and prints as long as several others:
    # meanwhile the second place goes on with the chunks after it (rendered ahead, within a bound),
    # instead of standing idle with one chunk waiting.
    from concurrent.futures import ThreadPoolExecutor

    from pmsync.report.writers.pdf import LOOK_AHEAD, in_order

    others_printed = threading.Semaphore(0)
    taken: list[int] = []
    kept_going = False

    def texts() -> Iterator[str]:
        for n in range(40):
            taken.append(n)
            yield str(n)

    def print_one(text: str) -> bytes:
        nonlocal kept_going
        if text == "0":  # finishes only once the other place has printed four chunks after it
            kept_going = all(others_printed.acquire(timeout=10) for _ in range(4))
        else:
            others_printed.release()
        return text.encode()

    printed: list[bytes] = []
    most_ahead = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for data in in_order(pool, print_one, texts(), 2, LOOK_AHEAD):
            most_ahead = max(most_ahead, len(taken) - len(printed))
            printed.append(data)
    assert kept_going, "the second place stood idle while the first chunk printed"
    assert printed == [str(n).encode() for n in range(40)]
    assert most_ahead <= 2 + LOOK_AHEAD, "a few chunks held in memory, not the report"


def blank_pdf(path: Path, pages: int) -> Path:
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page(page_size=(595, 842))
    document.save(path)
    return path


def test_the_join_process_saves_the_same_pdf_as_a_join_in_memory(tmp_path: Path) -> None:
    # The join's own process saves straight to the file (and skips closing its sources): the file
    # must be the very PDF the in-memory join gives, page numbers stamped.
    from pmsync.report.writers.pdf_join import join_files, join_files_to

    chunks = [blank_pdf(tmp_path / f"chunk-{n}.pdf", n + 1) for n in range(3)]
    how: dict[str, Any] = {"stamp": True, "creator": "pmsync", "moment": "D:20261130000000Z"}
    out = tmp_path / "joined.pdf"
    join_files_to(out, iter(chunks), **how)
    assert out.read_bytes() == join_files(iter(chunks), **how)
    pages = pypdf.PdfReader(out).pages
    assert len(pages) == 6 and "Page 6 of 6" in pages[5].extract_text()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_data_formats_rendered_beside_the_pdf_are_the_same_files(engine: str, tmp_path: Path) -> None:
    # The XLSX and the JSON are rendered in a thread once the PDF's pages are printed, while its
    # chunks are joined: the files are those rendered alone, named and returned in format order.
    report = sample_report()
    paths = write_report(report, tmp_path / "all", ["json", "pdf", "xlsx", "html"], pdf_engine=engine)  # type: ignore[arg-type]
    assert [p.suffix for p in paths] == [".html", ".xlsx", ".pdf", ".json"]
    alone = write_report(report, tmp_path / "alone", ["html", "xlsx", "json"])
    for path in alone:
        assert (tmp_path / "all" / path.name).read_bytes() == path.read_bytes(), path.name
    assert paths[2].read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_data_format_that_fails_beside_the_pdf_writes_nothing(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The XLSX fails in its thread, rendered while the PDF's chunks are joined: the error reaches
    # the user and no file of this run is written (no mix of this run's files and an earlier run's).
    from pmsync.report.writers import xlsx

    def broken(report: Any) -> bytes:
        raise ReportError("the workbook could not be built", record="XLSX")

    monkeypatch.setattr(xlsx, "xlsx_bytes", broken)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ReportError, match="workbook could not be built"):
        write_report(sample_report(), out, ["html", "pdf", "xlsx", "json"], pdf_engine=engine)  # type: ignore[arg-type]
    assert list(out.iterdir()) == []
