"""People by name: the Microsoft Entra user ids that Planner keeps (assignees, who created a task)
turned into display names through Graph, 20 to a ``$batch`` request and each id asked once per run.

Reading user profiles needs the ``User.ReadBasic.All`` application permission (or ``User.Read.All``).
Without it the names cannot be had, but the sync must not fail for that: the first refusal is logged
once with the permission to grant, and ids are kept as they are. A user deleted since they were
assigned (Graph answers 404) also keeps their id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pmsync.microsoft.graph import ODataClient, ServiceRefused

log = logging.getLogger(__name__)

USER_PERMISSION = "User.ReadBasic.All"


class GraphPeople:
    """Display names for Entra user ids, cached for the life of the object (one sync run)."""

    def __init__(self, client: ODataClient, *, source: str) -> None:
        self.client = client
        self.source = source
        self.names: dict[str, str] = {}
        #: False once Graph refused to show profiles (the permission is missing)
        self.allowed = True

    def resolve(self, user_ids: Iterable[str]) -> None:
        """Look up every id not yet known, in batches."""
        missing = sorted({u for u in user_ids if u and u not in self.names})
        if not missing or not self.allowed:
            return
        paths = [f"users/{user_id}?$select=id,displayName,userPrincipalName" for user_id in missing]
        try:
            # A sign-in failure (expired secret, revoked app) is not caught: the sync must stop on it.
            answers = dict(self.client.get_batch(paths, record="user names", missing_ok=True))
        except ServiceRefused as exc:
            self.allowed = False
            log.warning(
                "%s: people are shown by id, not name: Graph refused to read user profiles (%s); grant "
                "the app the %s application permission with admin consent",
                self.source,
                exc.message,
                USER_PERMISSION,
            )
            return
        for user_id, path in zip(missing, paths, strict=True):
            body = answers.get(path) or {}
            self.names[user_id] = str(body.get("displayName") or body.get("userPrincipalName") or user_id)

    def name(self, user_id: str) -> str:
        return self.names.get(user_id, user_id)
