"""What gets published and what publishing answers: report files with their metadata, per-project
status rows, one result per file or row, and the :class:`Publisher` protocol every target implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from pmsync.connector import CheckResult
from pmsync.store.models import PublicationInfo

Rag = Literal["green", "amber", "red", "grey"]
Action = Literal["created", "new_version", "renamed", "updated", "unchanged"]


class ReportFile(BaseModel):
    """One file to publish, with the library metadata set on it (None = leave the column empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    #: the name at the destination; defaults to the file's own name
    name: str | None = None
    period: str | None = None
    project: str | None = None
    overall_status: Rag | None = None

    @property
    def target_name(self) -> str:
        return self.name or self.path.name


class ProjectStatusRow(BaseModel):
    """One row of the "Project Status" list: a project's ratings for a period, keyed by both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(min_length=1)
    period: str = Field(min_length=1)
    project_name: str | None = None
    schedule: Rag = "grey"
    cost: Rag = "grey"
    scope: Rag = "grey"
    risk: Rag = "grey"
    overall: Rag = "grey"
    key_variances: str = ""
    #: link to the report; when None the publisher links the report file it uploaded in the same run
    report_url: str | None = None


class PublishResult(BaseModel):
    """What happened to one file or row at one target."""

    model_config = ConfigDict(frozen=True)

    target: str
    what: str  # the file name or "project period"
    action: Action
    url: str | None = None
    item_id: str | None = None
    content_hash: str
    detail: str = ""

    def line(self) -> str:
        words = {
            "created": "published",
            "new_version": "published as a new version",
            "renamed": "published under a new name (the existing file was kept)",
            "updated": "updated",
            "unchanged": "unchanged, nothing to do",
        }[self.action]
        where = f" → {self.url}" if self.url else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.target}: {self.what}: {words}{extra}{where}"


class PublicationLedger(Protocol):
    """The part of :class:`pmsync.store.Store` publishing needs."""

    def record_publication(
        self,
        *,
        destination: str,
        file_name: str,
        content_hash: str,
        url: str | None = None,
        item_id: str | None = None,
    ) -> PublicationInfo: ...

    def find_publication(self, destination: str, content_hash: str) -> PublicationInfo | None: ...


class Publisher(Protocol):
    """A publish target. Files are published one by one and each is recorded in the ledger only once
    it is completely published, so a failure part-way leaves nothing recorded and a rerun redoes it."""

    name: str

    def publish_files(self, files: Iterable[ReportFile]) -> Iterator[PublishResult]: ...

    def upsert_status_rows(
        self, rows: Iterable[ProjectStatusRow], report_urls: dict[str, str]
    ) -> Iterator[PublishResult]:
        """Upsert one row per project and period; ``report_urls`` maps project key → report URL."""
        ...

    def check(self) -> list[CheckResult]: ...
