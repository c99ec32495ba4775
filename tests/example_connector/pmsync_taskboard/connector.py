"""``TaskBoardConnector``: tasks of a REST task board as pmsync work items.

The service: ``GET {url}/api/boards/{board}/tasks?updated_since=...&limit=...&cursor=...`` answers
``{"tasks": [...], "next_cursor": "..."}`` ordered by ``(updated, id)``; ``GET
{url}/api/boards/{board}/task-ids`` lists every live task's id. The key is sent as a bearer token.

Per board: the tasks changed since the cursor's mark, a checkpoint after each page; then every live id
is marked :class:`~pmsync.connector.Seen` and ``SnapshotComplete(scope="board:<id>")`` lets the engine
delete the tasks that are gone. Cursor: ``{"boards": {"<id>": {"mark": "<updated>", "at_mark": [ids]}}}``
(the ids already read at the mark, so re-reading from it yields nothing twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pmsync.connector import (
    Checkpoint,
    CheckResult,
    ConnectorConfig,
    Cursor,
    ExtractItem,
    Seen,
    SnapshotComplete,
)
from pmsync.connector_kit import MappingFile, SourceConnector
from pmsync.errors import PmsyncError
from pmsync.model import StatusCategory, WorkItem
from pmsync.paging import TokenPaginator, follow

#: the shipped mapping; a user's copy in their mappings folder is named by file name instead
SHIPPED_MAPPING = str(Path(__file__).with_name("taskboard.yaml"))


class TaskBoardConfig(ConnectorConfig):
    url: str = Field(pattern=r"^https?://")
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    boards: list[str] = Field(min_length=1)
    mapping: str = SHIPPED_MAPPING
    page_size: int = Field(default=50, ge=1, le=500)


class TaskBoardMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the board's status names → pmsync's categories
    status: dict[str, StatusCategory]
    #: board id → pmsync project key
    boards: dict[str, str] = Field(default_factory=dict)


class TaskBoardConnector(SourceConnector[TaskBoardConfig]):
    system: ClassVar[str] = "taskboard"
    Config: ClassVar[type[TaskBoardConfig]] = TaskBoardConfig
    mapping = MappingFile(TaskBoardMapping)

    def _session(self) -> Any:
        session = self.http_session()
        key = self.secret(self.config.api_key, self.config.api_key_file, what="task board API key")
        session.headers["Authorization"] = f"Bearer {key}"
        return session

    def source_checks(self) -> list[CheckResult]:
        try:
            with self._session() as session:
                for board in self.config.boards:
                    self.get_json(session, self._url(board, "task-ids"), record=f"board {board}")
        except PmsyncError as exc:
            return [CheckResult("boards", "fail", str(exc), exc.hint or "check url, api_key and boards")]
        return [CheckResult("boards", "ok", f"{len(self.config.boards)} board(s) readable")]

    def _url(self, board: str, resource: str) -> str:
        return f"{self.config.url.rstrip('/')}/api/boards/{board}/{resource}"

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        state: dict[str, Any] = {k: dict(v) for k, v in (cursor.get("boards") or {}).items()}
        with self._session() as session:
            for board in self.config.boards:
                yield from self._board(session, board, state)

    def _board(self, session: Any, board: str, state: dict[str, Any]) -> Iterator[ExtractItem]:
        mark = state.get(board, {}).get("mark")
        at_mark = set(state.get(board, {}).get("at_mark", []))
        where = f"board {board}"
        paging = TokenPaginator(source=self.source, what=where, key="next_cursor", last_key=None)
        params = {"limit": self.config.page_size, **({"updated_since": mark} if mark else {})}

        def fetch(token: str | None) -> Any:
            return self.get_json(
                session, self._url(board, "tasks"), params={**params, "cursor": token}, record=where
            )

        for page in follow(fetch, paging):
            for task in page.get("tasks", []):
                updated, task_id = str(task.get("updated")), str(task.get("id"))
                if updated == mark and task_id in at_mark:
                    continue  # read at the mark by the run that set it
                yield self.work_item(board, task)
                at_mark = at_mark | {task_id} if updated == mark else {task_id}
                mark = updated
            if mark:
                state[board] = {"mark": mark, "at_mark": sorted(at_mark)}
            yield Checkpoint({"boards": state})
        live = self.get_json(session, self._url(board, "task-ids"), record=where).get("ids", [])
        for task_id in live:
            yield Seen("work_item", self.ref(f"{board}/{task_id}"))
        yield SnapshotComplete(scope=f"board:{board}")
        yield Checkpoint({"boards": state})

    def work_item(self, board: str, task: dict[str, Any]) -> WorkItem:
        record = f"board {board} task {task.get('id')}"
        status = str(task.get("status"))
        if status not in self.mapping.status:
            raise self.data_error(
                f"status {status!r} is not in the mapping",
                record=record,
                hint=f"add it under status: in the mapping (known: {', '.join(self.mapping.status)})",
            )
        try:
            due = date.fromisoformat(task["due"]) if task.get("due") else None
            updated = datetime.fromisoformat(str(task["updated"]))
        except (KeyError, ValueError) as exc:
            raise self.data_error(f"a date is not ISO 8601: {exc}", record=record) from None
        return WorkItem(
            source=self.ref(f"{board}/{task['id']}"),
            source_modified=updated,
            project=self.project_for(board, mapped=self.mapping.boards),
            scope=f"board:{board}",
            name=str(task.get("title") or task["id"]),
            status=status,
            status_category=self.mapping.status[status],
            due=due,
            finish=due,
            assignee=task.get("assignee"),
        )
