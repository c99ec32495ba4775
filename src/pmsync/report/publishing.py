"""``pmsync report --publish``: hand the written files to the publisher (``pmsync.publish``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from pmsync.config import PmsyncConfig
from pmsync.errors import ConfigError
from pmsync.report.model import Report
from pmsync.store import Store


def publish_report(
    config: PmsyncConfig, store: Store, report: Report, paths: Sequence[Path]
) -> Iterator[str]:
    """Publish ``paths`` (and the per-project status rows) to every configured target; yields one line
    per file and target saying what happened."""
    try:
        from pmsync.publish import publish_files  # type: ignore[attr-defined]
    except ImportError:
        raise ConfigError(
            "publishing is not available in this installation",
            record="--publish",
            hint="write the report without --publish and copy the files, or upgrade pmsync",
        ) from None
    yield from publish_files(config, store, report, paths)
