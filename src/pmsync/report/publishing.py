"""``pmsync report --publish``: hand the written files and the model to the publisher.

The publisher (:mod:`pmsync.publish`) derives one ``ProjectStatusRow`` per portfolio row (its ratings and
the reasons behind every amber or red) and the library metadata of each file from the report model,
and records each publication in the store's ledger, so publishing a byte-identical re-run does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from pmsync.config import PmsyncConfig
from pmsync.report.model import Report
from pmsync.store import Store


def publish_report(
    config: PmsyncConfig, store: Store, report: Report, paths: Sequence[Path]
) -> Iterator[str]:
    """Publish ``paths`` and the per-project status rows to every enabled target; one line per file
    or row and target saying what happened."""
    from pmsync.publish import publish_files

    yield from publish_files(config, store, report, paths)
