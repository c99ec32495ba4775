"""How many CPUs pmsync believes it may use (pmsync/cpus.py), and what it does with one.

The cgroup files are laid out in a folder shaped like ``/proc`` and ``/sys`` as the kernel shows
them in a container (a cgroup namespace: the container's cgroup is ``/``), on a host (the full
path) and with cgroup v1 (Docker on older distributions), read as they are, nothing patched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pmsync.cpus import cpu_quota, usable_cpus
from pmsync.forked import can_fork
from pmsync.reconcile import two_processes
from pmsync.report.writers.pdf import pdf_workers
from pmsync.store import Store

from .helpers import one_cpu

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="affinity masks and cgroups are Linux's")

V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw"
V1_MOUNT = (
    "31 23 0:27 {root} /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup"
    " rw,cpu,cpuacct"
)
OTHER_MOUNTS = [
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
    "35 23 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory",
]


def _machine(root: Path, memberships: list[str], mounts: list[str], files: dict[str, str]) -> Path:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text("\n".join(memberships) + "\n")
    (root / "proc/self/mountinfo").write_text("\n".join([*OTHER_MOUNTS, *mounts]) + "\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return root


def test_a_container_limited_to_one_cpu_uses_one(tmp_path: Path) -> None:
    # docker run --cpus=1 / Kubernetes limits.cpu: "1", cgroup v2 with a namespace
    root = _machine(tmp_path, ["0::/"], [V2_MOUNT], {"sys/fs/cgroup/cpu.max": "100000 100000"})
    assert cpu_quota(root) == 1.0
    assert usable_cpus(root) == 1


def test_no_quota_leaves_the_affinity_mask(tmp_path: Path) -> None:
    root = _machine(tmp_path, ["0::/"], [V2_MOUNT], {"sys/fs/cgroup/cpu.max": "max 100000"})
    assert cpu_quota(root) is None
    assert usable_cpus(root) == len(os.sched_getaffinity(0))


def test_the_tightest_quota_on_the_cgroups_path_binds_and_a_fraction_counts_up(tmp_path: Path) -> None:
    # on a host: the pod allows 1.5 CPUs, its container none of its own, the node's slice 4
    base = "sys/fs/cgroup/kubepods.slice"
    root = _machine(
        tmp_path,
        ["0::/kubepods.slice/pod1/ctr"],
        [V2_MOUNT],
        {
            f"{base}/cpu.max": "400000 100000",
            f"{base}/pod1/cpu.max": "150000 100000",
            f"{base}/pod1/ctr/cpu.max": "max 100000",
        },
    )
    assert cpu_quota(root) == 1.5
    assert usable_cpus(root) == min(2, len(os.sched_getaffinity(0)))  # two still get more done
    (tmp_path / base / "cpu.max").write_text("50000 100000\n")  # the slice, further up, is tighter
    assert cpu_quota(root) == 0.5


def test_cgroup_v1_quota_and_period(tmp_path: Path) -> None:
    # Docker on cgroup v1: the container's cgroup is the mount's root
    folder = "sys/fs/cgroup/cpu,cpuacct"
    root = _machine(
        tmp_path,
        ["12:memory:/docker/abc", "4:cpu,cpuacct:/docker/abc", "0::/docker/abc"],
        [V1_MOUNT.format(root="/docker/abc")],
        {f"{folder}/cpu.cfs_quota_us": "50000", f"{folder}/cpu.cfs_period_us": "100000"},
    )
    assert cpu_quota(root) == 0.5
    assert usable_cpus(root) == 1
    (tmp_path / folder / "cpu.cfs_quota_us").write_text("-1\n")  # v1's "no quota"
    assert cpu_quota(root) is None


def test_a_cgroup_below_the_containers_own_is_read_from_the_mounts_root_down(tmp_path: Path) -> None:
    # the mount shows the container's cgroup /docker/abc as its root; the process sits in a child
    folder = "sys/fs/cgroup/cpu,cpuacct"
    root = _machine(
        tmp_path,
        ["4:cpu,cpuacct:/docker/abc/worker"],
        [V1_MOUNT.format(root="/docker/abc")],
        {
            f"{folder}/cpu.cfs_quota_us": "200000",
            f"{folder}/cpu.cfs_period_us": "100000",
            f"{folder}/worker/cpu.cfs_quota_us": "50000",
            f"{folder}/worker/cpu.cfs_period_us": "100000",
        },
    )
    assert cpu_quota(root) == 0.5


def test_the_host_hierarchy_mounted_elsewhere_does_not_hide_the_containers_quota(tmp_path: Path) -> None:
    host = "29 23 0:25 / /host/sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw"
    root = _machine(tmp_path, ["0::/"], [host, V2_MOUNT], {"sys/fs/cgroup/cpu.max": "100000 100000"})
    assert cpu_quota(root) == 1.0


def test_mountinfo_escapes_and_foreign_bytes(tmp_path: Path) -> None:
    # the kernel writes a space in a path as \040; a label in Latin-1 arrives as raw bytes
    spaced = "30 23 0:26 / /sys/fs/cgroup/my\\040cgroups rw - cgroup2 cgroup2 rw"
    root = _machine(tmp_path, ["0::/"], [spaced], {"sys/fs/cgroup/my cgroups/cpu.max": "100000 100000"})
    with (root / "proc/self/mountinfo").open("ab") as mountinfo:
        mountinfo.write(b"50 23 8:17 / /media/caf\xe9 rw - vfat /dev/sdb1 rw\n")
    assert cpu_quota(root) == 1.0


def test_a_cgroup_outside_the_namespace_is_not_followed(tmp_path: Path) -> None:
    # /proc/self/cgroup shows "/../x" for a cgroup outside this namespace's root: what "x" would
    # name beside the mount is not this process's cgroup
    root = _machine(tmp_path, ["0::/../sibling"], [V2_MOUNT], {"sys/fs/sibling/cpu.max": "100000 100000"})
    (root / "sys/fs/cgroup").mkdir()  # the mount point exists, so ".." beside it would resolve
    assert cpu_quota(root) is None


@pytest.mark.parametrize("text", ["", "garbage", "100000", "0 100000", "100000 0", "1.5 100000"])
def test_an_unreadable_quota_counts_as_none(tmp_path: Path, text: str) -> None:
    root = _machine(tmp_path, ["0::/"], [V2_MOUNT], {"sys/fs/cgroup/cpu.max": text})
    assert cpu_quota(root) is None
    assert usable_cpus(root) == len(os.sched_getaffinity(0))


def test_no_cgroup_files_at_all_counts_as_no_quota(tmp_path: Path) -> None:
    assert cpu_quota(tmp_path) is None  # no /proc here (a sandbox, another kernel)
    root = _machine(tmp_path / "m", ["0::/"], [V2_MOUNT], {})  # mounted, no cpu.max (root cgroup)
    assert cpu_quota(root) is None


@pytest.mark.skipif(not can_fork(), reason="the second process is forked")
def test_on_one_cpu_nothing_is_forked_and_one_tab_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second process on one CPU only shares its time and costs memory
    monkeypatch.setattr(two_processes, "SPLIT_FROM_PROJECTS", 1)
    with Store.open(f"sqlite:///{tmp_path / 'pmsync.db'}") as store:
        forked_pids = two_processes.each_in_two_processes([1, 2, 3, 4], lambda _: os.getpid(), [store])
        with one_cpu():
            assert usable_cpus() == 1
            pids = two_processes.each_in_two_processes([1, 2, 3, 4], lambda _: os.getpid(), [store])
            assert pdf_workers(50) == 1
    assert pids == [os.getpid()] * 4
    if usable_cpus() >= 2:  # the same work on two CPUs does fork
        assert forked_pids[-1] != os.getpid()
