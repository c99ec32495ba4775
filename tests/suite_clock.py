"""The one date the whole test suite lives on, whatever the real date (see ``tests/conftest.py``).

The pin ticks: time still advances from it. Tests that care about a particular moment pin it
themselves with ``clock.set_now``; ``set_now(None)`` returns to this pin, not to the wall clock.
Override with ``PMSYNC_TEST_NOW`` to try another date.
"""

from __future__ import annotations

import os
from datetime import datetime

TEST_NOW = datetime.fromisoformat(os.environ.get("PMSYNC_TEST_NOW", "2026-12-04T15:00:00+00:00"))
