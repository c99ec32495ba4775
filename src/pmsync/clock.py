"""The one place pmsync asks what time it is.

History rows, run ledger entries and report periods are stamped with :func:`now`. Normally that is
the system clock; ``pmsync demo`` (and tests) replay several months of project life in a minute by
setting a simulated clock — ``PMSYNC_NOW`` in the environment (an ISO 8601 moment) or
:func:`set_now` in-process — so that "as of the end of September" reads mean what they say.

A pinned clock is either frozen (every call answers the same moment) or *ticking*: it advances with
real elapsed time from the pinned moment, so sync runs, history rows and ledger entries still follow
each other in order. ``PMSYNC_CLOCK_OFFSET`` (seconds added to the system clock) is the ticking pin
that crosses process boundaries: the test suite sets it once (``tests/conftest.py``) so that every
test, and every ``pmsync`` process a test starts, lives on the same pinned date whatever the real date.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from pmsync.errors import ConfigError

NOW_ENV_VAR = "PMSYNC_NOW"
OFFSET_ENV_VAR = "PMSYNC_CLOCK_OFFSET"
_override: datetime | None = None
#: ``time.monotonic()`` when a ticking pin was set; ``None`` for a frozen pin
_ticking_since: float | None = None


def set_now(moment: datetime | None, *, ticking: bool = False) -> None:
    """Pin the clock to ``moment`` (timezone-aware) for this process; ``None`` restores real time.

    ``ticking=True`` lets the pinned clock advance with real elapsed time from ``moment`` on."""
    global _override, _ticking_since
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the simulated clock needs a timezone-aware moment")
    _override = moment
    _ticking_since = time.monotonic() if moment is not None and ticking else None


def pinned() -> tuple[datetime | None, bool]:
    """The in-process pin (moment, ticking) — so a caller that re-pins can restore it afterwards."""
    return _override, _ticking_since is not None


def now() -> datetime:
    """The current moment in UTC (real, or simulated by :func:`set_now` / ``PMSYNC_NOW``)."""
    if _override is not None:
        if _ticking_since is not None:
            return _override + timedelta(seconds=time.monotonic() - _ticking_since)
        return _override
    pinned_text = os.environ.get(NOW_ENV_VAR)
    if pinned_text:
        try:
            moment = datetime.fromisoformat(pinned_text)
        except ValueError:
            raise ConfigError(
                f"{NOW_ENV_VAR}={pinned_text!r} is not an ISO 8601 moment",
                hint="e.g. 2026-09-30T18:00:00+00:00",
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    offset = os.environ.get(OFFSET_ENV_VAR)
    if offset:
        try:
            seconds = float(offset)
        except ValueError:
            raise ConfigError(
                f"{OFFSET_ENV_VAR}={offset!r} is not a number of seconds", hint="e.g. -86400 for a day ago"
            ) from None
        return datetime.now(UTC) + timedelta(seconds=seconds)
    return datetime.now(UTC)


def offset_to(moment: datetime) -> float:
    """The ``PMSYNC_CLOCK_OFFSET`` that makes the clock read ``moment`` now and tick on from there."""
    return (moment - datetime.now(UTC)).total_seconds()
