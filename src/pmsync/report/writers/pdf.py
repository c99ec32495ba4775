"""The PDF writer: the HTML report printed by WeasyPrint (the optional ``pmsync[pdf]`` extra).

The HTML's print styles give each project its own pages. WeasyPrint keeps the whole laid-out
document in memory (several MB per project), so a big portfolio is printed in chunks of
:data:`PROJECTS_PER_CHUNK` projects, each chunk's pages numbered on from the previous one, and the
chunks are joined with pypdf; memory then stays that of one chunk.

Reproducible: WeasyPrint takes the document dates from the ``dcterms.created`` / ``dcterms.modified``
meta tags (the report's data timestamp) and derives its file identifier from the content, and the join
adds no date, so the same report gives byte-identical PDFs on one machine (fonts come from the system,
so another machine may embed different font files).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from pmsync.errors import ReportError
from pmsync.report.model import Report

INSTALL_HINT = (
    "install the PDF extra: pip install 'pmsync[pdf]' (WeasyPrint also needs Pango, see docs/report.md)"
)
#: projects printed per WeasyPrint pass when a report is too big for one
PROJECTS_PER_CHUNK = 20


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


def ensure_available() -> None:
    """Raise the clear "install the pdf extra" error now rather than after other formats were written."""
    _weasyprint()


def html_to_pdf(html: str) -> bytes:
    """Print an HTML report to PDF bytes. The HTML must be self-contained (it is: no URLs to fetch)."""
    weasyprint = _weasyprint()

    def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # The report never references external resources; refusing keeps a hostile template from
        # making WeasyPrint read local files or the network.
        raise ReportError(f"the report tried to load {url!r}; reports must be self-contained", record="PDF")

    # WeasyPrint logs CSS it does not support (e.g. print-color-adjust) as warnings; not our users' concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=refuse_fetch, base_url=".")
    data: bytes = document.write_pdf()
    return data


def report_to_pdf(report: Report, *, templates_dir: Path | None = None, html: str | None = None) -> bytes:
    """The report as PDF bytes: one WeasyPrint pass when it is small, chunks of projects when not.
    ``html`` is the already rendered HTML of the whole report, reused for the one-pass case."""
    from pmsync.report.writers.html import render_html

    projects = report.projects
    if len(projects) <= PROJECTS_PER_CHUNK:
        return html_to_pdf(html if html is not None else render_html(report, templates_dir=templates_dir))
    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError as exc:
        raise ReportError(
            "PDF output needs pypdf, which is not installed", record="--format pdf", hint=INSTALL_HINT
        ) from exc
    writer = PdfWriter()
    first_page = 1
    starts = range(0, len(projects), PROJECTS_PER_CHUNK)
    for index, start in enumerate(starts):
        parts = (("front",) if index == 0 else ()) + (("back",) if index == len(starts) - 1 else ())
        chunk = report.model_copy(update={"projects": projects[start : start + PROJECTS_PER_CHUNK]})
        text = render_html(
            chunk,
            templates_dir=templates_dir,
            extra_context={"parts": parts, "pdf_first_page": first_page, "pdf_chunked": True},
        )
        reader = PdfReader(io.BytesIO(html_to_pdf(text)))
        if index == 0 and reader.metadata is not None:
            writer.add_metadata(dict(reader.metadata))
        writer.append(reader)
        first_page += len(reader.pages)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_pdf(report: Report, path: Path, *, templates_dir: Path | None = None) -> Path:
    from pmsync.report.writers import write_atomic

    write_atomic(path, report_to_pdf(report, templates_dir=templates_dir))
    return path
