"""Reading cgroups, v1 and v2: the limits a process runs under and what it used.

Pure parsers of the kernel's files (`/proc/<pid>/cgroup`, mountinfo, `cpu.stat`, `cpu.max`, ...)
and readers built on them. Used for the process backend's replicas and for containers, whose
cgroup is found through their init pid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from loadtest.records import ReplicaLimits, ReplicaUsage

CPU_PERIOD_US = 100_000
"""Docker's CFS period: --cpus 0.5 is a quota of 50 ms per 100 ms."""

_UNLIMITED_V1 = 2**62
"""v1 reports "no limit" as a huge page-aligned number (9223372036854771712)."""
_V1_ROLES = ("cpu", "cpuacct", "memory")
"""The v1 controllers every replica cgroup uses."""
CPUSET = "cpuset"
"""The v1 controller (and v2 interface files) that pins a replica to cores; used only when asked for."""


@dataclass(frozen=True)
class Mount:
    """One cgroup filesystem from /proc/self/mountinfo."""

    point: Path
    root: str
    """The part of the hierarchy mounted there ("/" unless in a container)."""
    version: int
    controllers: frozenset[str]


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup as {controller: path}; the v2 entry ("0::/path") is under key ""."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            _, controllers, path = line.split(":", 2)
        except ValueError:
            raise ValueError(f"not a /proc/<pid>/cgroup line: {line!r}") from None
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def parse_mountinfo(text: str) -> list[Mount]:
    """The cgroup and cgroup2 mounts listed in /proc/self/mountinfo."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        before, separator, after = line.partition(" - ")
        if not separator:
            continue
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        point = Path(fields[4].replace("\\040", " "))
        if tail[0] == "cgroup2":
            mounts.append(Mount(point, fields[3], 2, frozenset()))
        else:
            options = set(tail[2].split(",")) & {*_V1_ROLES, CPUSET}
            mounts.append(Mount(point, fields[3], 1, frozenset(options)))
    return mounts


def parse_keyed(text: str) -> dict[str, int]:
    """A flat-keyed cgroup file ("nr_throttled 3" per line): cpu.stat, memory.events, oom_control."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"-?\d+", parts[1]):
            values[parts[0]] = int(parts[1])
    return values


def parse_cpu_max(text: str) -> tuple[int | None, int]:
    """v2 cpu.max ("50000 100000" or "max 100000") as (quota_us or None, period_us)."""
    parts = text.split()
    if len(parts) != 2 or not parts[1].isdigit() or not (parts[0] == "max" or parts[0].isdigit()):
        raise ValueError(f"not a cpu.max value: {text.strip()!r}")
    return (None if parts[0] == "max" else int(parts[0])), int(parts[1])


def parse_limit(text: str) -> int | None:
    """A byte or quota limit: "max" (v2), "-1" or a huge value (v1) mean no limit (None)."""
    value = text.strip()
    if value == "max":
        return None
    if not re.fullmatch(r"-?\d+", value):
        raise ValueError(f"not a cgroup limit: {value!r}")
    number = int(value)
    return None if number < 0 or number >= _UNLIMITED_V1 else number


def cgroup_dir(mount: Mount, path: str) -> Path | None:
    """Where the cgroup `path` (as /proc/<pid>/cgroup names it) lives under `mount`; None if outside."""
    root = mount.root.rstrip("/")
    if root and path != root and not path.startswith(root + "/"):
        return None
    relative = path[len(root) :].strip("/")
    return mount.point / relative if relative else mount.point


def v1_cpuset_dir(mounts: Iterable[Mount], paths: Mapping[str, str]) -> Path | None:
    """A process's v1 cpuset cgroup folder, None when the cpuset controller is not mounted (or not its)."""
    for mount in mounts:
        if mount.version == 1 and CPUSET in mount.controllers and CPUSET in paths:
            return cgroup_dir(mount, paths[CPUSET])
    return None


def parse_cpu_list(text: str) -> frozenset[int]:
    """The kernel's CPU list ("0-2,5", as cpuset.cpus and taskset -c write it) as a set of CPU numbers.

    Raises ValueError naming the text when it is not one; an empty list is the empty set.
    """
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f"not a CPU list: {text.strip()!r} (write CPU numbers and ranges, e.g. 0-1,3)")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ValueError(f"not a CPU list: {text.strip()!r} (the range {part} runs backwards)")
        cpus.update(range(first, last + 1))
    return frozenset(cpus)


def format_cpu_list(cpus: Iterable[int]) -> str:
    """CPU numbers as the kernel writes them: ranges of consecutive numbers, "0-2,5"."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    start = previous = None
    for cpu in [*ordered, None]:
        if cpu is not None and previous is not None and cpu == previous + 1:
            previous = cpu
            continue
        if start is not None and previous is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = cpu
    return ",".join(parts)


def quota_for(cpus: float) -> int:
    """The CFS quota in microseconds for `cpus` CPUs at the 100 ms period."""
    return max(1000, round(cpus * CPU_PERIOD_US))


def read_text(path: Path) -> str:
    """A cgroup file's text."""
    return path.read_text(encoding="ascii")


def read_optional(path: Path) -> str | None:
    """A cgroup file's text, None if the kernel does not have it."""
    try:
        return read_text(path)
    except FileNotFoundError:
        return None


def read_cpuset(folder: Path | None) -> str | None:
    """The CPUs a cgroup is pinned to, as the kernel lists them (None: no cpuset file, or empty = not pinned)."""
    text = read_optional(folder / "cpuset.cpus") if folder is not None else None
    if text is None:
        return None
    return format_cpu_list(parse_cpu_list(text)) or None


def read_limits_v1(cpu: Path, memory: Path, folders: list[Path], cpuset: Path | None = None) -> ReplicaLimits:
    quota = parse_limit(read_text(cpu / "cpu.cfs_quota_us"))
    period = int(read_text(cpu / "cpu.cfs_period_us"))
    memory_limit = parse_limit(read_text(memory / "memory.limit_in_bytes"))
    memsw_text = read_optional(memory / "memory.memsw.limit_in_bytes")
    memsw = parse_limit(memsw_text) if memsw_text is not None else None
    swap = memsw - memory_limit if memsw is not None and memory_limit is not None else None
    return ReplicaLimits(
        source="cgroup v1",
        cpus=quota / period if quota is not None else None,
        cpu_quota_us=quota,
        cpu_period_us=period,
        memory_bytes=memory_limit,
        swap_bytes=swap,
        cpuset=read_cpuset(cpuset),
        paths=[str(folder) for folder in folders],
    )


def read_limits_v2(unified: Path) -> ReplicaLimits:
    quota, period = parse_cpu_max(read_text(unified / "cpu.max"))
    swap_text = read_optional(unified / "memory.swap.max")
    return ReplicaLimits(
        source="cgroup v2",
        cpus=quota / period if quota is not None else None,
        cpu_quota_us=quota,
        cpu_period_us=period,
        memory_bytes=parse_limit(read_text(unified / "memory.max")),
        swap_bytes=parse_limit(swap_text) if swap_text is not None else None,
        cpuset=read_cpuset(unified),
        paths=[str(unified)],
    )


def read_usage_v1(dirs: Mapping[str, Path]) -> ReplicaUsage:
    """Usage from v1 folders: cpuacct.usage, cpu.stat, memory.max_usage_in_bytes, memory.oom_control."""
    usage_ns = read_optional(dirs["cpuacct"] / "cpuacct.usage") if "cpuacct" in dirs else None
    cpu_stat = parse_keyed(read_text(dirs["cpu"] / "cpu.stat"))
    peak = read_optional(dirs["memory"] / "memory.max_usage_in_bytes")
    oom = parse_keyed(read_optional(dirs["memory"] / "memory.oom_control") or "")
    throttled_ns = cpu_stat.get("throttled_time")
    memory_stat = parse_keyed(read_optional(dirs["memory"] / "memory.stat") or "")
    return ReplicaUsage(
        cpu_seconds=int(usage_ns) / 1e9 if usage_ns is not None else None,
        cpu_periods=cpu_stat.get("nr_periods"),
        cpu_throttled_periods=cpu_stat.get("nr_throttled"),
        cpu_throttled_seconds=throttled_ns / 1e9 if throttled_ns is not None else None,
        memory_peak_bytes=int(peak) if peak is not None else None,
        oom_kills=oom.get("oom_kill"),
        memory_current_bytes=working_set(
            read_optional(dirs["memory"] / "memory.usage_in_bytes"),
            memory_stat.get("total_inactive_file", memory_stat.get("inactive_file")),
        ),
    )


def read_usage_v2(unified: Path) -> ReplicaUsage:
    """Usage from a v2 folder: cpu.stat, memory.peak (kernel 5.19+), memory.events."""
    cpu_stat = parse_keyed(read_text(unified / "cpu.stat"))
    peak = read_optional(unified / "memory.peak")
    events = parse_keyed(read_optional(unified / "memory.events") or "")
    usage_us, throttled_us = cpu_stat.get("usage_usec"), cpu_stat.get("throttled_usec")
    memory_stat = parse_keyed(read_optional(unified / "memory.stat") or "")
    return ReplicaUsage(
        cpu_seconds=usage_us / 1e6 if usage_us is not None else None,
        cpu_periods=cpu_stat.get("nr_periods"),
        cpu_throttled_periods=cpu_stat.get("nr_throttled"),
        cpu_throttled_seconds=throttled_us / 1e6 if throttled_us is not None else None,
        memory_peak_bytes=int(peak) if peak is not None else None,
        oom_kills=events.get("oom_kill"),
        memory_current_bytes=working_set(read_optional(unified / "memory.current"), memory_stat.get("inactive_file")),
    )


def working_set(usage_text: str | None, inactive_file: int | None) -> int | None:
    """Memory in use as `docker stats` shows it: the cgroup's usage less its inactive page cache."""
    if usage_text is None:
        return None
    return max(0, int(usage_text) - (inactive_file or 0))


def read_usage_of(pid: int) -> ReplicaUsage | None:
    """Usage of the cgroup(s) a process is in (e.g. a container's init), or None if unreadable."""
    try:
        paths = parse_proc_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
        mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    except (OSError, ValueError):
        return None
    v1 = v1_dirs(mounts, paths)
    try:
        if v1 is not None:
            return read_usage_v1(v1)
        unified = next((m for m in mounts if m.version == 2), None)
        folder = cgroup_dir(unified, paths.get("", "/")) if unified is not None else None
        return read_usage_v2(folder) if folder is not None else None
    except (OSError, ValueError):
        return None


def v1_dirs(mounts: Iterable[Mount], paths: Mapping[str, str]) -> dict[str, Path] | None:
    """{role: folder} of a process's v1 cgroups for cpu (+cpuacct) and memory; None unless both exist."""
    dirs: dict[str, Path] = {}
    for mount in mounts:
        for role in mount.controllers & set(_V1_ROLES):
            if role in paths and role not in dirs:
                folder = cgroup_dir(mount, paths[role])
                if folder is not None:
                    dirs[role] = folder
    return dirs if "cpu" in dirs and "memory" in dirs else None
