"""What the store hands back besides records (query results, not tables: those are in ``schema``): run
ledger entries, write counts, publications."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: ``interrupted``: stopped by Ctrl-C or SIGTERM, its committed work kept
RunStatus = Literal["running", "ok", "failed", "locked", "interrupted"]


class WriteCounts(BaseModel):
    """What a write did: rows inserted, updated (incl. restored), deleted, and found unchanged."""

    model_config = ConfigDict(frozen=True)

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            deleted=self.deleted + other.deleted,
            unchanged=self.unchanged + other.unchanged,
        )

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


class SkippedRowInfo(BaseModel):
    where: str
    reason: str


class SyncRunInfo(BaseModel):
    """One row of the run ledger (``pmsync runs``)."""

    model_config = ConfigDict(frozen=True)

    run_id: int
    source_name: str
    source_type: str
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus
    cursor_before: dict[str, Any] | None = None
    cursor_after: dict[str, Any] | None = None
    counts: WriteCounts = Field(default_factory=WriteCounts)
    skipped_count: int = 0
    skipped: list[SkippedRowInfo] = Field(default_factory=list)
    error: str | None = None
    #: what a reader must know about the run besides its counts (see the ledger's ``notes`` column)
    notes: list[str] = Field(default_factory=list)
    host: str | None = None
    pid: int | None = None
    #: set by the sync engine on the run it just did, not stored: 3 when a configuration or mapping
    #: error (fix the file, nothing to retry) failed it, so the command can exit as the README says
    failure_exit_code: int | None = Field(default=None, exclude=True)

    @property
    def inserted(self) -> int:
        return self.counts.inserted

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def deleted(self) -> int:
        return self.counts.deleted

    @property
    def unchanged(self) -> int:
        return self.counts.unchanged

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class PublicationInfo(BaseModel):
    """A report file published somewhere: lets ``publish`` skip re-uploading identical content."""

    model_config = ConfigDict(frozen=True)

    id: int
    destination: str
    url: str | None = None
    item_id: str | None = None
    file_name: str
    content_hash: str
    published_at: datetime
    run_id: int | None = None
    #: the size and hash the destination reports for its copy (SharePoint's quickXorHash), when known
    stored_size: int | None = None
    stored_hash: str | None = None


class StartedRun(BaseModel):
    """A sync run just opened in the ledger (:meth:`pmsync.store.Store.start_run`)."""

    model_config = ConfigDict(frozen=True)

    run_id: int
    #: the source's committed cursor when the run began (``{}`` before its first checkpoint)
    cursor_before: dict[str, Any]
    #: earlier runs of this source that died without finishing, closed by this start
    interrupted: int = 0
