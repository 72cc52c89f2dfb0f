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


# --------------------------------------------------------------------------- pinned replicas


def v1_run_group(root: Path) -> ReplicaCgroups:
    """A v1 run group on a fake tree, with this process's cpuset cgroup holding CPUs 0-3 and memory node 0."""
    groups = {
        "cpu": root / "cpu" / "loadtest-1",
        "cpuacct": root / "cpu" / "loadtest-1",
        "memory": root / "memory" / "loadtest-1",
    }
    for folder in groups.values():
        folder.mkdir(parents=True, exist_ok=True)
    cpuset = root / "cpuset"
    cpuset.mkdir()
    (cpuset / "cpuset.cpus").write_text("0-3\n")
    (cpuset / "cpuset.mems").write_text("0\n")
    return ReplicaCgroups(version=1, groups=groups, cpuset_parent=cpuset)


def test_a_v1_replica_is_pinned_in_a_cpuset_group_of_the_runs_own(tmp_path: Path) -> None:
    cgroups = v1_run_group(tmp_path)
    unpinned = cgroups.create("free", 0.5, 256 * MIB)
    assert "cpuset" not in unpinned.dirs
    # Made only when a replica is pinned. Read into a name of its own: asserting on the attribute itself
    # would narrow it to None for mypy past create(), which sets it.
    before_pinning = cgroups.cpuset_group
    assert before_pinning is None
    pinned = cgroups.create("pinned", 0.5, 256 * MIB, frozenset({2, 3}))
    group = tmp_path / "cpuset" / "loadtest-1"
    assert cgroups.cpuset_group == group
    assert ((group / "cpuset.cpus").read_text(), (group / "cpuset.mems").read_text()) == ("0-3", "0")
    assert pinned.dirs["cpuset"] == group / "pinned"
    # Memory nodes before CPUs: a v1 cpuset without them takes no process.
    assert (group / "pinned" / "cpuset.mems").read_text() == "0"
    assert pinned.read_limits().cpuset == "2-3"
    assert group / "pinned" / "cgroup.procs" in pinned.procs_files
    assert cgroups.cores() == {0, 1, 2, 3}


def test_a_v2_replica_is_pinned_in_its_own_folder(tmp_path: Path) -> None:
    group = tmp_path / "loadtest-1"
    group.mkdir()
    cgroups = ReplicaCgroups(version=2, groups={"unified": group})
    pinned = cgroups.create("r0", 1.0, 512 * MIB, frozenset({1}))
    assert (group / "r0" / "cpuset.cpus").read_text() == "1"
    assert pinned.read_limits().cpuset == "1"
    assert list(pinned.dirs) == ["unified"]


def test_pinning_where_the_machine_cannot_says_why(tmp_path: Path) -> None:
    cgroups = ReplicaCgroups(
        version=2, groups={"unified": tmp_path}, cpuset_unavailable="the cpuset controller is not available in /x"
    )
    with pytest.raises(CgroupError, match=r"cannot pin r0 to CPUs 0-1: the cpuset controller is not available in /x"):
        cgroups.create("r0", 0.5, 256 * MIB, frozenset({0, 1}))
    assert not (tmp_path / "r0").exists()
    with pytest.raises(CgroupError, match="an empty set of cores"):
        ReplicaCgroups(version=2, groups={"unified": tmp_path}).create("r1", 0.5, 256 * MIB, frozenset())


def test_a_cpuset_the_kernel_did_not_keep_is_named(tmp_path: Path) -> None:
    cgroup = ReplicaCgroup(name="r0", version=2, dirs={"unified": tmp_path})
    (tmp_path / "cpuset.cpus").mkdir()  # the kernel refusing the write, as far as open() goes
    with pytest.raises(CgroupError, match=r"cannot write '1' to .*cpuset\.cpus"):
        cgroup.apply(0.5, 256 * MIB, frozenset({1}))


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


def test_a_pinned_replica_runs_only_on_its_cores_on_this_machine() -> None:
    """Pinned for real: the child's allowed CPUs are its cgroup's, and everything is removed after."""
    try:
        cgroups = open_cgroups()
    except CgroupUnavailable as error:
        pytest.skip(f"limits cannot be enforced on this machine: {error}")
    if cgroups.cpuset_unavailable is not None:
        cgroups.close()
        pytest.skip(f"replicas cannot be pinned here: {cgroups.cpuset_unavailable}")
    try:
        core = min(cgroups.cores())
        cgroup = cgroups.create("test-pinned-0", 0.5, 256 * MIB, frozenset({core}))
        assert cgroup.read_limits().cpuset == str(core)
        joins = [argument for path in cgroup.procs_files for argument in ("--cgroup-procs", str(path))]
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "loadtest.runner.linux.launch",
                *joins,
                "--",
                sys.executable,
                "-c",
                "import os; print(sorted(os.sched_getaffinity(0)))",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert child.stdout.strip() == f"[{core}]"
        folders = cgroup.folders
        cpuset_group = cgroups.cpuset_group
    finally:
        assert cgroups.close() == []
    assert [folder for folder in folders if folder.exists()] == []
    assert cpuset_group is None or not cpuset_group.exists()
