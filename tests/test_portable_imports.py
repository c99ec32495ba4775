"""pmsync imports on Windows: no module imports a POSIX-only module at import time.

A Windows machine is not at hand, so the test hides the POSIX-only standard modules (as they are
absent there) from pmsync and imports every pmsync module in a fresh interpreter. Code that needs one
imports it where it is used, behind a platform check (e.g. the chromium PDF engine's ``fcntl``).
"""

from __future__ import annotations

import subprocess
import sys

POSIX_ONLY = ("fcntl", "termios", "resource", "pwd", "grp")

SCRIPT = f"""
import importlib, pkgutil, sys
import portalocker  # the lock library picks its platform's primitive itself (flock here, LockFileEx there)
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None  # what `import fcntl` finds on Windows: an ImportError
import pmsync
failed = []
for info in pkgutil.walk_packages(pmsync.__path__, "pmsync."):
    if info.name.endswith("__main__") or info.name == "pmsync.store.migrations.env":
        continue  # scripts: one runs the command line, the other is run by Alembic
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed.append(f"{{info.name}}: {{exc}}")
print("\\n".join(failed))
"""


def test_every_module_imports_without_posix_only_modules() -> None:
    ran = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.strip() == "", f"modules that need a POSIX-only module at import:\n{ran.stdout}"


def test_the_sqlite_source_lock_is_the_cross_platform_one() -> None:
    import pmsync.store.lock as lock

    assert "fcntl" not in vars(lock) and "portalocker" in vars(lock)
