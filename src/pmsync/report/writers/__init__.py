"""Report writers: each renders a :class:`~pmsync.report.model.Report` to one file format.

:func:`write_report` is the one entry point the CLI and the demo use. Every writer writes to a
temporary file next to the target and renames it into place, so a failed render never leaves a
half-written report where a publisher would pick it up. Outputs are reproducible: the same report
model gives byte-identical files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from pmsync.atomic_file import write_atomic
from pmsync.errors import ReportError
from pmsync.report.model import Report

if TYPE_CHECKING:
    from pmsync.report.writers.pdf import PdfEngine

__all__ = ["FORMATS", "parse_formats", "report_basename", "write_atomic", "write_report"]

FORMATS = ("html", "xlsx", "pdf", "json")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def report_basename(report: Report) -> str:
    """``report-2026-11`` for the portfolio, ``report-2026-11-ERP`` for one project,
    ``report-2026-11-Modernisation`` for a program (unsafe characters become ``_``)."""
    name = f"report-{report.meta.period}"
    if report.meta.scope == "program" and report.meta.program:
        name += f"-{report.meta.program}"
    elif report.meta.scope == "projects":
        keys = "-".join(report.meta.projects)
        name += "-" + (keys if len(keys) <= 60 else f"{len(report.meta.projects)}-projects")
    return _UNSAFE.sub("_", name)


def parse_formats(text: str | Sequence[str]) -> list[str]:
    """``"html,xlsx"`` → ``["html", "xlsx"]``, validated, in a stable order (pdf after html)."""
    items = text.split(",") if isinstance(text, str) else [p for t in text for p in t.split(",")]
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ReportError(
            f"unknown report format {', '.join(unknown)}",
            record="--format",
            hint=f"choose from {', '.join(FORMATS)}",
        )
    return [fmt for fmt in FORMATS if fmt in wanted]


def write_report(
    report: Report,
    out_dir: Path,
    formats: Sequence[str],
    *,
    templates_dir: Path | None = None,
    pdf_engine: PdfEngine = "auto",
    chromium_path: str | None = None,
    notice: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the report in each format into ``out_dir``; returns the paths in format order.

    Every format is rendered before the first file is written, so a format that fails to render
    leaves the folder as it was (no mix of this run's files and an earlier run's). ``notice`` is
    told, in one line, when ``pdf_engine: auto`` found no Chromium and WeasyPrint prints the PDF
    (about ten times slower), and what to install.
    """
    base = out_dir / report_basename(report)
    html_text: str | None = None
    chosen = parse_formats(formats)
    if "pdf" in chosen:  # fail before writing anything when the PDF extra is missing
        from pmsync.report.writers.pdf import ensure_available, resolve_engine

        ensure_available(pdf_engine, chromium_path)
        resolved = resolve_engine(pdf_engine, chromium_path)
        if resolved.fell_back and notice is not None:
            notice(resolved.reason)
    files: dict[str, bytes] = {}
    # The XLSX and the JSON (and the HTML, when the PDF is printed in chunks and does not print it)
    # are rendered in a thread once the PDF's pages are printed, while the PDF's chunks are still
    # being joined: the join's last steps and its save run on one core (about 2.5 s at 500
    # projects), and the other core renders them meanwhile. Rendered after the PDF they added
    # about 4 s to the report at 500 projects; rendered while the PDF printed they took the cores
    # the printing uses (and this process's interpreter, which hands the browser its pages). A
    # report printed in one pass (up to 20 projects) has no join process: the formats then follow
    # the printing, a fraction of a second.
    meanwhile: list[str] = []
    if "pdf" in chosen:
        from pmsync.report.writers.pdf import prints_in_one_pass

        html_beside = "html" in chosen and not prints_in_one_pass(report)
        meanwhile = [fmt for fmt in chosen if fmt in ("xlsx", "json") or (fmt == "html" and html_beside)]
    if "html" in chosen and "html" not in meanwhile:
        html_text = _render_html(report, templates_dir)
        files["html"] = html_text.encode("utf-8")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-formats") as pool:
        beside: dict[str, Future[bytes]] = {}

        def render_beside() -> None:  # report_to_pdf calls it once, when the pages are printed
            beside.update({fmt: pool.submit(_render_data, report, fmt, templates_dir) for fmt in meanwhile})

        try:
            if "pdf" in chosen:
                from pmsync.report.writers.pdf import report_to_pdf

                pdf = report_to_pdf(
                    report,
                    templates_dir=templates_dir,
                    html=html_text,
                    engine=pdf_engine,
                    browser=chromium_path,
                    printed=render_beside,
                )
                files["pdf"] = pdf
            for fmt in chosen:
                if fmt not in files:
                    files[fmt] = (
                        beside[fmt].result() if fmt in beside else _render_data(report, fmt, templates_dir)
                    )
        finally:  # after a failure or an interruption, what has not started is not rendered for nothing
            for future in beside.values():
                future.cancel()
    rendered = [(base.with_name(f"{base.name}.{fmt}"), files[fmt]) for fmt in chosen]
    for path, data in rendered:
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise ReportError(
                f"cannot write the file: {exc.strerror or exc}",
                record=str(path),
                hint="check that the output folder is writable, has space, and that no folder has the "
                "report's file name",
            ) from None
    return [path for path, _ in rendered]


def _render_html(report: Report, templates_dir: Path | None) -> str:
    from pmsync.report.writers.html import render_html

    return render_html(report, templates_dir=templates_dir)


def _render_data(report: Report, fmt: str, templates_dir: Path | None = None) -> bytes:
    """The HTML, XLSX or JSON file's bytes."""
    if fmt == "html":
        return _render_html(report, templates_dir).encode("utf-8")
    if fmt == "xlsx":
        from pmsync.report.writers.xlsx import xlsx_bytes

        return xlsx_bytes(report)
    if fmt == "json":
        from pmsync.report.writers.json import json_bytes

        return json_bytes(report)
    raise ReportError(f"unknown report format {fmt!r}")  # pragma: no cover - parse_formats() rejects it
