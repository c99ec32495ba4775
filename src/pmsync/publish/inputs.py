"""What to publish, from a report: the files with their library metadata, and one status row per
project. ``pmsync report --publish`` passes the report model it just built; ``pmsync publish --from
DIR`` reads it back from the ``report-*.json`` the JSON writer left beside the other formats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from pmsync.errors import PublishError
from pmsync.publish.models import ProjectStatusRow, Rag, ReportFile
from pmsync.report.model import PortfolioRow, Report

_SEVERITY: dict[Rag, int] = {"grey": 0, "green": 1, "amber": 2, "red": 3}
#: the report link in a status row points at the first of these that was published
LINK_PREFERENCE = (".html", ".pdf", ".xlsx", ".json")


def _worst(statuses: Iterable[Rag]) -> Rag | None:
    ordered = sorted(statuses, key=lambda s: _SEVERITY[s])
    return ordered[-1] if ordered else None


def _variances(row: PortfolioRow) -> str:
    """The reasons behind every rating that is not green, one line each."""
    lines = [
        f"{rating.dimension.capitalize()} ({rating.status}): {rating.explanation}"
        for rating in (row.schedule, row.cost, row.scope, row.risk)
        if rating.status in ("amber", "red")
    ]
    return "\n".join(lines)


def status_rows(report: Report) -> list[ProjectStatusRow]:
    return [
        ProjectStatusRow(
            project=row.key,
            project_name=row.name,
            period=report.meta.period,
            schedule=row.schedule.status,
            cost=row.cost.status,
            scope=row.scope.status,
            risk=row.risk.status,
            overall=row.overall.status,
            key_variances=_variances(row),
        )
        for row in report.portfolio
    ]


def report_files(report: Report, paths: Sequence[Path]) -> list[ReportFile]:
    """The written files with period, project (when the report covers one) and overall status."""
    single = (
        report.meta.projects[0]
        if report.meta.scope == "projects" and len(report.meta.projects) == 1
        else None
    )
    overall = _worst(row.overall.status for row in report.portfolio)
    return [
        ReportFile(path=p, period=report.meta.period, project=single, overall_status=overall) for p in paths
    ]


def read_report_json(path: Path) -> Report:
    try:
        return Report.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        raise PublishError(
            f"cannot read the report model from {path.name}: {str(exc).splitlines()[0]}",
            record=str(path),
            hint="write it again with `pmsync report --format json,...`",
        ) from None


def from_directory(folder: Path) -> tuple[list[ReportFile], list[ProjectStatusRow]]:
    """Every file in ``folder``; metadata and status rows from the ``report-*.json`` among them."""
    if not folder.is_dir():
        raise PublishError(
            f"{str(folder)!r} is not a folder", record="--from", hint="give the report output folder"
        )
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    files: list[ReportFile] = []
    rows: list[ProjectStatusRow] = []
    reports = {
        p.stem: read_report_json(p) for p in paths if p.suffix == ".json" and p.name.startswith("report-")
    }
    for stem, report in reports.items():
        files += report_files(report, [p for p in paths if p.stem == stem])
        rows += status_rows(report)
    files += [ReportFile(path=p) for p in paths if p.stem not in reports]
    return files, rows


def report_links(
    files: Iterable[ReportFile], urls: dict[Path, str], projects: Iterable[str]
) -> dict[str, str]:
    """project key → URL of its report: its own report when published, else the portfolio report."""
    ranked = sorted(
        (f for f in files if f.path in urls),
        key=lambda f: LINK_PREFERENCE.index(f.path.suffix) if f.path.suffix in LINK_PREFERENCE else 99,
    )
    links: dict[str, str] = {}
    portfolio = next((urls[f.path] for f in ranked if f.project is None), None)
    for key in projects:
        own = next((urls[f.path] for f in ranked if f.project == key), None)
        if own or portfolio:
            links[key] = own or portfolio or ""
    return links


def report_gaps(paths: Iterable[Path]) -> list[str]:
    """What the reports among (or beside) ``paths`` say is missing at their status date, one line per
    gap, read from their ``report-*.json``: a report with gaps is not published without
    ``--allow-incomplete``."""
    seen: set[Path] = set()
    lines: list[str] = []
    for path in paths:
        candidate = path if path.suffix == ".json" else path.with_suffix(".json")
        if candidate in seen or not candidate.name.startswith("report-") or not candidate.is_file():
            continue
        seen.add(candidate)
        report = read_report_json(candidate)
        lines += [f"{report.meta.period} {gap.project}: {gap.note}" for gap in report.meta.gaps]
    return lines
