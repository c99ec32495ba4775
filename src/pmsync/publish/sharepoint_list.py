"""Upsert per-project status rows in a SharePoint list ("Project Status"), keyed by project + period.

A row whose fields are exactly what the ledger recorded last time is skipped without a call. For
the others, the period's existing rows are read once (``fields/Period eq ...``, paged); a project with
no row gets one created, one with a row gets it updated with ``If-Match`` on its ETag (a 412 means
someone edited it meanwhile: read it again and retry once).

Creates are idempotent: a POST whose answer was lost (timeout, dropped connection, 5xx after the
row was written) may have landed, so before trying again the row is looked up by its key (project +
period) and used if it is there. Duplicates left by earlier runs are healed: when a project has
several rows for a period, the first is kept and the others are deleted only when they are exact
copies of it in every pmsync column (a row a person changed is left alone, with a warning).

One row's failure does not stop the others: it comes out as a ``failed`` result.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from pmsync.errors import PmsyncError, PublishError, SourceDataError
from pmsync.publish.config import StatusList
from pmsync.publish.graph_upload import PublishGraphClient
from pmsync.publish.models import ProjectStatusRow, PublicationLedger, PublishResult

log = logging.getLogger(__name__)

#: lets SharePoint filter on a column that is not indexed (small lists; pmsync creates indexed ones)
PREFER_UNINDEXED = "HonorNonIndexedQueriesWarningMayFailRandomly"
#: SharePoint's limit for a multi-line text column is far larger, but committees read a summary
MAX_VARIANCE_TEXT = 4000


def _odata_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def find_list(client: PublishGraphClient, site_id: str, name: str) -> dict[str, Any] | None:
    """The site's list whose display name is ``name`` (lists are few; one paged read)."""
    params = {"$select": "id,displayName,webUrl"}
    lists = client.items(f"sites/{site_id}/lists", params=params, record=name)
    return next((found for found in lists if found.get("displayName") == name), None)


class StatusListWriter:
    def __init__(
        self,
        client: PublishGraphClient,
        *,
        site: dict[str, Any],
        config: StatusList,
        ledger: PublicationLedger,
        target: str,
    ) -> None:
        self.client = client
        self.site = site
        self.config = config
        self.ledger = ledger
        self.target = target
        self._list_id: str | None = None
        self._periods: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def list_path(self) -> str:
        if self._list_id is None:
            site_id = self.site["id"]
            found = find_list(self.client, site_id, self.config.name)
            if found is None:
                if not self.config.create:
                    raise PublishError(
                        f"the site has no list named {self.config.name!r}",
                        source=self.target,
                        record=self.config.name,
                        hint="create it, set status_list.create: true, or status_list: null to skip it",
                    )
                try:
                    found = self.client.request(
                        "POST", f"sites/{site_id}/lists", json=self._new_list(), record=self.config.name
                    ).json()
                    log.info("%s: created the list %r", self.target, self.config.name)
                except SourceDataError:
                    # 409: another run (or our own retried POST, whose first answer was lost) made it.
                    found = find_list(self.client, site_id, self.config.name)
                    if found is None:
                        raise
            self._list_id = str(found["id"])
        return f"sites/{self.site['id']}/lists/{self._list_id}"

    def _new_list(self) -> dict[str, Any]:
        c = self.config.columns
        text = [c.project, c.period, c.schedule, c.cost, c.scope, c.risk, c.overall, c.report_url]
        columns: list[dict[str, Any]] = [
            {"name": name, "text": {}, **({"indexed": True} if name in (c.project, c.period) else {})}
            for name in text
        ]
        columns.append({"name": c.key_variances, "text": {"allowMultipleLines": True}})
        return {"displayName": self.config.name, "columns": columns, "list": {"template": "genericList"}}

    def fields(self, row: ProjectStatusRow, report_urls: dict[str, str]) -> dict[str, Any]:
        c = self.config.columns
        title = f"{row.project_name or row.project} — {row.period}"
        return {
            c.title: title,
            c.project: row.project,
            c.period: row.period,
            c.schedule: row.schedule,
            c.cost: row.cost,
            c.scope: row.scope,
            c.risk: row.risk,
            c.overall: row.overall,
            c.key_variances: row.key_variances[:MAX_VARIANCE_TEXT],
            c.report_url: row.report_url or report_urls.get(row.project) or "",
        }

    def upsert(
        self, rows: Iterable[ProjectStatusRow], report_urls: dict[str, str]
    ) -> Iterator[PublishResult]:
        for row in rows:
            try:
                yield self.upsert_row(row, report_urls)
            except PmsyncError as exc:
                log.warning("%s: status row %s %s: %s", self.target, row.project, row.period, exc)
                yield PublishResult.failure(self.target, f"{row.project} {row.period}", exc)

    def upsert_row(self, row: ProjectStatusRow, report_urls: dict[str, str]) -> PublishResult:
        fields = self.fields(row, report_urls)
        content_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        what = f"{row.project} {row.period}"
        destination = (
            f"{self.site.get('webUrl', self.site['id'])}/Lists/{self.config.name}#{row.project}|{row.period}"
        )
        previous = self.ledger.find_publication(destination, content_hash)
        if previous is not None:
            return PublishResult(
                target=self.target,
                what=what,
                action="unchanged",
                url=previous.url,
                item_id=previous.item_id,
                content_hash=content_hash,
            )
        item, action = self._write(row, fields)
        self.ledger.record_publication(
            destination=destination,
            file_name=what,
            content_hash=content_hash,
            url=item.get("webUrl"),
            item_id=str(item["id"]),
        )
        return PublishResult(
            target=self.target,
            what=what,
            action=action,
            url=item.get("webUrl"),
            item_id=str(item["id"]),
            content_hash=content_hash,
        )

    def _period_rows(self, period: str) -> dict[str, list[dict[str, Any]]]:
        """Every row of ``period`` by project, read with one paged query (not one per project)."""
        if period not in self._periods:
            c = self.config.columns
            query = {"$expand": "fields", "$filter": f"fields/{c.period} eq {_odata_string(period)}"}
            by_project: dict[str, list[dict[str, Any]]] = {}
            for item in self.client.items(
                f"{self.list_path()}/items", params=query, headers={"Prefer": PREFER_UNINDEXED}
            ):
                project = str((item.get("fields") or {}).get(c.project, ""))
                by_project.setdefault(project, []).append(item)
            self._periods[period] = by_project
        return self._periods[period]

    def _find(self, row: ProjectStatusRow) -> list[dict[str, Any]]:
        c = self.config.columns
        query = {
            "$expand": "fields",
            "$filter": f"fields/{c.project} eq {_odata_string(row.project)}"
            f" and fields/{c.period} eq {_odata_string(row.period)}",
        }
        return list(
            self.client.items(f"{self.list_path()}/items", params=query, headers={"Prefer": PREFER_UNINDEXED})
        )

    def _write(self, row: ProjectStatusRow, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
        path = self.list_path()
        for attempt in (1, 2):
            # First from the period's rows read once; after a 412, this row read again.
            matches = self._period_rows(row.period).get(row.project, []) if attempt == 1 else self._find(row)
            if not matches:
                created = self._create(row, fields)
                self._period_rows(row.period).setdefault(row.project, []).append(created)
                return created, "created"
            if len(matches) > 1:
                matches = self._heal(row, matches)
            item = matches[0]
            current = item.get("fields") or {}
            if all(current.get(k) == v for k, v in fields.items()):
                return item, "unchanged"
            try:
                self.client.request(
                    "PATCH",
                    f"{path}/items/{item['id']}/fields",
                    json=fields,
                    headers={"If-Match": str(item.get("@odata.etag") or "*")},
                    record=row.project,
                )
            except SourceDataError as exc:
                if "412" in exc.message and attempt == 1:
                    continue  # edited meanwhile: read it again
                raise PublishError(
                    f"could not update the status row: {exc.message}",
                    source=self.target,
                    record=f"{row.project} {row.period}",
                    hint="check the list's columns match status_list.columns",
                ) from None
            return item, "updated"
        raise AssertionError("unreachable")

    def _create(self, row: ProjectStatusRow, fields: dict[str, Any]) -> dict[str, Any]:
        """POST the row, once per attempt; before each retry, look it up by its key, since the
        attempt whose answer was lost may have created it."""
        tried = [False]

        def attempt() -> dict[str, Any]:
            if tried[0]:
                landed = self._find(row)
                if landed:
                    log.info("%s: %s %s was created by the attempt whose answer was lost", self.target,
                             row.project, row.period)  # fmt: skip
                    return landed[0]
            tried[0] = True
            created: dict[str, Any] = self.client.request(
                "POST", f"{self.list_path()}/items", json={"fields": fields}, record=row.project, retry=False
            ).json()
            return created

        result: dict[str, Any] = self.client.policy()(attempt)
        return result

    def _heal(self, row: ProjectStatusRow, matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several rows for one project and period: keep the oldest; delete the others that are exact
        copies of it in pmsync's columns (left by a retried create); keep and warn about the rest."""
        ordered = sorted(
            matches,
            key=lambda item: int(str(item.get("id", "0"))) if str(item.get("id", "")).isdigit() else 0,
        )
        keep, *others = ordered
        columns = list(self.config.columns.model_dump().values())
        mine = {c: (keep.get("fields") or {}).get(c) for c in columns}
        remaining = [keep]
        for other in others:
            theirs = {c: (other.get("fields") or {}).get(c) for c in columns}
            if theirs != mine:
                remaining.append(other)
                continue
            self.client.request(
                "DELETE",
                f"{self.list_path()}/items/{other['id']}",
                headers={"If-Match": str(other.get("@odata.etag") or "*")},
                record=f"{row.project} {row.period}",
            )
            log.info("%s: deleted duplicate status row %s for %s %s", self.target, other["id"], row.project,
                     row.period)  # fmt: skip
        if len(remaining) > 1:
            log.warning(
                "%s: %d different rows for %s %s in %r; updating the oldest, leaving the others",
                self.target,
                len(remaining),
                row.project,
                row.period,
                self.config.name,
            )
        self._period_rows(row.period)[row.project] = remaining
        return remaining
