"""The PDF writer: the HTML report printed by WeasyPrint (the optional ``pmsync[pdf]`` extra), or by a
headless Chromium with ``engine="chromium"`` (:mod:`pmsync.report.writers.chromium`, ~10x faster).

The HTML's print styles give each project its own pages. WeasyPrint keeps the whole laid-out
document in memory (several MB per project) and lays out about six pages a second, so a big
portfolio is printed in chunks of :data:`PROJECTS_PER_CHUNK` projects, one chunk per CPU at a time
in worker processes, and the chunks are joined with pikepdf (qpdf: 2 s for 2,100 pages, where pypdf
took 8 s). A worker holds one chunk's layout. A chunk cannot know on which
page it starts until the chunks before it are printed, so chunks are printed without page numbers
and "Page N of M" is stamped on each page after the join.

Reproducible: WeasyPrint takes the document dates from the ``dcterms.created`` / ``dcterms.modified``
meta tags (the report's data timestamp) and derives its file identifier from the content, the embedded
font subsets are dated with the same timestamp, and the join dates the document by that timestamp too
(Chromium dates what it prints with the current second) and derives its file identifier from the
content, so the same report gives byte-identical PDFs on one machine (fonts come from the system,
so another machine may embed different font files).
Chunks printed by Chromium go through the same join and page numbering; they print in tabs of one
browser, which spreads them over the cores itself.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pmsync.atomic_file import write_atomic
from pmsync.errors import ReportError
from pmsync.report.model import Report

#: what prints the HTML: WeasyPrint (the pdf extra) or a headless Chromium, Chrome or Edge
PdfEngine = Literal["weasyprint", "chromium"]

INSTALL_HINT = (
    "install the PDF extra: pip install 'pmsync[pdf]' (WeasyPrint also needs Pango, see docs/report.md)"
)
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
#: projects printed per WeasyPrint pass when a report is too big for one
PROJECTS_PER_CHUNK = 20
#: where the stamped page number sits (points from the bottom-right corner), its size and colour: as
#: the single-pass footer of style.css.j2 (9px in the 10 mm right and 14 mm bottom page margins)
PAGE_NUMBER_RIGHT, PAGE_NUMBER_BASELINE, PAGE_NUMBER_SIZE = 28.35, 17.5, 6.75
PAGE_NUMBER_RGB = "0.341 0.376 0.416"
# Helvetica's advance widths (per 1000 em) for the characters of "Page N of M", to right-align it
_HELVETICA_WIDTHS = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278}


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError as exc:
        raise ReportError(
            "PDF output needs WeasyPrint, which is not installed", record="--format pdf", hint=INSTALL_HINT
        ) from exc
    except OSError as exc:  # WeasyPrint is installed but its system libraries (Pango) are missing
        raise ReportError(
            f"WeasyPrint cannot load its system libraries: {exc}", record="--format pdf", hint=INSTALL_HINT
        ) from exc
    return weasyprint


def ensure_available(engine: PdfEngine = "weasyprint", browser: Path | str | None = None) -> str:
    """Raise the clear "install ..." error now rather than after other formats were written; else say
    what will print (for ``pmsync doctor``)."""
    if engine == "chromium":
        from pmsync.report.writers.chromium import find_browser

        found = find_browser(browser)
        _pikepdf()
        return f"browser {found}"
    _weasyprint()
    _pikepdf()
    return "WeasyPrint and its system libraries load"


def _pikepdf() -> Any:
    try:
        import pikepdf
    except ImportError as exc:
        raise ReportError(
            "PDF output needs pikepdf, which is not installed", record="--format pdf", hint=INSTALL_HINT
        ) from exc
    return pikepdf


@contextmanager
def _font_timestamps(moment: datetime | None) -> Iterator[None]:
    """Embedded font subsets dated ``moment``: fontTools stamps each subset it writes with the current
    second (head.modified) unless SOURCE_DATE_EPOCH is set, so without this the same report printed a
    second later was a different file."""
    if moment is None:
        yield
        return
    saved = os.environ.get(SOURCE_DATE_EPOCH)
    os.environ[SOURCE_DATE_EPOCH] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if saved is None:
            del os.environ[SOURCE_DATE_EPOCH]
        else:
            os.environ[SOURCE_DATE_EPOCH] = saved


def html_to_pdf(html: str, fonts_dated: datetime | None = None, *, tagged: bool = False) -> bytes:
    """Print an HTML report to PDF bytes. The HTML must be self-contained (it is: no URLs to fetch).
    ``fonts_dated`` (the report's data timestamp) dates the embedded fonts, for reproducible bytes.
    ``tagged``: with the structure tree screen readers use (WeasyPrint's ``pdf_tags``), as Chromium
    prints a lone document; chunks that are joined are printed untagged (a join cannot keep it)."""
    weasyprint = _weasyprint()

    def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # The report never references external resources; refusing keeps a hostile template from
        # making WeasyPrint read local files or the network.
        raise ReportError(f"the report tried to load {url!r}; reports must be self-contained", record="PDF")

    # WeasyPrint logs CSS it does not support (e.g. print-color-adjust) as warnings; not our users' concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=refuse_fetch, base_url=".")
    with _font_timestamps(fonts_dated):
        data: bytes = document.write_pdf(pdf_tags=tagged)
    return data


def pdf_workers(chunks: int) -> int:
    """Worker processes for ``chunks`` chunks: one per CPU this process may use, at most one per chunk."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, chunks))


def report_to_pdf(
    report: Report,
    *,
    templates_dir: Path | None = None,
    html: str | None = None,
    workers: int | None = None,
    engine: PdfEngine = "weasyprint",
    browser: Path | str | None = None,
) -> bytes:
    """The report as PDF bytes: one pass when it is small, chunks of projects when not.
    ``html`` is the already rendered HTML of the whole report, reused for the one-pass case;
    ``workers`` caps the chunks printed at once (default: one per CPU); ``engine`` is
    ``weasyprint`` or ``chromium`` (``browser``: its executable, else found on PATH)."""
    from pmsync.report.writers.html import render_html

    projects = report.projects
    starts = range(0, len(projects), PROJECTS_PER_CHUNK)

    def chunk_html() -> Iterator[str]:
        if len(starts) <= 1:
            yield html if html is not None else render_html(report, templates_dir=templates_dir)
            return
        # The pack prints every project's summary before any project's full detail (the appendix):
        # the summaries in chunks first, then the detail in chunks.
        last = len(starts) - 1
        for stage in ("summary", "detail"):
            for index, start in enumerate(starts):
                parts = (("front",) if stage == "summary" and index == 0 else ()) + (
                    ("back",) if stage == "detail" and index == last else ()
                )
                chunk = report.model_copy(update={"projects": projects[start : start + PROJECTS_PER_CHUNK]})
                context = {
                    "parts": parts,
                    "pdf_chunked": True,
                    "stages": (stage,),
                    "detail_heading": stage == "detail" and index == 0,
                }
                yield render_html(chunk, templates_dir=templates_dir, extra_context=context)

    at_once = min(workers, 2 * len(starts)) if workers else pdf_workers(2 * len(starts))
    if engine == "chromium":
        from pmsync.report.writers.chromium import ChromiumPrinter, find_browser

        with ChromiumPrinter(find_browser(browser)) as printer:
            # a lone document keeps its structure tree (tagged PDF); a join could not keep it
            print_one = partial(printer.print_html, tagged=len(starts) <= 1)
            return _join(_print_in_tabs(chunk_html(), print_one, at_once), report, stamp=len(starts) > 1)
    if len(starts) <= 1:
        return html_to_pdf(next(chunk_html()), report.meta.generated_at, tagged=True)
    return _join(_print_all(chunk_html(), report.meta.generated_at, at_once), report, stamp=True)


def _join(documents: Iterator[bytes], report: Report, *, stamp: bool) -> bytes:
    """One PDF of the documents in order, numbered "Page N of M" when ``stamp``, dated by the report's
    data timestamp (not by when it was printed: the same report gives the same bytes).

    A single document is kept whole (with its tagged structure, when the printer made one). Chunks
    are joined page by page with their bookmarks and links; a chunk's printer dropped the links to
    anchors in other chunks (the portfolio table links only the projects printed with it)."""
    pikepdf = _pikepdf()
    # Each chunk is joined as soon as it is printed, while the next ones print. qpdf copies page
    # content lazily, so every source stays open (referenced) until the joined document is saved.
    first = pikepdf.open(io.BytesIO(next(documents)))
    _renumber_element_ids(pikepdf, first)
    sources, joined = [first], first
    for data in documents:
        if joined is first:  # a second document: the first is joined too, not kept whole
            joined = _document_like(pikepdf, first)
            joined.add_pages_from(first)  # with the pages: their bookmarks, their links' targets
        sources.append(pikepdf.open(io.BytesIO(data)))
        joined.add_pages_from(sources[-1])
    if stamp:
        _stamp_page_numbers(pikepdf, joined)
    moment = report.meta.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")
    joined.docinfo["/CreationDate"] = moment
    joined.docinfo["/ModDate"] = moment
    # deterministic_id: the file identifier is derived from the content, not from the clock; qpdf
    # would keep the first half of an identifier the printer gave, so that one is dropped
    if "/ID" in joined.trailer:
        del joined.trailer.ID
    out = io.BytesIO()
    joined.save(out, deterministic_id=True)
    return out.getvalue()


def _renumber_element_ids(pikepdf: Any, document: Any) -> None:
    """Name the tagged elements of ``document`` ``node00000001``, ``node00000002``, ... in the order of
    their names.

    Chromium names a tagged element after its DOM node id (``node00000031``), a counter of the browser
    process that moves with whatever it made before: the same report printed twice came out with
    different names and so as different files (seen in CI). The names are only referenced from the
    ID tree and from table cells' ``/Headers``; both are rewritten. Untagged documents are left alone.
    """
    root = document.Root.get("/StructTreeRoot")
    if root is None or "/IDTree" not in root:
        return
    elements = dict(pikepdf.NameTree(root.IDTree).items())
    old_names = sorted(elements, key=lambda name: (len(name), name))
    renamed = {old: f"node{number:08d}" for number, old in enumerate(old_names, start=1)}
    tree = pikepdf.NameTree.new(document)
    for old in old_names:
        element = elements[old]
        element.ID = pikepdf.String(renamed[old])
        tree[renamed[old]] = element
    root.IDTree = tree.obj
    for element in _structure_elements(pikepdf, root):
        attributes = element.get("/A")
        for owner in attributes if isinstance(attributes, pikepdf.Array) else [attributes]:
            if isinstance(owner, pikepdf.Dictionary) and isinstance(owner.get("/Headers"), pikepdf.Array):
                owner.Headers = pikepdf.Array(
                    [pikepdf.String(renamed.get(str(name), str(name))) for name in owner.Headers]
                )


def _structure_elements(pikepdf: Any, root: Any) -> Iterator[Any]:
    """Every structure element under ``root`` (the StructTreeRoot), each once."""
    seen: set[tuple[int, int]] = set()
    pending = [root.get("/K")]
    while pending:
        node = pending.pop()
        if isinstance(node, pikepdf.Array):
            pending.extend(node)
        elif (
            isinstance(node, pikepdf.Dictionary)
            and node.get("/Type", pikepdf.Name.StructElem) == "/StructElem"
        ):
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            if "/S" in node:  # marked-content and object references (/MCR, /OBJR) have no /S
                yield node
                pending.append(node.get("/K"))


def _document_like(pikepdf: Any, first: Any) -> Any:
    """An empty PDF with the title, language and viewer preferences of ``first``."""
    joined = pikepdf.new()
    for key in ("/Lang", "/ViewerPreferences"):
        if key in first.Root:
            joined.Root[key] = _copied(pikepdf, joined, first, first.Root[key])
    if first.trailer.get("/Info") is not None:
        joined.trailer.Info = _copied(pikepdf, joined, first, first.trailer.Info)
    return joined


def _copied(pikepdf: Any, document: Any, source: Any, value: Any) -> Any:
    """``value`` from the PDF ``source``, made part of ``document``: dictionaries and arrays are
    copied over (qpdf copies only indirect objects, so a direct one is made indirect first)."""
    if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)):
        return document.copy_foreign(value if value.is_indirect else source.make_indirect(value))
    return value


def _print_in_tabs(texts: Iterator[str], print_one: Callable[[str], bytes], tabs: int) -> Iterator[bytes]:
    """PDF bytes of each HTML text, in order, printed by one browser (``print_one``: its
    :meth:`~pmsync.report.writers.chromium.ChromiumPrinter.print_html`) ``tabs`` at a time."""
    pool = ThreadPoolExecutor(max_workers=tabs, thread_name_prefix="pdf-tab")
    try:
        yield from pool.map(print_one, texts)
    finally:  # after a failure, chunks not started yet are not printed for nothing
        pool.shutdown(wait=True, cancel_futures=True)


def _print_all(texts: Iterator[str], fonts_dated: datetime, workers: int) -> Iterator[bytes]:
    """PDF bytes of each HTML text, in order; printed ``workers`` at a time in worker processes."""
    print_one = partial(html_to_pdf, fonts_dated=fonts_dated)
    if workers == 1:
        yield from map(print_one, texts)
        return
    # fork where there is one: "spawn" re-runs the caller's main module in every worker, which breaks
    # any script that calls pmsync without an ``if __name__ == "__main__"`` guard, and workers start
    # with WeasyPrint already imported. A forked worker only prints HTML it was handed; it takes no
    # lock another thread of the parent could have held at the fork (logging's are reset by Python).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield from pool.map(print_one, texts)
    except BrokenProcessPool as exc:
        raise ReportError(
            f"a process printing the PDF died before it finished ({exc})",
            record="--format pdf",
            hint="most often it ran out of memory: print per program (--program), or on a bigger machine",
        ) from exc


def _text_width(text: str, size: float) -> float:
    digit = 556  # every Helvetica digit is 556 units wide
    return sum(_HELVETICA_WIDTHS.get(char, digit) for char in text) * size / 1000


def _stamp_page_numbers(pikepdf: Any, document: Any) -> None:
    """Write "Page N of M" at the bottom right of every page of the joined document.

    The page's own content streams are left as they are (not parsed); two small streams go around
    them, ``q`` before and ``Q`` plus the number after, so whatever graphics state the page leaves
    does not move the number.
    """
    font = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    save_state = document.make_stream(b"q\n")
    total = len(document.pages)
    for number, page in enumerate(document.pages, start=1):
        text = f"Page {number} of {total}"
        box = page.mediabox
        x = float(box[2]) - PAGE_NUMBER_RIGHT - _text_width(text, PAGE_NUMBER_SIZE)
        y = float(box[1]) + PAGE_NUMBER_BASELINE
        page.add_resource(font, pikepdf.Name.Font, pikepdf.Name("/PmsyncPageNumber"))
        stamp = (
            f"\nQ\nq {PAGE_NUMBER_RGB} rg BT /PmsyncPageNumber {PAGE_NUMBER_SIZE} Tf "
            f"{x:.2f} {y:.2f} Td ({text}) Tj ET Q\n"
        ).encode("ascii")
        page.contents_add(save_state, prepend=True)
        page.contents_add(document.make_stream(stamp), prepend=False)


def write_pdf(report: Report, path: Path, *, templates_dir: Path | None = None) -> Path:
    write_atomic(path, report_to_pdf(report, templates_dir=templates_dir))
    return path
