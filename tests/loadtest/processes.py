"""What a command under test starts and leaves behind: its replicas, their cgroups and limits.

For the integration tests of `python -m loadtest run` and `ui`: while the command works, `watch`
notes its replicas (their /proc/<pid>/cgroup and the kernel's quota files); afterwards
`assert_nothing_left` checks that no process it started is alive and no cgroup of it remains.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loadtest.runner.linux.cgroup_stats import cgroup_dir, parse_mountinfo, parse_proc_cgroup, v1_dirs
from loadtest.runner.linux.cgroups import CgroupUnavailable, open_cgroups
from tests.procfs import alive, cmdline, descendants
from tests.waiting import wait_until_gone


def cgroups_available() -> str | None:
    try:
        open_cgroups().close()
    except CgroupUnavailable as error:
        return str(error)
    return None


needs_cgroups = pytest.mark.skipif(
    cgroups_available() is not None, reason=f"no cgroup limits here: {cgroups_available()}"
)


def read_limits_of(pid: int) -> tuple[int | None, int | None, int | None]:
    """(cpu quota us, cpu period us, memory limit bytes) of a process's own cgroups, read from the kernel's files."""
    paths = parse_proc_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
    mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    v1 = v1_dirs(mounts, paths)
    if v1 is not None:
        quota = int((v1["cpu"] / "cpu.cfs_quota_us").read_text())
        period = int((v1["cpu"] / "cpu.cfs_period_us").read_text())
        return quota, period, int((v1["memory"] / "memory.limit_in_bytes").read_text())
    unified = cgroup_dir(next(m for m in mounts if m.version == 2), paths[""])
    if unified is None:
        raise KeyError(f"pid {pid}'s cgroup is outside the cgroup2 mount")
    quota_text, period_text = (unified / "cpu.max").read_text().split()
    return int(quota_text), int(period_text), int((unified / "memory.max").read_text())


def leftover_cgroups(command_pid: int) -> list[Path]:
    """Any cgroup folder of that runner still on the machine."""
    parents = {m.point for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text())}
    found = []
    for parent in parents:
        found += list(parent.glob(f"loadtest-{command_pid}*")) + list(parent.glob(f"**/loadtest-{command_pid}*"))
    return found


@dataclass
class Watch:
    """What the test saw while the runner ran."""

    api_pids: set[int] = field(default_factory=set)
    all_pids: set[int] = field(default_factory=set)
    api_counts: set[int] = field(default_factory=set)
    limits: dict[int, tuple[int | None, int | None, int | None]] = field(default_factory=dict)


def is_replica(pid: int) -> bool:
    """An API replica: our API (`python -m api`) or the reference service (tests/loadtest/integration.py)."""
    argv = cmdline(pid)
    return argv[1:3] == ["-m", "api"] or (len(argv) > 1 and Path(argv[1]).name == "reference_service.py")


def watch(run: subprocess.Popen[str], seen: Watch, timeout: float, until: Callable[[], bool] | None = None) -> None:
    """Note the runner's replicas and their cgroups' limits until it exits, `until()` holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while run.poll() is None and time.monotonic() < deadline:
        if until is not None and until():
            return
        found = descendants(run.pid)
        seen.all_pids.update(found)
        apis = [pid for pid in found if is_replica(pid)]
        seen.api_counts.add(len(apis))
        for pid in apis:
            seen.api_pids.add(pid)
            try:
                limits = read_limits_of(pid)
            except (OSError, KeyError, StopIteration, ValueError):
                continue
            # A process that exits leaves its cgroup for the root one (the kernel's cgroup_exit) after it
            # has let go of its memory (exit_mm), so a replica whose argv is still readable after the read
            # was in its own cgroup when read; one stopped between the two reads would read unlimited.
            if is_replica(pid):
                seen.limits[pid] = limits
        time.sleep(0.25)  # a sampling interval, not a wait for an outcome


def assert_nothing_left(command_pid: int, seen: Watch) -> None:
    """No process the command started is alive and none of its cgroups remains once it has returned.

    The command reaps what it stops before it exits; the short wait is for the kernel to finish
    processes that were already SIGKILLed (a zombie counts as gone).
    """

    def left() -> list[object]:
        return [
            *(pid for pid in seen.all_pids if pid != command_pid and alive(pid)),
            *descendants(command_pid),
            *leftover_cgroups(command_pid),
        ]

    wait_until_gone(left, timeout=2, what="processes and cgroups of the command")
