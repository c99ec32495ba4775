"""How many CPUs this process may use: what decides whether pmsync puts a second core to work.

``os.cpu_count()`` counts the machine's CPUs, not this process's. Two things give it fewer:

- the **affinity mask** (``taskset``, a container's ``--cpuset-cpus``, Kubernetes' static CPU
  manager): ``os.sched_getaffinity``;
- a **CPU quota** (``docker run --cpus=1``, a Kubernetes ``resources.limits.cpu``, systemd's
  ``CPUQuota=``), which leaves every CPU in the mask but lets the process group run only so many CPU
  seconds per period. A container limited to one CPU on a 16-core node sees 16 in its mask; two
  processes there share one CPU's time, and the second costs memory for nothing.

The quota is read from the cgroup this process is in, as the kernel documents it
(Documentation/admin-guide/cgroup-v2.rst, "cpu.max": ``$MAX $PERIOD``, ``max`` for none; cgroup v1,
Documentation/scheduler/sched-bwc.rst: ``cpu.cfs_quota_us``, -1 for none, over
``cpu.cfs_period_us``), from the cgroup's own folder up to the hierarchy's root (the tightest one
binds), the way Go's automaxprocs and the JVM read it. A quota of 1.5 CPUs counts as 2: two
processes still get more done there than one. Anything unreadable counts as no quota: this only
ever lowers the count.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple

__all__ = ["cpu_quota", "usable_cpus"]

#: where cgroup file systems are mounted by convention (systemd, Docker, Kubernetes)
SYSFS = "/sys/fs/cgroup"


def usable_cpus(root: Path = Path("/")) -> int:
    """The CPUs this process may use: its affinity mask, lowered to its cgroup's CPU quota.
    ``root``: where ``/proc`` and ``/sys`` are found (tests give a folder shaped like them)."""
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:  # macOS, Windows: no mask to read, and no cgroups
        return os.cpu_count() or 1
    quota = cpu_quota(root)
    return max(1, min(cpus, math.ceil(quota))) if quota is not None else cpus


def cpu_quota(root: Path = Path("/")) -> float | None:
    """CPUs' worth of time per period this process's cgroups allow (1.5 for ``150000 100000``), the
    tightest along its cgroup's path; ``None`` when there is none or it cannot be read. Never raises."""
    try:
        memberships = _read(root / "proc/self/cgroup").splitlines()
        mounts = [_Mount.parse(line) for line in _read(root / "proc/self/mountinfo").splitlines()]
    except OSError:
        return None
    quotas: list[float] = []
    files: tuple[str, ...]
    for line in memberships:  # "0::/path" (v2), "4:cpu,cpuacct:/path" (v1)
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            mount = _mount_point(mounts, "cgroup2", None)
            files = ("cpu.max",)
        elif "cpu" in controllers.split(","):
            mount = _mount_point(mounts, "cgroup", "cpu")
            files = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        else:
            continue
        if mount is not None:
            quotas.extend(_along(root, mount, path, files))
    return min(quotas) if quotas else None


def _read(path: Path) -> str:
    # surrogateescape: a mount point or cgroup name in another encoding (a USB stick's label) stays
    # a path that opens, rather than an error
    return path.read_bytes().decode("utf-8", "surrogateescape")


class _Mount(NamedTuple):
    """One line of /proc/self/mountinfo (proc(5)): the fields before `` - ``, then the file system's
    type, its source and its super options."""

    point: str
    root: str
    fs_type: str
    options: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> _Mount | None:
        before, separator, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not separator or len(fields) < 5 or len(tail) < 3:
            return None
        return cls(_unescape(fields[4]), _unescape(fields[3]), tail[0], tuple(tail[2].split(",")))


def _unescape(field: str) -> str:
    """A mountinfo path field: the kernel writes space, tab, newline and backslash as ``\\ooo``."""
    return re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal[1], 8)), field)


def _mount_point(mounts: list[_Mount | None], fs_type: str, controller: str | None) -> _Mount | None:
    """The ``fs_type`` mount (for v1, the one carrying ``controller``) this process's cgroups are
    read from: the one under ``/sys/fs/cgroup`` where there are several (a container may also have
    the host's hierarchy mounted elsewhere), else the first."""
    found = [
        mount
        for mount in mounts
        if mount is not None
        and mount.fs_type == fs_type
        and (controller is None or controller in mount.options)
    ]
    standard = [mount for mount in found if mount.point == SYSFS or mount.point.startswith(SYSFS + "/")]
    chosen = standard or found
    return chosen[0] if chosen else None


def _along(root: Path, mount: _Mount, path: str, files: tuple[str, ...]) -> list[float]:
    """The quotas from the cgroup at ``path`` up to the mount's root. Inside a container the mount's
    root is the container's own cgroup (``path`` then starts with it, or is ``/`` with a cgroup
    namespace). A path that climbs out of it (``/../x``: a cgroup outside this namespace) is not
    followed: the mount's root is read instead."""
    relative = PurePosixPath(path)
    if mount.root != "/" and relative.is_relative_to(mount.root):
        relative = relative.relative_to(mount.root)
    if ".." in relative.parts:
        relative = PurePosixPath("/")
    top = root / mount.point.lstrip("/")
    folder = top / str(relative).lstrip("/")
    found: list[float] = []
    while True:
        quota = _read_quota(folder, files)
        if quota is not None:
            found.append(quota)
        if folder == top or top not in folder.parents:
            return found
        folder = folder.parent


def _read_quota(folder: Path, files: tuple[str, ...]) -> float | None:
    try:
        texts = [_read(folder / name).split() for name in files]
    except OSError:
        return None
    try:
        if len(files) == 1:  # v2 cpu.max: "$MAX $PERIOD"
            limit, period = texts[0][0], texts[0][1]
        else:  # v1: the quota and the period in two files
            limit, period = texts[0][0], texts[1][0]
        if limit == "max" or int(limit) <= 0 or int(period) <= 0:  # v1 says -1 for none
            return None
        return int(limit) / int(period)
    except (IndexError, ValueError):
        return None
