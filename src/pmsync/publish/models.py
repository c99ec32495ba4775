"""What gets published and what publishing answers: report files with their metadata, per-project
status rows, one result per file or row, and the :class:`Publisher` protocol every target implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from pmsync.connector import CheckResult
from pmsync.errors import PublishError
from pmsync.logs import redact
from pmsync.store import PublicationInfo

Rag = Literal["green", "amber", "red", "grey"]
Action = Literal["created", "new_version", "renamed", "updated", "unchanged", "failed"]


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
    #: SHA-256 of what pmsync sent (the local file, or the row's fields); empty when it failed first
    content_hash: str = ""
    detail: str = ""
    #: what the destination stores, when it reports it: size and QuickXorHash (SharePoint)
    stored_size: int | None = None
    stored_hash: str | None = None
    #: the destination stores other bytes than were sent (SharePoint rewrites Office files)
    rewritten: bool = False
    #: the error, one line, when ``action`` is "failed" (nothing was recorded for it)
    error: str = ""
    #: the exit code that error alone would give (3: configuration, or a person must sign in again)
    error_exit: int = 0

    def line(self) -> str:
        if self.action == "failed":
            return f"{self.target}: {self.what}: FAILED: {self.error}"
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

    @classmethod
    def failure(
        cls, target: str, what: str, error: Exception, content_hash: str = "", *, exit_code: int | None = None
    ) -> PublishResult:
        code = exit_code if exit_code is not None else int(getattr(error, "exit_code", 1))
        return cls(
            target=target,
            what=what,
            action="failed",
            content_hash=content_hash,
            # printed as is: keep secrets (a pre-authenticated upload URL, a token) out of it
            error=redact(str(error)),
            error_exit=code,
        )


class PublishIncomplete(PublishError):
    """Some files or rows were published, others failed (each named in ``failed``): exit 4, partial.
    Everything that failed is unrecorded, so running the same publish again finishes the job."""

    exit_code = 4

    def __init__(self, failed: list[PublishResult], *, total: int) -> None:
        names = ", ".join(f"{r.target}: {r.what}" for r in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        everything = len(failed) == total
        # Nothing published because of configuration or a needed sign-in: say so as those errors do (3).
        blocked = everything and all(r.error_exit == 3 for r in failed)
        super().__init__(
            f"{len(failed)} of {total} publications failed: {names}{more}",
            hint="the lines above say why; run the same publish again once fixed (what was published is "
            "skipped)",
        )
        self.failed = failed
        if everything:
            self.exit_code = 3 if blocked else 1


class TargetUnavailable(PublishError):
    """The target itself cannot be used (its site or library is missing): no file of it can be
    published, so the run reports its remaining files as not attempted and goes on to other targets."""


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
        stored_size: int | None = None,
        stored_hash: str | None = None,
    ) -> PublicationInfo: ...

    def find_publication(self, destination: str, content_hash: str) -> PublicationInfo | None: ...


class Publisher(Protocol):
    """A publish target. Files are published one by one and each is recorded in the ledger only once
    it is completely published, so a failure part-way leaves nothing recorded and a rerun redoes it.

    ``publish_file`` raises a pmsync error for a file that could not be published (the caller reports
    it and goes on with the next file); ``upsert_status_rows`` yields one result per row, a
    ``failed`` one for a row that could not be written, and goes on with the next row."""

    name: str

    def publish_file(self, file: ReportFile) -> PublishResult: ...

    def upsert_status_rows(
        self, rows: Iterable[ProjectStatusRow], report_urls: dict[str, str]
    ) -> Iterator[PublishResult]:
        """Upsert one row per project and period; ``report_urls`` maps project key → report URL."""
        ...

    def check(self) -> list[CheckResult]: ...
