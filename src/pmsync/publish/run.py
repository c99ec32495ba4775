"""Publish to the configured targets: the registry of publisher types and the one loop that sends
files then status rows to each target."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from pmsync.config import PmsyncConfig
from pmsync.connector import CheckResult
from pmsync.errors import AuthError, ConfigError, PmsyncError, PublishError
from pmsync.publish.config import TargetConfig, publish_section, select_targets
from pmsync.publish.inputs import report_files, report_links, status_rows
from pmsync.publish.models import (
    ProjectStatusRow,
    PublicationLedger,
    Publisher,
    PublishIncomplete,
    PublishResult,
    ReportFile,
    TargetUnavailable,
)
from pmsync.report.model import Report

log = logging.getLogger(__name__)

#: target ``type`` → "module:Class"; a new kind of destination is a new module and a line here
PUBLISHERS: dict[str, str] = {
    "sharepoint": "pmsync.publish.sharepoint:SharePointPublisher",
    "folder": "pmsync.publish.folder:FolderPublisher",
}


def build_publisher(
    target: TargetConfig, ledger: PublicationLedger, *, base_dir: Path, **options: Any
) -> Publisher:
    """The publisher for one configured target (``options`` go to its constructor, e.g. tokens)."""
    spec = PUBLISHERS.get(target.type)
    if spec is None:
        raise ConfigError(
            f"unknown publish target type {target.type!r}",
            record=f"publish.targets.{target.name}",
            hint=f"choose from {', '.join(PUBLISHERS)}",
        )
    module_name, _, class_name = spec.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cast(Publisher, cls(target, ledger, base_dir=base_dir, **options))


def publish(
    config: PmsyncConfig,
    ledger: PublicationLedger,
    files: Sequence[ReportFile],
    rows: Sequence[ProjectStatusRow] = (),
    *,
    targets: tuple[str, ...] = (),
    **options: Any,
) -> Iterator[PublishResult]:
    """Publish ``files`` and then ``rows`` to each chosen target (all enabled ones by default).

    Results stream out as each file finishes. One file's failure never stops the others or the status
    rows: it comes out as a ``failed`` result (nothing recorded for it, so a rerun retries it) and the
    run goes on. Only a failure that concerns the whole target (sign-in, the site, the library, the
    configuration) skips that target's remaining files, each reported as failed with that reason;
    the other targets still run. Callers decide the exit code from the failed results
    (:func:`raise_if_incomplete`).
    """
    chosen = select_targets(publish_section(config), targets)
    for target in chosen:
        try:
            publisher = build_publisher(target, ledger, base_dir=config.base_dir, **options)
        except PmsyncError as exc:
            yield from _skipped(target.name, files, rows, exc)
            continue
        urls: dict[Path, str] = {}
        for index, file in enumerate(files):
            try:
                result = publisher.publish_file(file)
            except PmsyncError as exc:
                log.warning("%s: %s: %s", target.name, file.target_name, exc)
                yield PublishResult.failure(target.name, file.target_name, exc)
                if _whole_target(exc):
                    yield from _skipped(target.name, files[index + 1 :], rows, exc)
                    break
                continue
            if result.url:
                urls[file.path] = result.url
            yield result
        else:
            if rows:
                links = report_links(files, urls, [r.project for r in rows])
                yield from publisher.upsert_status_rows(rows, links)


def _whole_target(exc: PmsyncError) -> bool:
    """Errors that no other file of the target would escape: sign-in, configuration, a missing site
    or library."""
    return isinstance(exc, AuthError | ConfigError | TargetUnavailable)


def _skipped(
    target: str, files: Sequence[ReportFile], rows: Sequence[ProjectStatusRow], exc: PmsyncError
) -> Iterator[PublishResult]:
    reason = PublishError(f"not attempted: {exc.message}", source=target, hint=exc.hint)
    for file in files:
        yield PublishResult.failure(target, file.target_name, reason, exit_code=exc.exit_code)
    for row in rows:
        yield PublishResult.failure(target, f"{row.project} {row.period}", reason, exit_code=exc.exit_code)


def raise_if_incomplete(results: Sequence[PublishResult]) -> None:
    """Raise :class:`PublishIncomplete` (exit 4, or 1 when nothing at all was published) naming what
    failed, when anything did."""
    failed = [r for r in results if r.action == "failed"]
    if failed:
        raise PublishIncomplete(failed, total=len(results))


class _CheckOnly:
    """A ledger for publishers built only to run their checks."""

    def record_publication(self, **kwargs: Any) -> Any:
        raise AssertionError("checks do not publish")

    def find_publication(self, destination: str, content_hash: str) -> Any:
        raise AssertionError("checks do not publish")


def check_targets(config: PmsyncConfig) -> list[CheckResult]:
    """``pmsync doctor``'s lines for the publish targets: config, sign-in, site, library, columns."""
    try:
        section = publish_section(config)
    except ConfigError as exc:
        return [CheckResult("publish", "fail", exc.message, exc.hint or "see docs/publish.md")]
    results: list[CheckResult] = []
    for target in section.targets:
        prefix = f"publish target {target.name} ({target.type})"
        if not target.enabled:
            results.append(CheckResult(prefix, "ok", "disabled (enabled: false); not checked"))
            continue
        try:
            publisher = build_publisher(
                target, cast(PublicationLedger, _CheckOnly()), base_dir=config.base_dir
            )
            results.extend(publisher.check())
        except PmsyncError as exc:
            results.append(CheckResult(prefix, "fail", exc.message, exc.hint or ""))
    return results


def publish_files(
    config: PmsyncConfig, ledger: PublicationLedger, report: Report, paths: Sequence[Path]
) -> Iterator[str]:
    """``pmsync report --publish``: publish the files just written and the report's status rows; one
    line per file or row and target, then :class:`PublishIncomplete` (exit 4) if any failed."""
    results: list[PublishResult] = []
    for result in publish(config, ledger, report_files(report, paths), status_rows(report)):
        results.append(result)
        yield result.line()
    raise_if_incomplete(results)
