"""Inputs people maintain for oversight, from SharePoint lists (the lists made from the shipped
templates ``pmsync/oversight/templates/<kind>.sharepoint-list.json``), through Microsoft Graph.

Each configured kind's list is read in full every run (``$expand=fields``, paged) — these lists are
short — and ends with ``SnapshotComplete(scope="list:<kind>")``, so a deleted list item is deleted
in the store (the sync's deletion guard applies). A row's columns are the record's fields, as in the
CSV templates; who and when default to the list item's ``lastModifiedBy`` and
``lastModifiedDateTime``, so every change a person makes is recorded with its author and moment even
when the list has no ``recorded_by`` column filled. A date column (SharePoint keeps a date as the
instant its midnight began where it was typed) is read as the day it means in the agency's zone.
A bad item fails the run with the list and item named, and nothing of that list is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

from pydantic import Field, field_validator

from pmsync.connector import Checkpoint, CheckResult, ConnectorContext, Cursor, ExtractItem, SnapshotComplete
from pmsync.errors import PmsyncError, SourceDataError
from pmsync.microsoft.auth import MicrosoftAppSettings
from pmsync.microsoft.connector_base import MicrosoftSourceConnector
from pmsync.microsoft.graph import date_only_day
from pmsync.microsoft.sharepoint_sites import check_site_url, find_site
from pmsync.model import MaintainedInput
from pmsync.oversight.kinds import KINDS
from pmsync.oversight.rows import input_record
from pmsync.oversight.sharepoint_template import list_template

SYSTEM = "oversight_sharepoint"
LIST_PERMISSIONS = ("Sites.Read.All", "Sites.ReadWrite.All", "Sites.Selected")


def _default_lists() -> dict[str, str]:
    return {kind: str(list_template(kind)["displayName"]) for kind in KINDS}


class OversightSharePointConfig(MicrosoftAppSettings):
    #: the site holding the lists, e.g. https://contoso.sharepoint.com/sites/PMO
    site_url: str
    #: kind → the list's display name (default: the templates' names); a kind left out is not read
    lists: dict[str, str] = Field(default_factory=_default_lists)

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str) -> str:
        return check_site_url(value)


class OversightSharePointConnector(MicrosoftSourceConnector[OversightSharePointConfig]):
    system: ClassVar[str] = SYSTEM
    Config: ClassVar[type[OversightSharePointConfig]] = OversightSharePointConfig
    permissions = LIST_PERMISSIONS
    permission_hint = f"the app needs the Microsoft Graph permission {LIST_PERMISSIONS[0]}"

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        unknown = sorted(set(self.config.lists) - set(KINDS))
        if unknown:
            raise self.data_error(
                f"unknown kind(s) in lists: {', '.join(unknown)}",
                record="lists",
                hint=f"kinds: {', '.join(KINDS)}",
            )

    def _site_id(self) -> str:
        site = find_site(self.client, self.config.site_url)
        if site is None:
            raise SourceDataError(
                "the SharePoint site was not found",
                source=self.source,
                record=self.config.site_url,
                hint="check site_url (open it in a browser; copy the address up to the site name)",
            )
        return str(site["id"])

    def _lists(self, site_id: str) -> dict[str, str]:
        """display name → list id, for the site's lists."""
        found = self.client.items(
            f"sites/{site_id}/lists", params={"$select": "id,displayName"}, record=self.config.site_url
        )
        return {str(x.get("displayName")): str(x.get("id")) for x in found}

    def _row(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        model: type[MaintainedInput] = KINDS[kind]
        fields = item.get("fields") or {}
        row: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("project", "id") or name in model.model_fields:
                if value in (None, ""):
                    continue
                annotation = model.model_fields[name].annotation if name in model.model_fields else str
                if annotation in (date, date | None):
                    value = date_only_day(value, self.zone)
                row[name] = value
        modified_by = ((item.get("lastModifiedBy") or {}).get("user") or {}).get("displayName")
        row.setdefault("recorded_by", modified_by)
        row.setdefault("recorded_at", item.get("lastModifiedDateTime"))
        return row

    def _read(self, site_id: str, kind: str, list_name: str, list_id: str) -> list[MaintainedInput]:
        records = []
        items = self.client.items(
            f"sites/{site_id}/lists/{list_id}/items", params={"$expand": "fields"}, record=list_name
        )
        for item in items:
            where = f"list {list_name!r} item {item.get('id')}"
            records.append(
                input_record(
                    kind,
                    self._row(kind, item),
                    where=where,
                    system=self.system,
                    source_name=self.source,
                    scope=f"list:{kind}",
                    project_links=self.context.project_links,
                )
            )
        return records

    # -- protocol ----------------------------------------------------------------------------

    def source_checks(self) -> list[CheckResult]:
        signed_in, token = self.sign_in_check()
        results = [signed_in]
        if token is None or signed_in.status != "ok":
            return results
        try:
            lists = self._lists(self._site_id())
        except PmsyncError as exc:
            return [*results, CheckResult("site", "fail", str(exc), exc.hint or "")]
        for kind, name in self.config.lists.items():
            ok = name in lists
            results.append(
                CheckResult(
                    f"list {name}",
                    "ok" if ok else "fail",
                    "found" if ok else "not on the site",
                    "" if ok else f"create it from pmsync/oversight/templates/{kind}.sharepoint-list.json",
                )
            )
        return results

    def extract(self, cursor: Cursor) -> Iterator[ExtractItem]:
        site_id = self._site_id()
        lists = self._lists(site_id)
        errors: list[str] = []
        failed: list[str] = []  # the lists named by the error, as its record
        for kind, name in self.config.lists.items():
            if name not in lists:
                errors.append(f"list {name!r} ({kind}) is not on the site")
                failed.append(f"list {name!r}")
                continue
            try:
                records = self._read(site_id, kind, name, lists[name])
            except SourceDataError as exc:
                errors.append(exc.message)  # it names the list and the item
                failed.append(f"list {name!r}")
                continue
            yield from records
            yield SnapshotComplete(scope=f"list:{kind}")
            yield Checkpoint({})
        if errors:
            raise SourceDataError(
                "; ".join(errors),
                source=self.source,
                record=", ".join(failed),
                hint="fix the items named (or create the missing lists from the templates); "
                "the lists' previous contents stay in force until then",
            )
