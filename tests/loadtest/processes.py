"""What a command under test leaves behind: its processes, their cgroups, the limits they ran under.

For the integration tests of `python -m loadtest run` and `ui`: while the command works, `watch`
follows its replicas (their /proc/<pid>/cgroup and the kernel's quota files); afterwards
`assert_nothing_left` checks that no process it started is alive and no cgroup of it remains.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loadtest.runner.linux.cgroup_stats import cgroup_dir, parse_mountinfo, parse_proc_cgroup
from loadtest.runner.linux.cgroups import CgroupUnavailable, open_cgroups


def cgroups_available() -> str | None:
    try:
        open_cgroups().close()
    except CgroupUnavailable as error:
        return str(error)
    return None


needs_cgroups = pytest.mark.skipif(
    cgroups_available() is not None, reason=f"no cgroup limits here: {cgroups_available()}"
)


def children(pid: int) -> list[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def read_limits_of(pid: int) -> tuple[int | None, int | None, int | None]:
    """(cpu quota us, cpu period us, memory limit bytes) of a process's own cgroups, read from the kernel's files."""
    paths = parse_proc_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
    mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    v1 = {role: cgroup_dir(m, paths[role]) for m in mounts for role in m.controllers if role in paths}
    if "cpu" in v1 and "memory" in v1:
        quota = int((v1["cpu"] / "cpu.cfs_quota_us").read_text())
        period = int((v1["cpu"] / "cpu.cfs_period_us").read_text())
        return quota, period, int((v1["memory"] / "memory.limit_in_bytes").read_text())
    unified = cgroup_dir(next(m for m in mounts if m.version == 2), paths[""])
    quota_text, period_text = (unified / "cpu.max").read_text().split()
    return int(quota_text), int(period_text), int((unified / "memory.max").read_text())


def leftover_cgroups(runner_pid: int) -> list[Path]:
    """Any cgroup folder of that runner still on the machine."""
    parents = {m.point for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text())}
    found = []
    for parent in parents:
        found += list(parent.glob(f"loadtest-{runner_pid}*")) + list(parent.glob(f"**/loadtest-{runner_pid}*"))
    return found


@dataclass
class Watch:
    """What the test saw while the runner ran."""

    api_pids: set[int] = field(default_factory=set)
    all_pids: set[int] = field(default_factory=set)
    api_counts: set[int] = field(default_factory=set)
    limits: dict[int, tuple[int | None, int | None, int | None]] = field(default_factory=dict)


def watch(run: subprocess.Popen[str], seen: Watch, timeout: float, until: Callable[[], bool] | None = None) -> None:
    """Poll the command's replicas and their cgroups until it exits (or `until()` holds)."""
    deadline = time.monotonic() + timeout
    while run.poll() is None and time.monotonic() < deadline:
        if until is not None and until():
            return
        descendants = children(run.pid)
        seen.all_pids.update(descendants)
        apis = [pid for pid in descendants if cmdline(pid)[1:3] == ["-m", "api"]]
        seen.api_counts.add(len(apis))
        for pid in apis:
            seen.api_pids.add(pid)
            try:
                seen.limits[pid] = read_limits_of(pid)
            except (OSError, KeyError, StopIteration, ValueError):
                continue
        time.sleep(0.25)


def finish(run: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    try:
        out, err = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        pytest.fail(f"the runner did not finish in time:\n{err[-3000:]}")
    return run.returncode, out, err


def assert_nothing_left(runner_pid: int, seen: Watch, timeout: float = 5.0) -> None:
    """No process the command started is alive and none of its cgroups remains (given a moment
    for orphans to be reaped)."""

    def left() -> tuple[list[int], list[int], list[Path]]:
        alive_pids = [pid for pid in seen.all_pids if alive(pid) and pid != runner_pid]
        return alive_pids, children(runner_pid), leftover_cgroups(runner_pid)

    deadline = time.monotonic() + timeout
    while any(left()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left() == ([], [], [])
