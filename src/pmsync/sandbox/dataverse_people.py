"""The people and structure around a sandbox Dataverse schedule: users (``systemusers``) with their
bookable resources, generic resources, project team members, resource assignments and buckets; and
the attribute metadata that differs between environments (``msdyn_progress``'s range,
``msdyn_linktype``'s options). Mixed into :class:`~pmsync.sandbox.dataverse.DataverseState`."""

from __future__ import annotations

import threading
import uuid
from typing import Any

LINK_LABELS = {
    192350000: "Finish-to-Start",
    192350001: "Start-to-Start",
    192350002: "Finish-to-Finish",
    192350003: "Start-to-Finish",
}


class ProjectPeople:
    """Adds users, resources, team members, assignments and buckets; answers attribute metadata."""

    rows: dict[str, dict[str, dict[str, Any]]]
    progress_max: float
    link_labels: dict[int, str]
    _lock: threading.RLock

    def _stamp(self, row: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def add_user(self, full_name: str, email: str, *, user_id: str | None = None) -> str:
        """A Dataverse user (``systemuser``) with its bookable resource; returns the user id."""
        user_id = user_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"systemuser/{email}"))
        with self._lock:
            self.rows["systemusers"][user_id] = self._stamp(
                {"systemuserid": user_id, "fullname": full_name, "internalemailaddress": email}
            )
            resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bookableresource/{email}"))
            self.rows["bookableresources"][resource_id] = self._stamp(
                {
                    "bookableresourceid": resource_id,
                    "name": full_name,
                    "resourcetype": 3,
                    "_userid_value": user_id,
                }
            )
        return user_id

    def add_generic_resource(self, name: str) -> str:
        """A bookable resource that is not a user (a contractor role, a generic resource)."""
        resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bookableresource/{name}"))
        with self._lock:
            self.rows["bookableresources"][resource_id] = self._stamp(
                {"bookableresourceid": resource_id, "name": name, "resourcetype": 1, "_userid_value": None}
            )
        return resource_id

    def add_bucket(self, project_id: str, name: str) -> str:
        bucket_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bucket/{project_id}/{name}"))
        with self._lock:
            self.rows["msdyn_projectbuckets"][bucket_id] = self._stamp(
                {"msdyn_projectbucketid": bucket_id, "msdyn_name": name, "_msdyn_project_value": project_id}
            )
        return bucket_id

    def add_team_member(self, project_id: str, resource_id: str) -> str:
        """A project team member: the project's link to a bookable resource, named after it."""
        member_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"team/{project_id}/{resource_id}"))
        with self._lock:
            name = self.rows["bookableresources"][resource_id]["name"]
            self.rows["msdyn_projectteams"][member_id] = self._stamp(
                {
                    "msdyn_projectteamid": member_id,
                    "msdyn_name": name,
                    "_msdyn_project_value": project_id,
                    "_msdyn_bookableresourceid_value": resource_id,
                }
            )
        return member_id

    def assign(self, project_id: str, task_id: str, member_id: str) -> str:
        """A resource assignment: a team member on a task (its own row; the task's etag stays)."""
        assignment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"assignment/{task_id}/{member_id}"))
        with self._lock:
            member = self.rows["msdyn_projectteams"][member_id]
            self.rows["msdyn_resourceassignments"][assignment_id] = self._stamp(
                {
                    "msdyn_resourceassignmentid": assignment_id,
                    "msdyn_name": member["msdyn_name"],
                    "_msdyn_projectid_value": project_id,
                    "_msdyn_taskid_value": task_id,
                    "_msdyn_projectteamid_value": member_id,
                    "_msdyn_bookableresourceid_value": member["_msdyn_bookableresourceid_value"],
                }
            )
        return assignment_id

    def attribute_metadata(self, entity: str, attribute: str, expand: str) -> dict[str, Any] | None:
        """``EntityDefinitions(LogicalName=...)/Attributes(LogicalName=...)`` for the two columns whose
        meaning differs between environments: msdyn_progress's range and msdyn_linktype's options."""
        if (entity, attribute) == ("msdyn_projecttask", "msdyn_progress"):
            return {
                "@odata.type": "#Microsoft.Dynamics.CRM.DecimalAttributeMetadata",
                "LogicalName": attribute,
                "MinValue": 0.0,
                "MaxValue": self.progress_max,
                "Precision": 2 if self.progress_max == 100 else 4,
            }
        if (entity, attribute) == ("msdyn_projecttaskdependency", "msdyn_linktype"):
            body: dict[str, Any] = {
                "@odata.type": "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                "LogicalName": attribute,
            }
            if "OptionSet" in expand:
                body["OptionSet"] = {
                    "Options": [
                        {
                            "Value": value,
                            "Label": {"UserLocalizedLabel": {"Label": label, "LanguageCode": 1033}},
                        }
                        for value, label in sorted(self.link_labels.items())
                    ]
                }
            return body
        return None
