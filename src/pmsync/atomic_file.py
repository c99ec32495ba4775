"""Write a file atomically (a temporary file beside it, renamed into place) with the mode any other
program would give it.

``tempfile.mkstemp`` creates its file with mode 0600 whatever the umask, so a report renamed from it
could be read by its owner only: the committee's shared folder got files nobody else could open.
Here the temporary file is created with ``os.open(..., 0o666)``, so the kernel applies the process's
umask exactly as for a plain ``open(path, "w")`` (0644 under the usual 022, 0664 under 002). Only
secret caches (``pmsync.microsoft.auth``) are written 0600, on purpose.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_MODE = 0o666  # narrowed by the umask, as for any file a program creates


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """An open binary file that becomes ``path`` when the block ends without an error.

    On an error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), _MODE)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    with atomic_writer(path) as handle:
        handle.write(data)


def copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source``'s bytes to ``target`` via a temporary file and a rename (not its mode: the copy
    gets the umask's, like a file the reader's own tools would write)."""
    with atomic_writer(target) as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
