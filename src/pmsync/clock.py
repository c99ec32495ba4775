"""The one place pmsync asks what time it is.

History rows, run ledger entries and report periods are stamped with :func:`now`. Normally that is
the system clock; ``pmsync demo`` (and tests) replay several months of project life in a minute by
setting a simulated clock — ``PMSYNC_NOW`` in the environment (an ISO 8601 moment) or
:func:`set_now` in-process — so that "as of the end of September" reads mean what they say.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pmsync.errors import ConfigError

NOW_ENV_VAR = "PMSYNC_NOW"
_override: datetime | None = None


def set_now(moment: datetime | None) -> None:
    """Pin the clock to ``moment`` (timezone-aware) for this process; ``None`` restores real time."""
    global _override
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the simulated clock needs a timezone-aware moment")
    _override = moment


def now() -> datetime:
    """The current moment in UTC (real, or simulated by :func:`set_now` / ``PMSYNC_NOW``)."""
    if _override is not None:
        return _override
    pinned = os.environ.get(NOW_ENV_VAR)
    if pinned:
        try:
            moment = datetime.fromisoformat(pinned)
        except ValueError:
            raise ConfigError(
                f"{NOW_ENV_VAR}={pinned!r} is not an ISO 8601 moment", hint="e.g. 2026-09-30T18:00:00+00:00"
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
