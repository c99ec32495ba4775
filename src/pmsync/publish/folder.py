"""Publish report files to a local (or mounted network) folder.

Files are written atomically (a temporary file renamed into place), so a reader never sees half a
report. An existing file is never overwritten silently: ``on_conflict: version`` moves it to
``.versions/<name>.<n>`` first, ``rename`` writes ``<stem> 1.<ext>`` beside it. Status rows go to
``project-status.json`` in the folder, one entry per project and period.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pmsync.atomic_file import copy_atomic, write_atomic
from pmsync.connector import CheckResult
from pmsync.errors import PublishError
from pmsync.publish.config import FolderTarget, fill_folder
from pmsync.publish.hashing import FileDigest
from pmsync.publish.models import ProjectStatusRow, PublicationLedger, PublishResult, ReportFile

STATUS_FILE = "project-status.json"


class FolderPublisher:
    """One ``type: folder`` target."""

    def __init__(self, config: FolderTarget, ledger: PublicationLedger, *, base_dir: Path) -> None:
        self.name = config.name
        self.config = config
        self.ledger = ledger
        self.root = config.path if config.path.is_absolute() else base_dir / config.path

    def publish_file(self, file: ReportFile) -> PublishResult:
        name = file.target_name
        try:
            digest = FileDigest.of_file(file.path)
        except OSError as exc:
            raise PublishError(
                f"cannot read {str(file.path)!r}: {exc.strerror}", source=self.name, record=name
            ) from None
        folder = self.root / fill_folder(self.config.folder, period=file.period, project=file.project)
        target = folder / name
        destination = target.resolve().as_uri()
        previous = self.ledger.find_publication(destination, digest.sha256)
        if previous is not None and self._still_there(previous.item_id, digest):
            return PublishResult(
                target=self.name,
                what=name,
                action="unchanged",
                url=previous.url,
                item_id=previous.item_id,
                content_hash=digest.sha256,
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            action, detail = "created", ""
            if target.exists():
                if self.config.on_conflict == "version":
                    kept = self._keep_version(target)
                    action, detail = "new_version", f"previous kept as {kept.name}"
                else:
                    target = self._free_name(target)
                    action, detail = "renamed", f"as {target.name!r}"
            copy_atomic(file.path, target)
        except OSError as exc:
            raise PublishError(
                f"cannot write {str(target)!r}: {exc.strerror}",
                source=self.name,
                record=name,
                hint="check the folder exists and is writable",
            ) from None
        url = target.resolve().as_uri()
        self.ledger.record_publication(
            destination=destination,
            file_name=target.name,
            content_hash=digest.sha256,
            url=url,
            item_id=str(target),
        )
        return PublishResult(
            target=self.name,
            what=name,
            action=action,
            url=url,
            item_id=str(target),
            content_hash=digest.sha256,
            detail=detail,
        )

    @staticmethod
    def _still_there(item_id: str | None, digest: FileDigest) -> bool:
        """The file we wrote last time is still there, unchanged (nobody removed or edited it)."""
        kept = Path(item_id) if item_id else None
        return kept is not None and kept.is_file() and FileDigest.of_file(kept).sha256 == digest.sha256

    def _keep_version(self, target: Path) -> Path:
        versions = target.parent / ".versions"
        versions.mkdir(exist_ok=True)
        n = 1 + sum(1 for p in versions.glob(f"{target.name}.*"))
        kept = versions / f"{target.name}.{n}"
        os.replace(target, kept)
        return kept

    @staticmethod
    def _free_name(target: Path) -> Path:
        n = 1
        while True:
            candidate = target.with_name(f"{target.stem} {n}{target.suffix}")
            if not candidate.exists():
                return candidate
            n += 1

    def upsert_status_rows(
        self, rows: Iterable[ProjectStatusRow], report_urls: dict[str, str]
    ) -> Iterator[PublishResult]:
        path = self.root / STATUS_FILE
        try:
            existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        except (OSError, ValueError) as exc:
            error = PublishError(
                f"cannot read {str(path)!r}: {exc}",
                source=self.name,
                record=STATUS_FILE,
                hint="fix or remove the file; pmsync rewrites it",
            )
            for row in rows:
                yield PublishResult.failure(self.name, f"{row.project} {row.period}", error)
            return
        by_key = {(r.get("project"), r.get("period")): r for r in existing if isinstance(r, dict)}
        results: list[PublishResult] = []
        for row in rows:
            entry = row.model_dump(mode="json")
            entry["report_url"] = row.report_url or report_urls.get(row.project)
            key = (row.project, row.period)
            action = "unchanged" if by_key.get(key) == entry else ("updated" if key in by_key else "created")
            by_key[key] = entry
            content = json.dumps(entry, sort_keys=True)
            results.append(
                PublishResult(
                    target=self.name,
                    what=f"{row.project} {row.period}",
                    action=action,
                    url=path.resolve().as_uri(),
                    content_hash=_sha(content),
                )
            )
        if any(r.action != "unchanged" for r in results):
            self.root.mkdir(parents=True, exist_ok=True)
            data = json.dumps(
                sorted(by_key.values(), key=lambda r: (str(r["project"]), str(r["period"]))), indent=2
            )
            write_atomic(path, (data + "\n").encode("utf-8"))
        yield from results

    def check(self) -> list[CheckResult]:
        if self.root.is_dir() and os.access(self.root, os.W_OK):
            return [CheckResult(f"{self.name}: folder", "ok", str(self.root))]
        if not self.root.exists() and os.access(
            self.root.parent if self.root.parent.exists() else Path("."), os.W_OK
        ):
            return [CheckResult(f"{self.name}: folder", "ok", f"{self.root} (will be created)")]
        return [
            CheckResult(
                f"{self.name}: folder",
                "fail",
                f"{self.root} is not a writable folder",
                "create it or fix path:",
            )
        ]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
