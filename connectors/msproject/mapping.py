"""The MS Project mapping (``mappings/msproject.yaml``): which custom fields link a task to the other
systems, and which custom fields to keep on the work items.

Custom fields are named as the user sees them in Project: by alias (``Jira Key``) or by field name
(``Text1``); the first name in a list that has a value on the task wins.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MSProjectMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: system name → custom field(s) holding that system's key, e.g. ``jira: [Jira Key, Text1]``
    links: dict[str, list[str]] = Field(default_factory=dict)
    #: ``all`` keeps every custom field with a value in ``WorkItem.custom``; a list keeps only those
    custom_fields: Literal["all", "none"] | list[str] = "all"
    #: yield the project summary task (UID 0) as the root summary item of the WBS tree
    include_project_summary: bool = True

    @field_validator("links", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def keeps(self, label: str, field_name: str) -> bool:
        if self.custom_fields == "all":
            return True
        if self.custom_fields == "none":
            return False
        return label in self.custom_fields or field_name in self.custom_fields
