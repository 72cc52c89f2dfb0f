"""Reading cgroups v1 and v2 (loadtest/runner/linux/cgroup_stats.py): the kernel's files, parsed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loadtest.runner.linux.cgroup_stats import (
    Mount,
    cgroup_dir,
    format_cpu_list,
    parse_cpu_list,
    parse_cpu_max,
    parse_keyed,
    parse_limit,
    parse_mountinfo,
    parse_proc_cgroup,
    quota_for,
    read_limits_v1,
    read_limits_v2,
    read_usage_of,
    read_usage_v1,
    read_usage_v2,
    v1_cpuset_dir,
    v1_dirs,
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
V2_MOUNTINFO = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
# Ubuntu 18.04-style: cpu and cpuacct co-mounted.
COMOUNTED_MOUNTINFO = "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"


def test_proc_cgroup_v1_and_v2_entries() -> None:
    assert parse_proc_cgroup(HYBRID_CGROUP) == {
        "name=systemd": "/",
        "memory": "/process_api/445c",
        "cpuacct": "/",
        "cpu": "/",
        "": "/",
    }
    assert parse_proc_cgroup("2:cpu,cpuacct:/docker/abc\n") == {"cpu": "/docker/abc", "cpuacct": "/docker/abc"}


def test_proc_cgroup_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a /proc/<pid>/cgroup line: 'nonsense'"):
        parse_proc_cgroup("nonsense\n")


def test_mountinfo_finds_v1_controllers_and_v2() -> None:
    by_point = {str(mount.point): mount for mount in parse_mountinfo(HYBRID_MOUNTINFO)}
    assert set(by_point) == {f"/sys/fs/cgroup/{name}" for name in ("cpu", "cpuacct", "memory", "systemd", "unified")}
    assert by_point["/sys/fs/cgroup/memory"] == Mount(Path("/sys/fs/cgroup/memory"), "/", 1, frozenset({"memory"}))
    assert by_point["/sys/fs/cgroup/systemd"].controllers == frozenset()
    assert by_point["/sys/fs/cgroup/unified"].version == 2
    assert parse_mountinfo(COMOUNTED_MOUNTINFO)[0].controllers == {"cpu", "cpuacct"}
    assert parse_mountinfo(V2_MOUNTINFO) == [Mount(Path("/sys/fs/cgroup"), "/", 2, frozenset())]


def test_a_mount_point_with_a_space() -> None:
    line = r"32 31 0:29 / /mnt/my\040cgroups rw - cgroup cgroup rw,cpu" + "\n"
    assert parse_mountinfo(line)[0].point == Path("/mnt/my cgroups")


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


def test_v1_dirs_of_a_process_need_both_cpu_and_memory() -> None:
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    assert v1_dirs(mounts, parse_proc_cgroup(HYBRID_CGROUP)) == {
        "cpu": Path("/sys/fs/cgroup/cpu"),
        "cpuacct": Path("/sys/fs/cgroup/cpuacct"),
        "memory": Path("/sys/fs/cgroup/memory/process_api/445c"),
    }
    assert v1_dirs(mounts, {"cpu": "/", "": "/"}) is None
    assert v1_dirs(parse_mountinfo(V2_MOUNTINFO), {"": "/user.slice"}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max 100000\n", (None, 100000)), ("50000 100000\n", (50000, 100000)), ("150000 100000", (150000, 100000))],
)
def test_cpu_max(text: str, expected: tuple[int | None, int]) -> None:
    assert parse_cpu_max(text) == expected


@pytest.mark.parametrize("text", ["", "max", "50000 max", "half 100000"])
def test_cpu_max_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a cpu\.max value"):
        parse_cpu_max(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max\n", None), ("-1\n", None), ("9223372036854771712\n", None), ("536870912\n", 536870912), ("0", 0)],
)
def test_limits(text: str, expected: int | None) -> None:
    assert parse_limit(text) == expected


def test_limit_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a cgroup limit: 'lots'"):
        parse_limit("lots")


def test_keyed_files() -> None:
    assert parse_keyed("nr_periods 12\nnr_throttled 3\nthrottled_time 4500000\n") == {
        "nr_periods": 12,
        "nr_throttled": 3,
        "throttled_time": 4500000,
    }
    assert parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")["oom_kill"] == 2
    assert parse_keyed("garbage line here\nhalf x\n") == {}


@pytest.mark.parametrize(
    ("cpus", "quota"), [(0.5, 50_000), (1.0, 100_000), (2.0, 200_000), (0.001, 1000), (0.005, 1000)]
)
def test_the_quota_is_dockers_at_its_100_ms_period_and_at_least_1_ms(cpus: float, quota: int) -> None:
    assert quota_for(cpus) == quota


# --------------------------------------------------------------------------- fake cgroup trees (tmp_path)


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


V1_CPU_STAT = "nr_periods 200\nnr_throttled 50\nthrottled_time 2500000000\n"
V2_CPU_STAT = "usage_usec 4200000\nuser_usec 4000000\nsystem_usec 200000\nnr_periods 300\nnr_throttled 120\n"


def test_a_v1_tree_limits_and_usage(tmp_path: Path) -> None:
    cpu = write_files(
        tmp_path / "cpu" / "r0",
        {"cpu.cfs_quota_us": "50000\n", "cpu.cfs_period_us": "100000\n", "cpu.stat": V1_CPU_STAT},
    )
    cpuacct = write_files(tmp_path / "cpuacct" / "r0", {"cpuacct.usage": "3250000000\n"})
    memory = write_files(
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
    limits = read_limits_v1(cpu, memory, [cpu, cpuacct, memory])
    assert (limits.source, limits.cpus, limits.cpu_quota_us, limits.cpu_period_us) == ("cgroup v1", 0.5, 50000, 100000)
    assert (limits.memory_bytes, limits.swap_bytes) == (536870912, 0)
    assert limits.paths == [str(cpu), str(cpuacct), str(memory)]
    usage = read_usage_v1({"cpu": cpu, "cpuacct": cpuacct, "memory": memory})
    assert usage.cpu_seconds == pytest.approx(3.25)
    assert (usage.cpu_periods, usage.cpu_throttled_periods) == (200, 50)
    assert usage.cpu_throttled_seconds == pytest.approx(2.5)
    assert (usage.memory_peak_bytes, usage.oom_kills) == (62783488, 1)
    # In use as docker stats counts it: the hierarchy's inactive page cache can be reclaimed.
    assert usage.memory_current_bytes == 60000000 - 8000000


def test_a_v1_tree_without_limits_or_swap_accounting(tmp_path: Path) -> None:
    cpu = write_files(tmp_path / "cpu", {"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n", "cpu.stat": ""})
    memory = write_files(tmp_path / "memory", {"memory.limit_in_bytes": "9223372036854771712\n"})
    limits = read_limits_v1(cpu, memory, [cpu, memory])
    assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes, limits.swap_bytes) == (None, None, None, None)
    usage = read_usage_v1({"cpu": cpu, "memory": memory})
    assert (usage.cpu_seconds, usage.memory_peak_bytes, usage.oom_kills, usage.cpu_periods) == (None, None, None, None)
    assert usage.memory_current_bytes is None


def test_a_v2_tree_limits_and_usage(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "r0",
        {
            "cpu.max": "50000 100000\n",
            "memory.max": "536870912\n",
            "memory.swap.max": "0\n",
            "cpu.stat": V2_CPU_STAT + "throttled_usec 6000000\n",
            "memory.peak": "70000000\n",
            "memory.current": "65000000\n",
            "memory.stat": "anon 50000000\nfile 15000000\nactive_file 3000000\ninactive_file 12000000\n",
            "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        },
    )
    limits = read_limits_v2(folder)
    assert (limits.source, limits.cpus, limits.memory_bytes, limits.swap_bytes) == ("cgroup v2", 0.5, 536870912, 0)
    assert limits.paths == [str(folder)]
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


def test_a_v2_tree_of_an_older_kernel_has_no_peak(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "r0", {"cpu.max": "max 100000\n", "memory.max": "max\n", "cpu.stat": "usage_usec 10\n"}
    )
    assert read_usage_v2(folder).memory_peak_bytes is None
    limits = read_limits_v2(folder)
    assert (limits.cpus, limits.memory_bytes, limits.swap_bytes) == (None, None, None)


def test_a_missing_file_is_an_error_not_a_zero(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limits_v2(tmp_path)


# --------------------------------------------------------------------------- this machine


def test_usage_of_a_process_that_is_gone_is_none() -> None:
    assert read_usage_of(2**22 + 1) is None  # above the kernel's pid_max limit: never a live process


# --------------------------------------------------------------------------- cpusets

CPUSET_MOUNTINFO = HYBRID_MOUNTINFO + "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"


@pytest.mark.parametrize(
    ("text", "cpus", "written"),
    [
        ("0-1\n", {0, 1}, "0-1"),
        ("3", {3}, "3"),
        ("0,2-4,7", {0, 2, 3, 4, 7}, "0,2-4,7"),
        ("1,0", {0, 1}, "0-1"),
        ("\n", set(), ""),
    ],
)
def test_cpu_lists_read_and_written_as_the_kernel_does(text: str, cpus: set[int], written: str) -> None:
    assert parse_cpu_list(text) == cpus
    assert format_cpu_list(cpus) == written


@pytest.mark.parametrize("text", ["a", "1-", "-1", "3-1", "0;1"])
def test_a_cpu_list_that_is_not_one_is_named(text: str) -> None:
    with pytest.raises(ValueError, match=rf"not a CPU list: {re.escape(repr(text))}"):
        parse_cpu_list(text)


def test_the_cpuset_controller_is_found_apart_from_the_limits() -> None:
    mounts = parse_mountinfo(CPUSET_MOUNTINFO)
    paths = parse_proc_cgroup(HYBRID_CGROUP + "3:cpuset:/\n")
    assert v1_cpuset_dir(mounts, paths) == Path("/sys/fs/cgroup/cpuset")
    assert "cpuset" not in (v1_dirs(mounts, paths) or {})  # only pinned replicas get a cpuset folder
    assert v1_cpuset_dir(parse_mountinfo(HYBRID_MOUNTINFO), paths) is None
    assert v1_cpuset_dir(parse_mountinfo(V2_MOUNTINFO), {"": "/"}) is None


def test_a_pinned_replicas_cpuset_is_read_back(tmp_path: Path) -> None:
    cpu, memory, cpuset = tmp_path / "cpu", tmp_path / "memory", tmp_path / "cpuset"
    for folder in (cpu, memory, cpuset):
        folder.mkdir()
    (cpu / "cpu.cfs_quota_us").write_text("50000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    (memory / "memory.limit_in_bytes").write_text("268435456\n")
    (cpuset / "cpuset.cpus").write_text("1\n")
    assert read_limits_v1(cpu, memory, [cpu, memory], cpuset).cpuset == "1"
    assert read_limits_v1(cpu, memory, [cpu, memory]).cpuset is None
    (cpuset / "cpuset.cpus").write_text("\n")  # empty: not pinned
    assert read_limits_v1(cpu, memory, [cpu, memory], cpuset).cpuset is None
