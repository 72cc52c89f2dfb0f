"""Replica cgroups (loadtest/runner/linux/cgroups.py): limits written and verified on fake trees,
stale groups swept, and one round trip on this machine's real cgroupfs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.runner.linux.cgroups import (
    CgroupError,
    CgroupUnavailable,
    ReplicaCgroup,
    ReplicaCgroups,
    open_cgroups,
    sweep_stale_groups,
)
from tests.waiting import wait_until

MIB = 1024**2


def v1_cgroup(root: Path, *extra_memory_files: str) -> ReplicaCgroup:
    """A v1 replica cgroup on a fake tree: cpu and cpuacct co-mounted, memory on its own."""
    cpu, memory = root / "cpu,cpuacct" / "r0", root / "memory" / "r0"
    for folder in (cpu, memory):
        folder.mkdir(parents=True)
    for name in extra_memory_files:
        (memory / name).write_text("9223372036854771712\n")
    return ReplicaCgroup(name="r0", version=1, dirs={"cpu": cpu, "cpuacct": cpu, "memory": memory})


def test_v1_limits_are_written_and_read_back(tmp_path: Path) -> None:
    cgroup = v1_cgroup(tmp_path, "memory.memsw.limit_in_bytes")
    cgroup.apply(0.5, 256 * MIB)
    cpu, memory = cgroup.dirs["cpu"], cgroup.dirs["memory"]
    assert ((cpu / "cpu.cfs_period_us").read_text(), (cpu / "cpu.cfs_quota_us").read_text()) == ("100000", "50000")
    assert (memory / "memory.limit_in_bytes").read_text() == str(256 * MIB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(256 * MIB)  # memory + swap: no swap
    limits = cgroup.read_limits()
    assert (limits.cpus, limits.memory_bytes, limits.swap_bytes) == (0.5, 256 * MIB, 0)


def test_v1_without_swap_accounting_turns_swappiness_off(tmp_path: Path) -> None:
    cgroup = v1_cgroup(tmp_path, "memory.swappiness")
    cgroup.apply(1.0, 512 * MIB)
    assert (cgroup.dirs["memory"] / "memory.swappiness").read_text() == "0"
    assert not (cgroup.dirs["memory"] / "memory.memsw.limit_in_bytes").exists()


def test_v2_limits_are_written_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "r0"
    folder.mkdir()
    (folder / "memory.swap.max").write_text("max\n")
    cgroup = ReplicaCgroup(name="r0", version=2, dirs={"unified": folder})
    cgroup.apply(1.5, 1024 * MIB)
    assert (folder / "cpu.max").read_text() == "150000 100000"
    assert (folder / "memory.swap.max").read_text() == "0"
    limits = cgroup.read_limits()
    assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes, limits.swap_bytes) == (1.5, 150_000, 1024 * MIB, 0)


def test_co_mounted_controllers_share_one_folder(tmp_path: Path) -> None:
    cgroup = v1_cgroup(tmp_path)
    assert cgroup.folders == [tmp_path / "cpu,cpuacct" / "r0", tmp_path / "memory" / "r0"]
    assert cgroup.procs_files == [folder / "cgroup.procs" for folder in cgroup.folders]
    (cgroup.folders[0] / "cgroup.procs").write_text("42\n7\n")
    (cgroup.folders[1] / "cgroup.procs").write_text("7\n42\n")
    assert cgroup.pids() == [7, 42]


def test_a_limit_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    cgroup = v1_cgroup(tmp_path)
    (cgroup.dirs["cpu"] / "cpu.cfs_quota_us").mkdir()  # the kernel refusing the write, as far as open() goes
    with pytest.raises(CgroupError, match=r"cannot write '50000' to .*cpu\.cfs_quota_us: Is a directory"):
        cgroup.apply(0.5, 256 * MIB)


def test_unreadable_limits_are_a_cgroup_error(tmp_path: Path) -> None:
    cgroup = ReplicaCgroup(name="gone", version=2, dirs={"unified": tmp_path / "gone"})
    with pytest.raises(CgroupError, match="cannot read the limits of cgroup gone"):
        cgroup.read_limits()
    with pytest.raises(CgroupError, match="cannot read the usage of cgroup gone"):
        cgroup.read_usage()


def test_a_replica_cgroup_that_exists_already_is_refused(tmp_path: Path) -> None:
    (tmp_path / "group" / "r0").mkdir(parents=True)
    cgroups = ReplicaCgroups(version=2, groups={"unified": tmp_path / "group"})
    with pytest.raises(CgroupError, match=r"group/r0 already exists"):
        cgroups.create("r0", 0.5, 256 * MIB)


def test_sweep_removes_groups_of_dead_runs_only(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = tmp_path / f"loadtest-{dead.stdout.strip()}"
    (stale / "r1-cpu0.5-mem512m-replica-0").mkdir(parents=True)
    stale_runner_leaf = tmp_path / f"loadtest-{dead.stdout.strip()}-runner"
    stale_runner_leaf.mkdir()
    live = tmp_path / f"loadtest-{os.getpid()}"
    live.mkdir()
    other = tmp_path / "loadtest-notapid"
    other.mkdir()
    assert sorted(sweep_stale_groups(tmp_path)) == sorted([stale, stale_runner_leaf])
    assert not stale.exists()
    assert live.exists()
    assert other.exists()
    assert sweep_stale_groups(tmp_path / "no-such-parent") == []


# --------------------------------------------------------------------------- the real cgroupfs


def test_round_trip_on_this_machines_cgroups() -> None:
    """Create, limit, join, read back and remove a replica cgroup for real (v1 or v2)."""
    try:
        cgroups = open_cgroups()
    except CgroupUnavailable as error:
        pytest.skip(f"limits cannot be enforced on this machine: {error}")
    try:
        cgroup = cgroups.create("test-replica-0", 0.5, 256 * MIB)
        limits = cgroup.read_limits()
        assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes) == (0.5, 50_000, 256 * MIB)
        joins = [argument for path in cgroup.procs_files for argument in ("--cgroup-procs", str(path))]
        child = subprocess.Popen(
            [sys.executable, "-m", "loadtest.runner.linux.launch", *joins, "--", sys.executable, "-c", "input()"],
            stdin=subprocess.PIPE,
        )
        try:
            wait_until(lambda: cgroup.pids() == [child.pid], timeout=10, what="the child in its cgroup")
            assert "test-replica-0" in Path(f"/proc/{child.pid}/cgroup").read_text()
        finally:
            child.communicate(b"\n", timeout=10)
        usage = cgroup.read_usage()
        assert usage.cpu_seconds is not None
        assert usage.cpu_seconds > 0
        folders = cgroup.folders
    finally:
        assert cgroups.close() == []
    assert [folder for folder in folders if folder.exists()] == []
    assert [group for group in cgroups.groups.values() if group.exists()] == []
