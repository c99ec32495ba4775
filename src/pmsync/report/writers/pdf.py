"""The PDF writer: the HTML report printed by a headless Chromium (:mod:`pmsync.report.writers.chromium`)
when one is installed, else by WeasyPrint (the ``pmsync[pdf]`` extra), about ten times slower.

``reports.pdf_engine`` chooses: ``auto`` (the default) takes Chromium when it finds one (the
configured ``reports.chromium_path``, else the known names on PATH) and says why when it falls back
to WeasyPrint (:func:`resolve_engine`); ``chromium`` and ``weasyprint`` ask for one engine. The
PDF's ``/Creator`` names the engine that printed it.

The HTML's print styles give each project its own pages. A big portfolio is printed in chunks of
:data:`PROJECTS_PER_CHUNK` projects (WeasyPrint keeps the whole laid-out document in memory, several
MB per project, and lays out about six pages a second), printed at once in worker processes
(WeasyPrint) or in tabs of one browser (Chromium, which spreads them over the cores itself), and
joined with pikepdf (qpdf: 2 s for 2,100 pages, where pypdf took 8 s). A chunk cannot know on which
page it starts until the chunks before it are printed, so chunks are printed without page numbers
and "Page N of M" is stamped on each page after the join.

Tagged always: every chunk is printed with its structure tree (what screen readers read), and the
join joins the trees (:mod:`pmsync.report.writers.pdf_structure`), so a PDF of 500 projects is as
tagged as one of two.

Reproducible: WeasyPrint takes the document dates from the ``dcterms.created`` / ``dcterms.modified``
meta tags (the report's data timestamp) and derives its file identifier from the content, the embedded
font subsets are dated with the same timestamp, and the join dates the document by that timestamp too
(Chromium dates what it prints with the current second) and derives its file identifier from the
content, so the same report gives byte-identical PDFs on one machine (fonts come from the system,
so another machine may embed different font files).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pmsync.atomic_file import write_atomic
from pmsync.cpus import usable_cpus
from pmsync.errors import ReportError
from pmsync.report.model import Report

#: what prints the HTML: ``auto`` (Chromium when one is found, else WeasyPrint), WeasyPrint (the pdf
#: extra) or a headless Chromium, Chrome or Edge
PdfEngine = Literal["auto", "weasyprint", "chromium"]
#: the engine that prints, once ``auto`` is resolved
Printer = Literal["weasyprint", "chromium"]

INSTALL_HINT = (
    "install the PDF extra: pip install 'pmsync[pdf]' (WeasyPrint also needs Pango, see docs/report.md)"
)
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
#: projects printed per WeasyPrint pass when a report is too big for one
PROJECTS_PER_CHUNK = 20
#: chunks rendered or printed ahead of the one the join waits for, besides those printing: enough
#: for the other places to keep printing while one long chunk prints (see :func:`in_order`); each
#: holds its HTML (~0.5 MB) and then its PDF (~3 MB, tagged)
LOOK_AHEAD = 6


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


FALLBACK_HINT = (
    "install Chromium's headless shell (Debian/Ubuntu: apt-get install chromium-headless-shell) "
    "or set reports.chromium_path, for ~10x faster PDFs"
)


@dataclass(frozen=True)
class ResolvedEngine:
    """The engine that will print, the browser it runs (Chromium), and one line saying why."""

    engine: Printer
    browser: str | None
    reason: str
    #: ``auto`` found no browser and fell back to WeasyPrint: worth telling the user
    fell_back: bool = False


def resolve_engine(engine: PdfEngine = "auto", browser: Path | str | None = None) -> ResolvedEngine:
    """Which engine prints: ``auto`` takes Chromium when ``browser`` (``reports.chromium_path``) or
    one of the known names on PATH is found, else WeasyPrint. A configured ``browser`` that is not
    an executable is an error whatever the engine: the user asked for that browser."""
    from pmsync.report.writers.chromium import find_browser

    if engine == "weasyprint":
        return ResolvedEngine("weasyprint", None, "PDF by WeasyPrint (reports.pdf_engine: weasyprint)")
    if engine == "chromium" or browser is not None:
        found = find_browser(browser)
        return ResolvedEngine("chromium", found, f"PDF by Chromium ({found}, reports.pdf_engine: {engine})")
    try:
        found = find_browser()
    except ReportError:
        return ResolvedEngine(
            "weasyprint", None, f"PDF by WeasyPrint: no Chromium found; {FALLBACK_HINT}", fell_back=True
        )
    return ResolvedEngine("chromium", found, f"PDF by Chromium ({found}, found by reports.pdf_engine: auto)")


def ensure_available(engine: PdfEngine = "auto", browser: Path | str | None = None) -> str:
    """Raise the clear "install ..." error now rather than after other formats were written; else say
    what will print and why (for ``pmsync doctor``)."""
    resolved = resolve_engine(engine, browser)
    if resolved.engine == "weasyprint":
        _weasyprint()
    _pikepdf()
    return resolved.reason


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
    ``tagged``: with the structure tree screen readers use (WeasyPrint's ``pdf_tags``)."""
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
    """Worker processes for ``chunks`` chunks: one per CPU this process may use (its affinity mask and
    CPU quota, :func:`~pmsync.cpus.usable_cpus`), at most one per chunk."""
    return max(1, min(usable_cpus(), chunks))


def prints_in_one_pass(report: Report) -> bool:
    """Whether :func:`report_to_pdf` prints ``report`` in one pass (from the whole report's HTML,
    which it then takes as its ``html``) rather than in chunks of projects."""
    return len(report.projects) <= PROJECTS_PER_CHUNK


def report_to_pdf(
    report: Report,
    *,
    templates_dir: Path | None = None,
    html: str | None = None,
    workers: int | None = None,
    engine: PdfEngine = "auto",
    browser: Path | str | None = None,
    tagged: bool = True,
    printed: Callable[[], None] | None = None,
) -> bytes:
    """The report as PDF bytes: one pass when it is small, chunks of projects when not.
    ``html`` is the already rendered HTML of the whole report, reused for the one-pass case;
    ``workers`` caps the chunks printed at once (default: one per CPU); ``engine`` is ``auto``,
    ``weasyprint`` or ``chromium`` (``browser``: its executable, else found on PATH); ``tagged``:
    with the structure tree screen readers use (off only to measure what tagging costs).
    ``printed`` is called once, when every page is printed and only the join is left (which then
    runs on one core: see :func:`_join`), not after a failure."""
    from pmsync.report.writers.html import render_html, template_environment

    resolved = resolve_engine(engine, browser)
    projects = report.projects
    starts = range(0, len(projects), PROJECTS_PER_CHUNK)

    def chunk_html() -> Iterator[str]:
        if prints_in_one_pass(report):
            yield html if html is not None else render_html(report, templates_dir=templates_dir)
            return
        # The pack prints every project's summary before any project's full detail (the appendix):
        # the summaries in chunks first, then the detail in chunks.
        last = len(starts) - 1
        # one environment: each template compiled once, not once per chunk (~0.1 s each time)
        environment = template_environment(templates_dir)
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
                yield render_html(chunk, extra_context=context, environment=environment)

    at_once = min(workers, 2 * len(starts)) if workers else pdf_workers(2 * len(starts))
    stamp = not prints_in_one_pass(report)
    if resolved.engine == "chromium":
        from pmsync.report.writers.chromium import ChromiumPrinter

        assert resolved.browser is not None
        with ChromiumPrinter(resolved.browser) as printer:
            print_one = partial(printer.print_html, tagged=tagged)
            chunks = _print_in_tabs(chunk_html(), print_one, at_once)
            creator = f"pmsync, printed by {printer.version}"
            return _join(chunks, report, stamp=stamp, creator=creator, printed=printed)
    creator = f"pmsync, printed by WeasyPrint {_weasyprint().__version__}"
    if prints_in_one_pass(report):
        lone = html_to_pdf(next(chunk_html()), report.meta.generated_at, tagged=tagged)
        return _join(iter([lone]), report, stamp=False, creator=creator, printed=printed)
    chunks = _print_all(chunk_html(), report.meta.generated_at, at_once, tagged=tagged)
    return _join(chunks, report, stamp=True, creator=creator, printed=printed)


def _join(
    documents: Iterator[bytes],
    report: Report,
    *,
    stamp: bool,
    creator: str = "pmsync",
    printed: Callable[[], None] | None = None,
) -> bytes:
    """One PDF of the printed documents in order (:func:`~pmsync.report.writers.pdf_join.join_files`),
    dated by the report's data timestamp (not by when it was printed: the same report gives the same
    bytes). Two or more are joined in a process of their own, each chunk as soon as it is printed.

    ``printed`` is called once the last document is printed: what is left then is the join's last
    steps and its save, on one core (about 2.5 s at 500 projects), so the caller can put the other
    core to work meanwhile. A lone document is kept whole in this process (a report of up to
    :data:`PROJECTS_PER_CHUNK` projects), which takes a small fraction of a second."""
    from pmsync.report.writers.pdf_join import join_files

    _pikepdf()
    how: dict[str, Any] = {
        "stamp": stamp,
        "creator": creator,
        "moment": report.meta.generated_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ"),
    }
    with tempfile.TemporaryDirectory(prefix="pmsync-pdf-") as name:
        folder = Path(name)
        paths = (_written(folder / f"chunk-{n:05d}.pdf", data) for n, data in enumerate(documents))
        first = next(paths)
        second = next(paths, None)
        if second is None:
            if printed is not None:
                printed()
            return join_files([first], **how)
        return _join_in_a_process(folder, [first, second], paths, how, printed)


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _join_in_a_process(
    folder: Path,
    ready: list[Path],
    paths: Iterator[Path],
    how: dict[str, Any],
    printed: Callable[[], None] | None = None,
) -> bytes:
    out = folder / "joined.pdf"
    command = [sys.executable, "-m", "pmsync.report.writers.pdf_join", str(out), json.dumps(how)]
    # the child imports pmsync from where this process did (a script may have put it on sys.path)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    errors = folder / "join.log"
    with errors.open("wb") as log:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log, env=environment)
    assert child.stdin is not None
    try:
        try:
            for path in itertools.chain(ready, paths):
                child.stdin.write(f"{path}\n".encode())
                child.stdin.flush()
            # Every chunk is printed and handed over; the join ends once its input does (below).
            if printed is not None:
                printed()
        except BrokenPipeError:
            pass  # the child failed: its own error says why
        finally:
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()
        status = child.wait()
    except BaseException:
        child.kill()
        child.wait()
        raise
    if status != 0:
        reason = errors.read_text("utf-8", "replace").strip().splitlines()
        raise ReportError(
            f"joining the printed chunks failed: {reason[-1][:300] if reason else f'exit status {status}'}",
            record="PDF",
        )
    return out.read_bytes()


def _print_in_tabs(texts: Iterator[str], print_one: Callable[[str], bytes], tabs: int) -> Iterator[bytes]:
    """PDF bytes of each HTML text, in order, printed by one browser (``print_one``: its
    :meth:`~pmsync.report.writers.chromium.ChromiumPrinter.print_html`) ``tabs`` at a time."""
    pool = ThreadPoolExecutor(max_workers=tabs, thread_name_prefix="pdf-tab")
    try:
        yield from in_order(pool, print_one, texts, tabs, LOOK_AHEAD)
    finally:  # after a failure, chunks not started yet are not printed for nothing
        pool.shutdown(wait=True, cancel_futures=True)


def _print_all(
    texts: Iterator[str], fonts_dated: datetime, workers: int, *, tagged: bool = True
) -> Iterator[bytes]:
    """PDF bytes of each HTML text, in order; printed ``workers`` at a time in worker processes."""
    print_one = partial(html_to_pdf, fonts_dated=fonts_dated, tagged=tagged)
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
            try:
                yield from in_order(pool, print_one, texts, workers, LOOK_AHEAD)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    except BrokenProcessPool as exc:
        raise ReportError(
            f"a process printing the PDF died before it finished ({exc})",
            record="--format pdf",
            hint="most often it ran out of memory: print per program (--program), or on a bigger machine",
        ) from exc


def in_order(
    pool: Executor, work: Callable[[str], bytes], texts: Iterator[str], at_once: int, ahead: int = 1
) -> Iterator[bytes]:
    """``work(text)`` for each of ``texts``, run in ``pool``, yielded in order.

    Streamed: a text is taken from ``texts`` (where a chunk's HTML is rendered) only when fewer
    than ``at_once + ahead`` are in flight or printed and not yet yielded (``at_once`` printing,
    the others waiting for a place or for a chunk before them), so the next chunks are rendered
    while the ones before print, and memory holds a few chunks, not the report's. ``ahead`` lets
    the other places go on printing while one long chunk prints (the first chunk of the detail
    carries the portfolio's tables: at 500 projects it takes as long as four others, and with one
    chunk of look-ahead the second tab stood idle for most of it). ``pool.map``
    took every text first (Python 3.11 submits all of them before yielding the first result).
    Fails fast: the first failure among the chunks in flight is raised as soon as it happens,
    not after the chunks queued before it were printed."""
    pending: deque[Future[bytes]] = deque()
    try:
        for text in texts:
            pending.append(pool.submit(work, text))
            while len(pending) >= at_once + max(1, ahead) or (pending and pending[0].done()):
                yield _first_done(pending).result()
        while pending:
            yield _first_done(pending).result()
    finally:
        for future in pending:
            future.cancel()


def _first_done(pending: deque[Future[bytes]]) -> Future[bytes]:
    """The first of ``pending``, removed once done; raises at once the error of any that failed."""
    while True:
        for future in pending:  # a failure further on is not kept waiting behind the first
            error = future.exception() if future.done() else None
            if error is not None:
                raise error
        if pending[0].done():
            return pending.popleft()
        # the next to finish, whichever it is; those already done are left out, or this would spin
        wait([future for future in pending if not future.done()], return_when=FIRST_COMPLETED)


def write_pdf(report: Report, path: Path, *, templates_dir: Path | None = None) -> Path:
    write_atomic(path, report_to_pdf(report, templates_dir=templates_dir))
    return path
