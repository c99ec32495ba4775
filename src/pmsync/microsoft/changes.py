"""Change detection without a delta API: compare each entity's fingerprint with the last run's.

Graph v1.0 has no Planner delta query, and a Dataverse schedule is read per project, so the
connectors read everything each run and write only what changed. A fingerprint is a short hash of
what the normalized record depends on (the entity's ``@odata.etag`` plus anything looked up
elsewhere, such as its bucket's name or its predecessors); the cursor keeps one per entity, grouped
by scope (a plan, a project), so a scope that is read completely replaces its group as a whole.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any


def fingerprint(*parts: object) -> str:
    """A short, stable digest of ``parts`` (16 hex characters)."""
    return sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


class ScopeFingerprints:
    """Last run's fingerprints by scope, and this run's as they are read.

    ``cursor_value`` is what :meth:`to_cursor` returned last run (``{scope: {id: fingerprint}}``).
    """

    def __init__(self, cursor_value: Any) -> None:
        self._old: dict[str, dict[str, str]] = {}
        if isinstance(cursor_value, dict):
            for scope, entries in cursor_value.items():
                if isinstance(entries, dict):
                    self._old[str(scope)] = {str(k): str(v) for k, v in entries.items()}
        self._current: dict[str, str] = {}

    def scopes(self) -> list[str]:
        """Scopes the last run knew."""
        return list(self._old)

    def begin(self, scope: str) -> None:
        self._current = {}

    def changed(self, scope: str, entity_id: str, print_: str) -> bool:
        """Note ``entity_id``'s fingerprint in ``scope``; True when it differs from last run's."""
        self._current[entity_id] = print_
        return self._old.get(scope, {}).get(entity_id) != print_

    def complete(self, scope: str) -> None:
        """``scope`` was read completely: its fingerprints replace last run's."""
        self._old[scope] = self._current
        self._current = {}

    def drop(self, scope: str) -> None:
        """``scope`` no longer exists (its records are swept as deleted)."""
        self._old.pop(scope, None)

    def to_cursor(self) -> dict[str, dict[str, str]]:
        """Fingerprints to keep: completed scopes' new ones, and last run's for scopes not yet read."""
        return {scope: dict(entries) for scope, entries in self._old.items()}
