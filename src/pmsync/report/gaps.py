"""Where a report cannot say where a project stood: projects and sources with no data valid at the
status date.

A report must never render missing data as a rating: a project synced for the first time after its
status date (from a source without history), or a source linked to a project that delivered nothing
valid then, is listed here, shown at the top of the report, and ``pmsync report --publish`` refuses to
publish it unless ``--allow-incomplete`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from pmsync.config import PmsyncConfig
from pmsync.report.model import DataGap
from pmsync.store import Store


def data_gaps(config: PmsyncConfig, view: Store, keys: Sequence[str]) -> list[DataGap]:
    """The gaps of a report whose reads went through ``view`` (a :meth:`Store.at` view), once they
    are done: the view counted what each project got from each source."""
    read = view.valid_time
    if read is None:
        return []
    status_date = read.valid_on.isoformat()
    counts = read.notes.records
    by_key = {p.key: p for p in config.projects}
    gaps: list[DataGap] = []
    for key in keys:
        if not any(n for (project, _), n in counts.items() if project == key):
            gaps.append(
                DataGap(
                    project=key,
                    note=f"no data valid at the status date {status_date}: nothing synced yet, or "
                    "every source's data for it starts later",
                )
            )
            continue
        project = by_key.get(key)
        if project is None or not project.links:
            continue
        for source in config.sources:
            if not source.enabled or (source.name not in project.links and source.type not in project.links):
                continue
            if not counts.get((key, source.name)):
                gaps.append(
                    DataGap(
                        project=key,
                        source=source.name,
                        note=f"{source.name} has no data for {key} valid at the status date {status_date}",
                    )
                )
    return gaps
