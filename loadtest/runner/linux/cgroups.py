"""Linux cgroups for API replicas: the CPU and memory limits Docker sets, on cgroup v1 and v2.

The run gets one group folder, `loadtest-<pid>`, under a parent it may write to: this process's
own cgroup (v1: per controller, e.g. cpu at "/" and memory nested), or on v2 a delegated one
(`LOADTEST_CGROUP_PARENT`, a `systemd-run --user --scope -p Delegate=yes` scope) or the root
when running as root. Every replica gets a cgroup inside it with
- CPU: v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, v2 `cpu.max` (quota = cpus x 100 ms period);
- memory: v1 `memory.limit_in_bytes` (+ `memory.memsw.limit_in_bytes`, no swap), v2 `memory.max`
  (+ `memory.swap.max` 0);
- cores, when a replica is pinned (a comparison's duet puts both sides' replicas on its cores): v1 the `cpuset`
  controller's `cpuset.cpus` (+ `cpuset.mems`, which v1 leaves empty and which must be set before a process
  may join), in a group of its own made only then; v2 `cpuset.cpus`, the controller enabled where the
  kernel offers it (Docker's --cpuset-cpus writes the same file).
A replica process joins its cgroup before it execs (see `loadtest.runner.linux.launch`). When this is not
possible, `open_cgroups` raises `CgroupUnavailable` whose message says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.records import ReplicaLimits, ReplicaUsage
from loadtest.runner.linux.cgroup_stats import (
    CPU_PERIOD_US,
    Mount,
    cgroup_dir,
    format_cpu_list,
    parse_cpu_list,
    parse_mountinfo,
    parse_proc_cgroup,
    quota_for,
    read_limits_v1,
    read_limits_v2,
    read_optional,
    read_text,
    read_usage_v1,
    read_usage_v2,
    v1_cpuset_dir,
    v1_dirs,
)

PARENT_ENV = "LOADTEST_CGROUP_PARENT"
"""cgroup v2: a delegated cgroup to create the run's group in (path under the cgroup2 mount)."""

GROUP_PREFIX = "loadtest-"
CPUSET_ROLE = "cpuset"
"""v1: a pinned replica's `dirs` key for its cpuset folder."""
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

    def apply(self, cpus: float, memory_bytes: int, cores: frozenset[int] | None = None) -> None:
        """Set the CPU quota and the memory limit, with no swap beyond it where the kernel allows, and pin
        it to `cores` (None: not pinned)."""
        if cores is not None:
            self._pin(cores)
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
        if cores is not None and limits.cpuset != format_cpu_list(cores):
            raise CgroupError(
                f"cgroup {self.name}: the kernel kept cpuset.cpus {limits.cpuset!r} "
                f"instead of {format_cpu_list(cores)!r}"
            )

    def _pin(self, cores: frozenset[int]) -> None:
        """cpuset.cpus (v1: cpuset.mems first, copied from the parent: a v1 cpuset starts with none, and a
        process cannot join a cpuset without memory nodes)."""
        if not cores:
            raise CgroupError(f"cgroup {self.name}: an empty set of cores to pin it to")
        folder = self.dirs.get(CPUSET_ROLE) if self.version == 1 else self.dirs["unified"]
        if folder is None:
            raise CgroupError(f"cgroup {self.name} has no cpuset folder to pin it with")
        if self.version == 1:
            mems = read_optional(folder.parent / "cpuset.mems")
            if mems is not None and not (read_optional(folder / "cpuset.mems") or "").strip():
                _write(folder / "cpuset.mems", mems.strip())
        _write(folder / "cpuset.cpus", format_cpu_list(cores))

    def read_limits(self) -> ReplicaLimits:
        """The limits as the kernel reports them now."""
        try:
            if self.version == 1:
                return read_limits_v1(self.dirs["cpu"], self.dirs["memory"], self.folders, self.dirs.get(CPUSET_ROLE))
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
    cpuset_parent: Path | None = None
    """v1: this process's cpuset cgroup, where the run's cpuset group is made when a replica is first pinned."""
    cpuset_group: Path | None = None
    """v1: the run's cpuset group, once made."""
    cpuset_unavailable: str | None = None
    """Why replicas cannot be pinned here (None: they can)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """A duet's two sides create and remove their replicas' cgroups from two threads at once."""

    def describe(self) -> str:
        """One line for the terminal."""
        folders = ", ".join(str(folder) for folder in dict.fromkeys(self.groups.values()))
        return f"cgroup v{self.version}: {folders}"

    def create(self, name: str, cpus: float, memory_bytes: int, cores: frozenset[int] | None = None) -> ReplicaCgroup:
        """A new cgroup for one replica, limits applied and verified, pinned to `cores` if given."""
        if cores is not None and self.cpuset_unavailable is not None:
            raise CgroupError(f"cannot pin {name} to CPUs {format_cpu_list(cores)}: {self.cpuset_unavailable}")
        dirs = {role: group / name for role, group in self.groups.items()}
        with self.lock:
            if cores is not None and self.version == 1:
                dirs[CPUSET_ROLE] = self._cpuset_group() / name
            cgroup = ReplicaCgroup(name=name, version=self.version, dirs=dirs)
            self.replicas.append(cgroup)
        for folder in cgroup.folders:
            try:
                folder.mkdir()
            except FileExistsError:
                raise CgroupError(f"cgroup {folder} already exists") from None
            except OSError as error:
                raise CgroupError(f"cannot create cgroup {folder}: {error.strerror}") from None
        cgroup.apply(cpus, memory_bytes, cores)
        return cgroup

    def _cpuset_group(self) -> Path:
        """v1: the run's cpuset group, made on first use with all of its parent's CPUs and memory nodes."""
        if self.cpuset_group is not None:
            return self.cpuset_group
        if self.cpuset_parent is None:
            raise CgroupError("the v1 cpuset controller is not mounted here")
        group = self.cpuset_parent / next(iter(self.groups.values())).name
        try:
            group.mkdir()
        except OSError as error:
            raise CgroupError(f"cannot create cgroup {group}: {error.strerror}") from None
        self.cpuset_group = group
        for setting in ("cpuset.cpus", "cpuset.mems"):
            _write(group / setting, read_text(self.cpuset_parent / setting).strip())
        return group

    def cores(self) -> frozenset[int]:
        """The CPUs replicas may be pinned to: the run's group's (else this process's affinity)."""
        text: str | None = None
        if self.version == 1:
            folder = self.cpuset_group or self.cpuset_parent
            if folder is not None:
                text = read_optional(folder / "cpuset.effective_cpus") or read_optional(folder / "cpuset.cpus")
        else:
            text = read_optional(self.groups["unified"] / "cpuset.cpus.effective")
        return parse_cpu_list(text) if text and text.strip() else frozenset(os.sched_getaffinity(0))

    def remove(self, cgroup: ReplicaCgroup) -> None:
        """Remove one replica's cgroup."""
        cgroup.remove()
        with self.lock:
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
        groups = [*self.groups.values(), *([self.cpuset_group] if self.cpuset_group is not None else [])]
        for folder in dict.fromkeys(groups):
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
        return _open_v1(v1, group_name, v1_cpuset_dir(mounts, paths))
    unified = next((m for m in mounts if m.version == 2), None)
    if unified is None:
        raise CgroupUnavailable("neither cgroup v2 nor the v1 cpu and memory controllers are mounted")
    return _open_v2(unified, paths.get("", "/"), group_name, environ.get(PARENT_ENV))


def _open_v1(own: dict[str, Path], group_name: str, cpuset: Path | None = None) -> ReplicaCgroups:
    groups = {role: folder / group_name for role, folder in own.items()}
    for parent in dict.fromkeys([*own.values(), *([cpuset] if cpuset is not None else [])]):
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
    unavailable = None
    if cpuset is None:
        unavailable = "the cgroup v1 cpuset controller is not mounted"
    elif not os.access(cpuset / "cgroup.procs", os.W_OK):
        unavailable = f"this process may not create cpuset cgroups in {cpuset}"
    return ReplicaCgroups(version=1, groups=groups, cpuset_parent=cpuset, cpuset_unavailable=unavailable)


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
            unavailable, enabled_above = _enable_cpuset(group)
            if evacuation is not None:
                evacuation.cpuset_enabled = enabled_above
            return ReplicaCgroups(
                version=2, groups={"unified": group}, evacuated=evacuation, cpuset_unavailable=unavailable
            )
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


def _enable_cpuset(group: Path) -> tuple[str | None, bool]:
    """cgroup v2: give the run's replicas the cpuset controller, if the kernel offers it there. Why not (None:
    it is enabled), and whether it had to be enabled in the parent for that. Only pinned replicas need it, so
    a machine without it still runs every unpinned cell."""
    enabled_above = False
    if "cpuset" not in (read_optional(group / "cgroup.controllers") or "").split():
        parent = read_optional(group.parent / "cgroup.controllers") or ""
        if "cpuset" not in parent.split():
            listed = parent.strip() or "none"
            return f"the cpuset controller is not available in {group.parent} (cgroup.controllers: {listed})", False
        try:
            _write(group.parent / "cgroup.subtree_control", "+cpuset")
        except CgroupError as error:
            return str(error), False
        enabled_above = True
    try:
        _write(group / "cgroup.subtree_control", "+cpuset")
    except CgroupError as error:
        return str(error), enabled_above
    return None, enabled_above


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
    cpuset_enabled: bool = False
    """The run enabled the cpuset controller in the parent's subtree_control (undone with cpu and memory)."""

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
            _write(self.parent / "cgroup.subtree_control", "-cpu -memory" + (" -cpuset" if self.cpuset_enabled else ""))
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
