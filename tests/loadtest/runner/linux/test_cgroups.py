"""cgroup parsing on fake trees (tmp_path), and one round trip on the machine's real cgroupfs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadtest.runner.linux.cgroup_stats import (
    CPU_PERIOD_US,
    Mount,
    cgroup_dir,
    parse_cpu_max,
    parse_keyed,
    parse_limit,
    parse_mountinfo,
    parse_proc_cgroup,
    quota_for,
    read_usage_v1,
    read_usage_v2,
)
from loadtest.runner.linux.cgroups import (
    CgroupError,
    CgroupUnavailable,
    ReplicaCgroup,
    open_cgroups,
    sweep_stale_groups,
)

# What this project's reference machine shows: v1 controllers, memory nested, plus an empty v2.
HYBRID_CGROUP = """\
9:name=systemd:/
4:memory:/process_api/445c
2:cpuacct:/
1:cpu:/
0::/
"""
HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
# A laptop or GitHub runner: pure v2, inside a user's delegated scope.
V2_CGROUP = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope\n"
V2_MOUNTINFO = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
# Ubuntu 18.04-style: cpu and cpuacct co-mounted.
COMOUNTED_MOUNTINFO = "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"


def test_proc_cgroup_v1_and_v2_entries() -> None:
    paths = parse_proc_cgroup(HYBRID_CGROUP)
    assert paths["memory"] == "/process_api/445c"
    assert paths["cpu"] == "/"
    assert paths["cpuacct"] == "/"
    assert paths[""] == "/"
    assert parse_proc_cgroup("2:cpu,cpuacct:/docker/abc\n") == {"cpu": "/docker/abc", "cpuacct": "/docker/abc"}


def test_proc_cgroup_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a /proc/<pid>/cgroup line"):
        parse_proc_cgroup("nonsense\n")


def test_mountinfo_finds_v1_controllers_and_v2() -> None:
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    by_point = {str(mount.point): mount for mount in mounts}
    assert by_point["/sys/fs/cgroup/cpu"].controllers == {"cpu"}
    assert by_point["/sys/fs/cgroup/memory"] == Mount(Path("/sys/fs/cgroup/memory"), "/", 1, frozenset({"memory"}))
    assert by_point["/sys/fs/cgroup/systemd"].controllers == frozenset()
    assert by_point["/sys/fs/cgroup/unified"].version == 2
    assert "/sys/fs/cgroup" not in by_point  # the tmpfs is not a cgroup
    assert parse_mountinfo(COMOUNTED_MOUNTINFO)[0].controllers == {"cpu", "cpuacct"}
    assert parse_mountinfo(V2_MOUNTINFO)[0].version == 2


@pytest.mark.parametrize(
    ("root", "path", "expected"),
    [
        ("/", "/", "/m"),
        ("/", "/process_api/445c", "/m/process_api/445c"),
        ("/docker/abc", "/docker/abc", "/m"),  # a container sees its own cgroup as the root
        ("/docker/abc", "/docker/abc/child", "/m/child"),
        ("/docker/abc", "/elsewhere", None),
        ("/docker/abc", "/docker/abcdef", None),
    ],
)
def test_cgroup_dir_maps_a_path_into_a_mount(root: str, path: str, expected: str | None) -> None:
    folder = cgroup_dir(Mount(Path("/m"), root, 1, frozenset({"cpu"})), path)
    assert (str(folder) if folder else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max 100000\n", (None, 100000)), ("50000 100000\n", (50000, 100000)), ("150000 100000", (150000, 100000))],
)
def test_cpu_max(text: str, expected: tuple[int | None, int]) -> None:
    assert parse_cpu_max(text) == expected


@pytest.mark.parametrize("text", ["", "max", "50000 max", "half 100000"])
def test_cpu_max_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a cpu.max value"):
        parse_cpu_max(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max\n", None), ("-1\n", None), ("9223372036854771712\n", None), ("536870912\n", 536870912), ("0", 0)],
)
def test_limits(text: str, expected: int | None) -> None:
    assert parse_limit(text) == expected


def test_limit_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a cgroup limit"):
        parse_limit("lots")


def test_keyed_files() -> None:
    assert parse_keyed("nr_periods 12\nnr_throttled 3\nthrottled_time 4500000\n") == {
        "nr_periods": 12,
        "nr_throttled": 3,
        "throttled_time": 4500000,
    }
    assert parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")["oom_kill"] == 2
    assert parse_keyed("garbage line here\n") == {}


@pytest.mark.parametrize(("cpus", "quota"), [(0.5, 50_000), (1.0, 100_000), (2.0, 200_000), (0.001, 1000)])
def test_quota_at_dockers_period(cpus: float, quota: int) -> None:
    assert quota_for(cpus) == quota
    assert CPU_PERIOD_US == 100_000


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_v1_tree_limits_and_usage(tmp_path: Path) -> None:
    cpu = _write(
        tmp_path / "cpu" / "r0",
        {
            "cpu.cfs_quota_us": "50000\n",
            "cpu.cfs_period_us": "100000\n",
            "cpu.stat": "nr_periods 200\nnr_throttled 50\nthrottled_time 2500000000\n",
        },
    )
    cpuacct = _write(tmp_path / "cpuacct" / "r0", {"cpuacct.usage": "3250000000\n"})
    memory = _write(
        tmp_path / "memory" / "r0",
        {
            "memory.limit_in_bytes": "536870912\n",
            "memory.memsw.limit_in_bytes": "536870912\n",
            "memory.max_usage_in_bytes": "62783488\n",
            "memory.usage_in_bytes": "60000000\n",
            "memory.stat": "cache 9000000\nrss 51000000\ninactive_file 500\ntotal_inactive_file 8000000\n",
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        },
    )
    cgroup = ReplicaCgroup(name="r0", version=1, dirs={"cpu": cpu, "cpuacct": cpuacct, "memory": memory})
    limits = cgroup.read_limits()
    assert (limits.source, limits.cpus, limits.cpu_quota_us, limits.cpu_period_us) == ("cgroup v1", 0.5, 50000, 100000)
    assert (limits.memory_bytes, limits.swap_bytes) == (536870912, 0)
    usage = read_usage_v1(cgroup.dirs)
    assert usage.cpu_seconds == pytest.approx(3.25)
    assert (usage.cpu_periods, usage.cpu_throttled_periods) == (200, 50)
    assert usage.cpu_throttled_seconds == pytest.approx(2.5)
    assert (usage.memory_peak_bytes, usage.oom_kills) == (62783488, 1)
    # As docker stats counts it: the hierarchy's inactive page cache is not in use.
    assert usage.memory_current_bytes == 60000000 - 8000000


def test_v1_tree_without_limits_or_swap_accounting(tmp_path: Path) -> None:
    cpu = _write(tmp_path / "cpu", {"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n", "cpu.stat": ""})
    memory = _write(tmp_path / "memory", {"memory.limit_in_bytes": "9223372036854771712\n"})
    limits = ReplicaCgroup(name="x", version=1, dirs={"cpu": cpu, "memory": memory}).read_limits()
    assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes, limits.swap_bytes) == (None, None, None, None)
    usage = read_usage_v1({"cpu": cpu, "memory": memory})
    assert (usage.cpu_seconds, usage.memory_peak_bytes, usage.oom_kills, usage.memory_current_bytes) == (
        None,
        None,
        None,
        None,
    )


def test_v2_tree_limits_and_usage(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "r0",
        {
            "cpu.max": "50000 100000\n",
            "memory.max": "536870912\n",
            "memory.swap.max": "0\n",
            "cpu.stat": "usage_usec 4200000\nuser_usec 4000000\nsystem_usec 200000\nnr_periods 300\nnr_throttled 120\nthrottled_usec 6000000\n",
            "memory.peak": "70000000\n",
            "memory.current": "65000000\n",
            "memory.stat": "anon 50000000\nfile 15000000\nactive_file 3000000\ninactive_file 12000000\n",
            "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        },
    )
    cgroup = ReplicaCgroup(name="r0", version=2, dirs={"unified": folder})
    limits = cgroup.read_limits()
    assert (limits.source, limits.cpus, limits.memory_bytes, limits.swap_bytes) == ("cgroup v2", 0.5, 536870912, 0)
    usage = read_usage_v2(folder)
    assert usage.cpu_seconds == pytest.approx(4.2)
    assert usage.cpu_throttled_seconds == pytest.approx(6.0)
    assert (usage.cpu_periods, usage.cpu_throttled_periods, usage.memory_peak_bytes, usage.oom_kills) == (
        300,
        120,
        70000000,
        1,
    )
    assert usage.memory_current_bytes == 65000000 - 12000000


def test_v2_tree_of_an_older_kernel_has_no_peak(tmp_path: Path) -> None:
    folder = _write(tmp_path / "r0", {"cpu.max": "max 100000\n", "memory.max": "max\n", "cpu.stat": "usage_usec 10\n"})
    assert read_usage_v2(folder).memory_peak_bytes is None
    limits = ReplicaCgroup(name="r0", version=2, dirs={"unified": folder}).read_limits()
    assert (limits.cpus, limits.memory_bytes, limits.swap_bytes) == (None, None, None)


def test_unreadable_limits_are_a_cgroup_error(tmp_path: Path) -> None:
    cgroup = ReplicaCgroup(name="gone", version=2, dirs={"unified": tmp_path / "gone"})
    with pytest.raises(CgroupError, match="cannot read the limits of cgroup gone"):
        cgroup.read_limits()


def test_sweep_leaves_groups_of_live_runs_and_other_folders(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = tmp_path / f"loadtest-{dead.stdout.strip()}"
    (stale / "r1-cpu0.5-mem512m-replica-0").mkdir(parents=True)
    live = tmp_path / f"loadtest-{os.getpid()}"
    live.mkdir()
    other = tmp_path / "loadtest-notapid"
    other.mkdir()
    assert sweep_stale_groups(tmp_path) == [stale]
    assert not stale.exists()
    assert live.exists()
    assert other.exists()


# --------------------------------------------------------------------------- the real cgroupfs


def test_round_trip_on_this_machines_cgroups() -> None:
    """Create, limit, join, read back and remove a replica cgroup for real (v1 or v2)."""
    try:
        cgroups = open_cgroups()
    except CgroupUnavailable as error:
        pytest.skip(f"limits cannot be enforced on this machine: {error}")
    try:
        cgroup = cgroups.create("test-replica-0", 0.5, 256 * 1024**2)
        limits = cgroup.read_limits()
        assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes) == (0.5, 50_000, 256 * 1024**2)
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "loadtest.runner.linux.launch",
                *sum((["--cgroup-procs", str(p)] for p in cgroup.procs_files), []),
                "--",
                sys.executable,
                "-c",
                "import sys; sys.stdin.read()",
            ],
            stdin=subprocess.PIPE,
        )
        try:
            for _ in range(100):
                if child.pid in cgroup.pids():
                    break
                time.sleep(0.05)
            assert cgroup.pids() == [child.pid]
            own = Path(f"/proc/{child.pid}/cgroup").read_text()
            assert "test-replica-0" in own
        finally:
            child.communicate(b"", timeout=10)
        assert cgroup.read_usage().cpu_seconds is not None
        folders = cgroup.folders
    finally:
        assert cgroups.close() == []
    assert not any(folder.exists() for folder in folders)
    assert not any(group.exists() for group in cgroups.groups.values())
