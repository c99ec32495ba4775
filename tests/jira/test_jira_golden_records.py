"""The Jira connector's records, compared whole with a committed golden file.

The connector's CPU work (changelog parsing, field resolution) gets optimised now and then; this test
is what proves such a change alters no output. A full sync of the Cloud and the Data Center sandbox
(real HTTP on 127.0.0.1, the fixtures of ``conftest.py``) yields 240 records each; every record, as
JSON, must equal its entry in ``golden/jira-records-<flavor>.json``.

The sandbox's data is fixed by its seed and anchor; its address (a free port) is written as
``{sandbox}`` so the file does not depend on it. When a change of output is intended, regenerate with
``PMSYNC_UPDATE_GOLDEN=1 pytest tests/jira/test_jira_golden_records.py`` and commit the files with it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pmsync.model import Record
from pmsync.sandbox.jira import JiraSandbox

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "PMSYNC_UPDATE_GOLDEN"


def normalized_records(sandbox: JiraSandbox, connect: Any) -> dict[str, Any]:
    """Every record of a full sync by external id, as JSON, with the sandbox's address left out."""
    found: dict[str, Any] = {}
    for item in connect(sandbox).extract({}):
        if isinstance(item, Record):
            as_json = json.dumps(
                {"type": type(item).__name__, **item.model_dump(mode="json")}, sort_keys=True
            ).replace(sandbox.url.rstrip("/"), "{sandbox}")
            assert item.source.external_id not in found, f"{item.source.external_id} yielded twice"
            found[item.source.external_id] = json.loads(as_json)
    return dict(sorted(found.items()))


def first_difference(expected: Any, actual: Any, where: str = "") -> str:
    """The path of the first value that differs, e.g. ``history[3].before: 'To Do' != 'Done'``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for name in sorted(set(expected) | set(actual)):
            if name not in actual or name not in expected:
                side = "missing" if name not in actual else "not in the golden file"
                return f"{where}.{name}: {side}".lstrip(".")
            if expected[name] != actual[name]:
                return first_difference(expected[name], actual[name], f"{where}.{name}")
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if e != a:
                return first_difference(e, a, f"{where}[{i}]")
    return f"{where.lstrip('.')}: expected {expected!r}, got {actual!r}"


def test_a_full_sync_yields_exactly_the_golden_records(jira_any: JiraSandbox, connect: Any) -> None:
    actual = normalized_records(jira_any, connect)
    path = GOLDEN / f"jira-records-{jira_any.flavor.name}.json"
    if os.environ.get(UPDATE_ENV) == "1":
        # one record a line: a change shows in a diff as the records it touched
        lines = ",\n".join(
            f"{json.dumps(key)}: {json.dumps(value, sort_keys=True)}" for key, value in actual.items()
        )
        path.write_text("{\n" + lines + "\n}\n")
    expected = json.loads(path.read_text())
    assert len(actual) == 240
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    assert not missing and not extra, f"records missing: {missing[:10]}; not in the golden file: {extra[:10]}"
    differing = [key for key in expected if expected[key] != actual[key]]
    assert not differing, (
        f"{len(differing)} record(s) differ from {path.name}, first {differing[0]} at "
        f"{first_difference(expected[differing[0]], actual[differing[0]])}; all: {differing[:20]}; "
        f"regenerate with {UPDATE_ENV}=1 if the change is intended"
    )
