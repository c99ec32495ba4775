"""One row a person keeps (a CSV line, a YAML mapping, a SharePoint list item) → its normalized record.

Shared by the oversight connectors so a row means the same wherever it is kept: ``id`` (unique within
its kind) and ``project`` (a pmsync key, or the project's key in that source) are required, the rest
are the record's fields; a bad value is a :class:`~pmsync.errors.SourceDataError` naming ``where``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from pmsync.errors import SourceDataError
from pmsync.model import MaintainedInput, SourceRef
from pmsync.oversight.kinds import KINDS


def input_record(
    kind: str,
    row: Mapping[str, Any],
    *,
    where: str,
    system: str,
    source_name: str,
    scope: str,
    project_links: Mapping[str, str],
) -> MaintainedInput:
    values = dict(row)
    row_id = values.pop("id", None)
    project = values.pop("project", None)
    if not row_id or not project:
        missing = " and ".join(k for k, v in (("id", row_id), ("project", project)) if not v)
        raise SourceDataError(f"{where}: {missing} missing", source=source_name, record=where)
    project = str(project)
    values["project"] = project_links.get(project, project)
    values["source"] = SourceRef(system=system, instance=source_name, external_id=f"{kind}:{row_id}")
    values["scope"] = scope
    try:
        record = KINDS[kind].model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg']}" for e in exc.errors()
        )
        raise SourceDataError(f"{where}: {problems}", source=source_name, record=where) from None
    # the person's "when" is the record's modification time at its source
    return record.model_copy(update={"source_modified": record.recorded_at})
