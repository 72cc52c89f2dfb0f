"""Linux cgroups for API replicas: the CPU and memory limits Docker sets, on cgroup v1 and v2.

The run gets one group folder, `loadtest-<pid>`, under a parent it may write to: this process's
own cgroup (v1: per controller, e.g. cpu at "/" and memory nested), or on v2 a delegated one
(`LOADTEST_CGROUP_PARENT`, a `systemd-run --user --scope -p Delegate=yes` scope) or the root
when running as root. Every replica gets a cgroup inside it with
- CPU: v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, v2 `cpu.max` (quota = cpus x 100 ms period);
- memory: v1 `memory.limit_in_bytes` (+ `memory.memsw.limit_in_bytes`, no swap), v2 `memory.max`
  (+ `memory.swap.max` 0).
A replica process joins its cgroup before it execs (see `loadtest.runner.linux.launch`). When this is not
possible, `open_cgroups` raises `CgroupUnavailable` whose message says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.records import ReplicaLimits, ReplicaUsage
from loadtest.runner.linux.cgroup_stats import (
    CPU_PERIOD_US,
    Mount,
    cgroup_dir,
    parse_mountinfo,
    parse_proc_cgroup,
    quota_for,
    read_limits_v1,
    read_limits_v2,
    read_optional,
    read_text,
    read_usage_v1,
    read_usage_v2,
    v1_dirs,
)

PARENT_ENV = "LOADTEST_CGROUP_PARENT"
"""cgroup v2: a delegated cgroup to create the run's group in (path under the cgroup2 mount)."""

GROUP_PREFIX = "loadtest-"
_GROUP_NAME = re.compile(r"loadtest-(?P<pid>\d+)(?:-runner)?")
_DELEGATION_HINT = (
    "run as root, or inside a delegated cgroup: systemd-run --user --scope -p Delegate=yes <command> (cgroup v2)"
)


class CgroupUnavailable(Exception):
    """Limits cannot be enforced on this machine; the message says why."""


class CgroupError(Exception):
    """A cgroup operation failed during the run."""


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value, encoding="ascii")
    except OSError as error:
        raise CgroupError(f"cannot write {value.strip()!r} to {path}: {error.strerror}") from None


def read_pids(directory: Path) -> list[int]:
    """The processes in a cgroup (empty if it is gone)."""
    text = read_optional(directory / "cgroup.procs") or ""
    return [int(line) for line in text.split()]


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rmdir(directory: Path, timeout: float = 5.0) -> None:
    """Remove an empty cgroup, killing what is left in it (only the runner puts processes there)."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in read_pids(directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > deadline:
                raise CgroupError(f"cannot remove cgroup {directory}: {error.strerror}") from None
            time.sleep(0.05)


# --------------------------------------------------------------------------- one replica's cgroup


@dataclass
class ReplicaCgroup:
    """The cgroup(s) of one replica: v1 one folder per controller, v2 a single folder."""

    name: str
    version: int
    dirs: dict[str, Path]
    """v1: {"cpu": ..., "cpuacct": ..., "memory": ...} (co-mounted controllers share a folder); v2: {"unified": ...}."""

    @property
    def folders(self) -> list[Path]:
        """Each distinct folder once."""
        return list(dict.fromkeys(self.dirs.values()))

    @property
    def procs_files(self) -> list[Path]:
        """The files a process writes its pid into to join this cgroup."""
        return [folder / "cgroup.procs" for folder in self.folders]

    def pids(self) -> list[int]:
        """The processes in it now."""
        return sorted({pid for folder in self.folders for pid in read_pids(folder)})

    def apply(self, cpus: float, memory_bytes: int) -> None:
        """Set the CPU quota and the memory limit, with no swap beyond it where the kernel allows."""
        if self.version == 1:
            cpu, memory = self.dirs["cpu"], self.dirs["memory"]
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", str(quota_for(cpus)))
            _write(memory / "memory.limit_in_bytes", str(memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
            elif (memory / "memory.swappiness").exists():
                _write(memory / "memory.swappiness", "0")
        else:
            unified = self.dirs["unified"]
            _write(unified / "cpu.max", f"{quota_for(cpus)} {CPU_PERIOD_US}")
            _write(unified / "memory.max", str(memory_bytes))
            if (unified / "memory.swap.max").exists():
                _write(unified / "memory.swap.max", "0")
        limits = self.read_limits()
        if limits.cpu_quota_us != quota_for(cpus) or limits.memory_bytes != memory_bytes:
            raise CgroupError(
                f"cgroup {self.name}: the kernel kept quota {limits.cpu_quota_us} us and memory "
                f"{limits.memory_bytes} bytes instead of {quota_for(cpus)} us and {memory_bytes} bytes"
            )

    def read_limits(self) -> ReplicaLimits:
        """The limits as the kernel reports them now."""
        try:
            if self.version == 1:
                return read_limits_v1(self.dirs["cpu"], self.dirs["memory"], self.folders)
            return read_limits_v2(self.dirs["unified"])
        except (OSError, ValueError) as error:
            raise CgroupError(f"cannot read the limits of cgroup {self.name}: {error}") from None

    def read_usage(self) -> ReplicaUsage:
        """CPU time, throttling, peak memory and OOM kills so far."""
        try:
            if self.version == 1:
                return read_usage_v1(self.dirs)
            return read_usage_v2(self.dirs["unified"])
        except (OSError, ValueError) as error:
            raise CgroupError(f"cannot read the usage of cgroup {self.name}: {error}") from None

    def remove(self) -> None:
        """Remove the cgroup, killing any process still in it."""
        for folder in self.folders:
            _rmdir(folder)


# --------------------------------------------------------------------------- the run's group


@dataclass
class ReplicaCgroups:
    """The run's group of replica cgroups. Use `open_cgroups()`; `close()` removes everything."""

    version: int
    groups: dict[str, Path]
    """v1: {role: group folder}; v2: {"unified": group folder}."""
    evacuated: _Evacuation | None = None
    replicas: list[ReplicaCgroup] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the terminal."""
        folders = ", ".join(str(folder) for folder in dict.fromkeys(self.groups.values()))
        return f"cgroup v{self.version}: {folders}"

    def create(self, name: str, cpus: float, memory_bytes: int) -> ReplicaCgroup:
        """A new cgroup for one replica, limits applied and verified."""
        dirs = {role: group / name for role, group in self.groups.items()}
        cgroup = ReplicaCgroup(name=name, version=self.version, dirs=dirs)
        self.replicas.append(cgroup)
        for folder in cgroup.folders:
            try:
                folder.mkdir()
            except FileExistsError:
                raise CgroupError(f"cgroup {folder} already exists") from None
            except OSError as error:
                raise CgroupError(f"cannot create cgroup {folder}: {error.strerror}") from None
        cgroup.apply(cpus, memory_bytes)
        return cgroup

    def remove(self, cgroup: ReplicaCgroup) -> None:
        """Remove one replica's cgroup."""
        cgroup.remove()
        if cgroup in self.replicas:
            self.replicas.remove(cgroup)

    def close(self) -> list[str]:
        """Remove every cgroup of the run; return the problems (empty when all went)."""
        problems: list[str] = []
        for cgroup in list(self.replicas):
            try:
                self.remove(cgroup)
            except CgroupError as error:
                problems.append(str(error))
        for folder in dict.fromkeys(self.groups.values()):
            try:
                _rmdir(folder)
            except CgroupError as error:
                problems.append(str(error))
        if self.evacuated is not None:
            problems.extend(self.evacuated.undo())
        return problems


def open_cgroups(environ: Mapping[str, str] | None = None) -> ReplicaCgroups:
    """Create the run's group under a parent this process may write to, or say why not."""
    environ = os.environ if environ is None else environ
    try:
        paths = parse_proc_cgroup(Path("/proc/self/cgroup").read_text())
        mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    except OSError as error:
        raise CgroupUnavailable(f"cannot read this process's cgroups: {error}") from None
    if not mounts:
        raise CgroupUnavailable("no cgroup filesystem is mounted (none in /proc/self/mountinfo)")
    group_name = f"{GROUP_PREFIX}{os.getpid()}"
    v1 = v1_dirs(mounts, paths)
    if v1 is not None:
        return _open_v1(v1, group_name)
    unified = next((m for m in mounts if m.version == 2), None)
    if unified is None:
        raise CgroupUnavailable("neither cgroup v2 nor the v1 cpu and memory controllers are mounted")
    return _open_v2(unified, paths.get("", "/"), group_name, environ.get(PARENT_ENV))


def _open_v1(own: dict[str, Path], group_name: str) -> ReplicaCgroups:
    groups = {role: folder / group_name for role, folder in own.items()}
    for parent in dict.fromkeys(own.values()):
        sweep_stale_groups(parent)
    made: list[Path] = []
    for folder in dict.fromkeys(groups.values()):
        try:
            folder.mkdir()
        except OSError as error:
            for done in reversed(made):
                _rmdir(done)
            raise CgroupUnavailable(
                f"cannot create the cgroup v1 folder {folder}: {error.strerror}; {_DELEGATION_HINT}"
            ) from None
        made.append(folder)
    return ReplicaCgroups(version=1, groups=groups)


def _open_v2(mount: Mount, own_path: str, group_name: str, explicit: str | None) -> ReplicaCgroups:
    tried: list[str] = []
    candidates: list[tuple[Path, bool]] = []
    if explicit:
        path = Path(explicit)
        candidates.append(
            (path if path.is_absolute() and mount.point in path.parents else mount.point / explicit.strip("/"), False)
        )
    own = cgroup_dir(mount, own_path)
    if own is not None:
        candidates.append((own, own != mount.point))
    if own != mount.point:
        candidates.append((mount.point, False))
    for parent, needs_evacuation in candidates:
        evacuation: _Evacuation | None = None
        try:
            if needs_evacuation:
                evacuation = _Evacuation.make(parent, group_name)
            _enable_controllers(parent)
            sweep_stale_groups(parent)
            group = parent / group_name
            group.mkdir()
            try:
                _write(group / "cgroup.subtree_control", "+cpu +memory")
            except CgroupError:
                group.rmdir()
                raise
            return ReplicaCgroups(version=2, groups={"unified": group}, evacuated=evacuation)
        except (OSError, CgroupError, CgroupUnavailable) as error:
            if evacuation is not None:
                evacuation.undo()
            tried.append(f"{parent}: {getattr(error, 'strerror', None) or error}")
    raise CgroupUnavailable("no usable cgroup v2 parent (" + "; ".join(tried) + f"); {_DELEGATION_HINT}")


def _enable_controllers(parent: Path) -> None:
    available = set(read_text(parent / "cgroup.controllers").split())
    missing = {"cpu", "memory"} - available
    if missing:
        raise CgroupUnavailable(
            f"the {' and '.join(sorted(missing))} controller is not available here "
            f"(cgroup.controllers: {' '.join(sorted(available)) or 'none'})"
        )
    enabled = set(read_text(parent / "cgroup.subtree_control").split())
    wanted = {"cpu", "memory"} - enabled
    if wanted:
        _write(parent / "cgroup.subtree_control", " ".join(f"+{name}" for name in sorted(wanted)))


def sweep_stale_groups(parent: Path) -> list[Path]:
    """Remove empty groups left in `parent` by runs whose process is gone (killed with SIGKILL)."""
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _GROUP_NAME.fullmatch(entry.name)
        if not entry.is_dir() or match is None or _is_alive(int(match["pid"])):
            continue
        try:
            for child in entry.iterdir():
                if child.is_dir():
                    _rmdir(child, timeout=0.5)
            _rmdir(entry, timeout=0.5)
            removed.append(entry)
        except (OSError, CgroupError):
            continue
    return removed


@dataclass
class _Evacuation:
    """cgroup v2 "no internal processes": to give a delegated cgroup children with controllers,
    this process (and its ancestors in the same cgroup, e.g. `make`) move into a leaf first."""

    parent: Path
    leaf: Path
    moved: list[int]

    @classmethod
    def make(cls, parent: Path, group_name: str) -> _Evacuation:
        if not os.access(parent / "cgroup.procs", os.W_OK) or not os.access(parent / "cgroup.subtree_control", os.W_OK):
            raise CgroupUnavailable("this process's cgroup is not delegated to it")
        ours = set(_ancestors(os.getpid()))
        present = read_pids(parent)
        strangers = [pid for pid in present if pid not in ours]
        if strangers:
            raise CgroupUnavailable(
                f"this process's cgroup also holds processes it did not start ({len(strangers)}), "
                "so it cannot be given child cgroups; start the run in its own delegated scope"
            )
        leaf = parent / f"{group_name}-runner"
        leaf.mkdir()
        evacuation = cls(parent=parent, leaf=leaf, moved=[])
        for pid in present:
            _write(leaf / "cgroup.procs", str(pid))
            evacuation.moved.append(pid)
        return evacuation

    def undo(self) -> list[str]:
        """Move the processes back and remove the leaf; return the problems."""
        problems: list[str] = []
        try:
            _write(self.parent / "cgroup.subtree_control", "-cpu -memory")
        except CgroupError as error:
            problems.append(str(error))
        for pid in read_pids(self.leaf):
            try:
                _write(self.parent / "cgroup.procs", str(pid))
            except CgroupError as error:
                problems.append(str(error))
        try:
            self.leaf.rmdir()
        except OSError as error:
            problems.append(f"cannot remove cgroup {self.leaf}: {error.strerror}")
        return problems


def _ancestors(pid: int) -> list[int]:
    """`pid` and its parents up to init."""
    chain = [pid]
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain
