"""The HTML writer: one self-contained, accessible, printable file per report.

Templates are Jinja2 with autoescaping on for every template (whatever its file name), so any text
that came from a source system is escaped. Agencies override templates without forking: a folder
named by ``reports.templates_dir`` in pmsync.yaml is searched first (a :class:`jinja2.ChoiceLoader`),
so a file called ``logo.html.j2`` there replaces the empty default logo, ``style.css.j2`` the styles,
``extra_sections.html.j2`` adds sections, and any other template can be replaced outright.
A ``Content-Security-Policy`` meta tag forbids every external request and script, as a second line
of defence behind escaping.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from pmsync import __version__
from pmsync.errors import ReportError
from pmsync.report import formatting
from pmsync.report.charts import budget_bars_svg, s_curve_svg
from pmsync.report.model import Report

TEMPLATE = "report.html.j2"


def template_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: the agency's folder first (when given), then the shipped templates."""
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise ReportError(
                f"templates folder {str(templates_dir)!r} does not exist",
                record="reports.templates_dir",
                hint="fix the path in pmsync.yaml or remove the key to use the shipped templates",
            )
        loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
    loaders.append(jinja2.PackageLoader("pmsync.report", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        money=formatting.money,
        ratio=formatting.ratio,
        number=formatting.number,
        days=formatting.signed_days,
        isodate=formatting.iso_date,
        moment=formatting.moment,
        rag_word=formatting.rag_word,
        trend_word=formatting.trend_word,
        milestone_word=formatting.milestone_word,
    )
    env.globals.update(s_curve_svg=s_curve_svg, budget_bars_svg=budget_bars_svg, pmsync_version=__version__)
    return env


def render_html(
    report: Report,
    *,
    templates_dir: Path | None = None,
    extra_context: Mapping[str, Any] | None = None,
    environment: jinja2.Environment | None = None,
) -> str:
    """The report as one HTML document (a string). ``environment``: one made by
    :func:`template_environment`, reused by a caller rendering many documents (the PDF's chunks),
    which then compiles each template once instead of once per document."""
    env = environment if environment is not None else template_environment(templates_dir)
    context: dict[str, Any] = {"parts": ("front", "back"), "pdf_chunked": False}
    context.update(extra_context or {})
    try:
        template = env.get_template(TEMPLATE)
        return template.render(report=report, meta=report.meta, **context)
    except jinja2.TemplateError as exc:
        raise ReportError(
            f"template error: {exc}",
            record=_template_location(exc),
            hint="check the overriding template in reports.templates_dir",
        ) from exc


def _template_location(exc: jinja2.TemplateError) -> str:
    """``file:line`` of the template that failed (syntax errors say it; runtime errors via the traceback,
    which Jinja rewrites to point into the template source)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.filename or exc.name or TEMPLATE}:{exc.lineno}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return f"{frame.filename}:{frame.lineno}"
    return TEMPLATE
