"""The PDF writer: the HTML report printed by WeasyPrint (the optional ``pmsync[pdf]`` extra).

The HTML's print styles give each project its own pages. WeasyPrint takes the document dates from
the ``dcterms.created`` / ``dcterms.modified`` meta tags (the report's data timestamp), and its file
identifier is derived from the content, so the same report gives byte-identical PDFs on one machine
(fonts come from the system, so another machine may embed different font files).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pmsync.errors import ReportError
from pmsync.report.model import Report

INSTALL_HINT = (
    "install the PDF extra: pip install 'pmsync[pdf]' (WeasyPrint also needs Pango, see docs/report.md)"
)


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


def write_pdf(report: Report, path: Path, *, templates_dir: Path | None = None) -> Path:
    from pmsync.report.writers import write_atomic
    from pmsync.report.writers.html import render_html

    write_atomic(path, html_to_pdf(render_html(report, templates_dir=templates_dir)))
    return path
