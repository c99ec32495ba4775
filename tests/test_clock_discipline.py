"""Tests pass on any date: nothing reads the wall clock except where the wall clock is the point.

pmsync asks the time in one place (``pmsync.clock``), which the suite pins (``tests/conftest.py``).
The only other readers are protocol moments that the real clients check against the real clock —
token lifetimes, certificate validity, HTTP dates — listed here with the reason. A new wall-clock read
anywhere else fails this test; CI also runs the suite with the machine's clock years ahead
(``.ci/run``, libfaketime) to prove the pin holds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from suite_clock import TEST_NOW

from pmsync import clock

ROOT = Path(__file__).resolve().parents[1]
WALL_CLOCK = re.compile(r"\b(datetime\.(now|utcnow|today)\(|date\.today\(|time\.time\(\))")

#: file → why it may read the wall clock
ALLOWED = {
    "src/pmsync/clock.py": "the one place pmsync asks the time",
    "src/pmsync/http.py": "Retry-After as an HTTP date is relative to the real clock",
    "src/pmsync/microsoft/credentials.py": "certificate expiry is checked by Entra against the real clock",
    "src/pmsync/sandbox/identity.py": "token lifetimes and device-code expiry: msal checks them in real time",
    "src/pmsync/sandbox/identity_secretless.py": "managed-identity token lifetimes (msal, real time)",
    "src/pmsync/sandbox/identity_wire.py": "the timestamp Entra puts in error descriptions",
    "src/pmsync/sandbox/microsoft.py": "certificate validity for generated app credentials",
    "src/pmsync/sandbox/tls.py": "the sandbox CA's validity: the TLS client checks it in real time",
    "src/pmsync/sandbox/graph_wire.py": "the date Graph puts in error bodies",
    "tests/microsoft/test_auth.py": "an expired certificate must be expired for msal too",
}


def test_nothing_else_reads_the_wall_clock() -> None:
    found = []
    for folder in ("src", "connectors", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED or relative == "tests/test_clock_discipline.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if WALL_CLOCK.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "read pmsync.clock.now() instead:\n" + "\n".join(found)


def test_the_suite_lives_on_its_pinned_date() -> None:
    assert abs(clock.now() - TEST_NOW) < timedelta(hours=2)  # the pin ticks from the session's start
    clock.set_now(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
    clock.set_now(None)  # back to the pin, not to the wall clock
    assert abs(clock.now() - TEST_NOW) < timedelta(hours=2)


def test_a_ticking_pin_moves_forward() -> None:
    clock.set_now(datetime(2026, 1, 1, tzinfo=UTC), ticking=True)
    first = clock.now()
    second = clock.now()
    assert datetime(2026, 1, 1, tzinfo=UTC) <= first <= second < datetime(2026, 1, 1, 1, tzinfo=UTC)
