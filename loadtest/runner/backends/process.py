"""The `process` backend: API replicas as local processes, `python -m api --reuse-port` or any command.

The replicas share one port through SO_REUSEPORT, so the kernel spreads connections across them
as Docker's DNS round-robin does (a command of your own must bind that way for more than one
replica). Each replica is a slot with its own cgroup (CPU quota, memory limit) that its process
joins before it execs; a process that dies is restarted into the same slot and counted, as
Docker's restart policy would. A backend `pinned` to a placement runs its replicas in a cpuset of
its replicas' cores and its Locust with the CPU affinity of its Locust cores (a comparison's duet).
Readiness: every replica (or a process it started) holds a listening socket on the port (uvicorn
binds after the lifespan has loaded the model) and the health path answers 200 over fresh connections.
"""

from __future__ import annotations

import copy
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from loadtest import packaged
from loadtest.locust_contract import LoadSettings, WebSettings
from loadtest.records import LiveReplica, ReplicaRecord, ResourceSample
from loadtest.runner import interrupts
from loadtest.runner.backends.base import BackendError, NotReadyError, ReplicaDiedError
from loadtest.runner.backends.local_locust import LocustProcess, start_locust, start_locust_web
from loadtest.runner.generator import cell_workers
from loadtest.runner.linux import launch, processes
from loadtest.runner.linux.cgroups import CgroupError, CgroupUnavailable, ReplicaCgroup, ReplicaCgroups, open_cgroups
from loadtest.runner.linux.processes import describe_exit
from loadtest.runner.linux.sockets import free_port, listening_pids
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
from loadtest.util.files import read_tail
from loadtest.util.http import get_status

HOST = "127.0.0.1"
MAX_RESTARTS_PER_REPLICA = 50
"""A replica that dies more often than this in one cell breaks the cell."""
STOP_GRACE_SECONDS = 5.0


PORT_PLACEHOLDER = "{port}"


def render_command(template: str, port: int) -> list[str]:
    """A command of your own (`--api-command`), split like a shell would, `{port}` replaced."""
    words = shlex.split(template)
    if not words or not any(PORT_PLACEHOLDER in word for word in words):
        raise ValueError(f"the API command {template!r} must contain {PORT_PLACEHOLDER}, the port to bind")
    return [word.replace(PORT_PLACEHOLDER, str(port)) for word in words]


def api_command(port: int, log_level: str = "warning") -> list[str]:
    """One replica: the API exactly as the container runs it, sharing `port` with its siblings."""
    return [
        sys.executable,
        "-m",
        "api",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--reuse-port",
        "--log-level",
        log_level,
    ]


@dataclass
class Replica:
    """One replica slot: its cgroup, its current process, its history."""

    index: int
    cgroup: ReplicaCgroup | None
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)
    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)
    record: ReplicaRecord | None = None
    _log: IO[bytes] | None = None

    @property
    def name(self) -> str:
        """replica-0, replica-1, ..."""
        return f"replica-{self.index}"

    def launch(self, command: list[str], cwd: Path, cores: frozenset[int] | None = None) -> None:
        """Start a process in this slot (joining the slot's cgroup before it execs; without a cgroup, pinned to
        `cores` by its CPU affinity, as a cgroup's cpuset would have)."""
        if self._log is None:
            self._log = self.log_path.open("ab")
        procs = self.cgroup.procs_files if self.cgroup is not None else []
        affinity = cores if self.cgroup is None else None
        self.process = processes.start(
            launch.build_command(command, cgroup_procs=[str(p) for p in procs], cpus=affinity), self._log, cwd
        )
        self.pids.append(self.process.pid)

    def log_tail(self, lines: int = 12) -> str:
        """The end of the replica's output, for error messages."""
        return read_tail(self.log_path, lines)

    def close_log(self) -> None:
        """Close the log file."""
        if self._log is not None:
            self._log.close()
            self._log = None


class ProcessDeployment:
    """One cell's replicas on one shared port."""

    def __init__(
        self,
        cell: Cell,
        cell_dir: Path,
        cwd: Path,
        cgroups: ReplicaCgroups | None,
        port: int,
        ready_timeout: float,
        limits_not_enforced_reason: str | None = None,
        command_template: str | None = None,
        health_path: str = "/health",
        locustfile: Path | None = None,
        api_cwd: Path | None = None,
        placement: Placement | None = None,
        before_load: Callable[[], None] | None = None,
        tag: str | None = None,
    ) -> None:
        self.cell, self.cell_dir, self.cwd, self.cgroups, self.port = cell, cell_dir, cwd, cgroups, port
        self.placement = placement
        """Where its replicas and its Locust are pinned (None: not pinned)."""
        self.tag = tag
        """In its replicas' cgroups' names (a duet's side): two deployments of one cell never share one."""
        self.before_load = before_load
        """Called with the replicas ready, just before Locust starts (a duet's sides start their loads together)."""
        self.api_cwd = api_cwd or cwd
        """Where the replicas run (a comparison's side: its own checkout); Locust runs in `cwd`."""
        self.ready_timeout = ready_timeout
        self.limits_enforced = cgroups is not None
        self.limits_not_enforced_reason = limits_not_enforced_reason
        self.custom_command = command_template is not None
        self.api_command: list[str] | None = (
            render_command(command_template, port) if command_template is not None else api_command(port)
        )
        self.health_path = health_path
        self.locustfile = locustfile or packaged.LOCUSTFILE
        self.url = f"http://{HOST}:{port}"
        self.replicas: list[Replica] = []
        self.load: LocustProcess | None = None
        self.locust_workers: int | None = None
        """None: as many as the cores the replicas leave free."""
        self.problems: list[str] = []
        """What went wrong while cleaning up (a cgroup that would not go)."""
        self._down = False

    def __enter__(self) -> ProcessDeployment:
        try:
            self.start()
            self.wait_ready(self.ready_timeout)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        with interrupts.shielded():
            if not self._down:
                self.problems += self.shut_down()

    def start(self) -> None:
        """Create the replica cgroups and start every replica."""
        for index in range(self.cell.replicas):
            cgroup = None
            if self.cgroups is not None:
                try:
                    cgroup = self.cgroups.create(
                        self.cgroup_name(index), self.cell.cpus, self.cell.memory_bytes, self.cores
                    )
                except CgroupError as error:
                    raise BackendError(f"replica {index}: {error}") from None
            replica = Replica(index=index, cgroup=cgroup, log_path=self.cell_dir / f"replica-{index}.log")
            self.replicas.append(replica)
            try:
                replica.launch(self.api_command or [], self.api_cwd, self.cores)
            except OSError as error:
                raise BackendError(f"cannot start API replica {index}: {error}") from None

    @property
    def cores(self) -> frozenset[int] | None:
        """Its replicas' CPUs (None: not pinned)."""
        return self.placement.replicas if self.placement is not None else None

    def cgroup_name(self, index: int) -> str:
        """Replica `index`'s cgroup: named after its cell, and its tag when it has one (a duet's two sides run
        the same cell at once: `base`, `head`)."""
        tag = f"-{self.tag}" if self.tag is not None else ""
        return f"{self.cell.name}{tag}-replica-{index}"

    def wait_ready(self, timeout: float) -> None:
        """Return once every replica listens and /health answers 200; BackendError on timeout or death."""
        deadline = time.monotonic() + timeout
        last: str | int = "no answer yet"
        listening: set[int] = set()
        while time.monotonic() < deadline:
            if interrupts.received():
                # A signal the main thread caught while this (a duet's side) runs in another thread.
                raise interrupts.RunInterrupted(interrupts.received() or "a signal")
            for replica in self.replicas:
                code = replica.process.poll() if replica.process is not None else None
                if code is not None:
                    replica.exit_codes.append(code)
                    hint = (
                        " (the replicas share one port: a command of your own must bind it with SO_REUSEPORT)"
                        if self.custom_command and len(self.replicas) > 1
                        else ""
                    )
                    raise ReplicaDiedError(
                        f"API replica {replica.index} exited with {describe_exit(code)} before it was ready{hint} "
                        f"(log {replica.log_path}):\n{replica.log_tail()}"
                    )
            pids = [replica.process.pid for replica in self.replicas if replica.process is not None]
            listening = {pid for pid in pids if listening_pids([pid, *processes.descendants(pid)], self.port)}
            if len(listening) == len(pids):
                answers = [get_status(HOST, self.port, self.health_path) for _ in range(3 * len(pids))]
                last = next((answer for answer in answers if answer != 200), 200)
                if last == 200:
                    return
            time.sleep(0.1)
        waiting = [r.index for r in self.replicas if r.process is not None and r.process.pid not in listening]
        status = (
            f"last GET {self.health_path}: {last}"
            if not waiting
            else f"replicas {waiting} not listening on port {self.port} yet"
        )
        raise NotReadyError(
            f"the API was not ready within {timeout:g} s ({status}); replica 0 log {self.replicas[0].log_path}:\n"
            f"{self.replicas[0].log_tail()}"
        )

    def start_load(self, settings: LoadSettings) -> LocustProcess:
        """Start Locust against the shared port, on its placement's Locust cores when it has one."""
        if self.before_load is not None:
            self.before_load()
        cores = self.placement.locust if self.placement is not None else None
        self.load = start_locust(
            self._locustfile(), self.url, self.cell_dir, settings, self._workers(), cwd=self.cwd, cores=cores
        )
        return self.load

    def start_web_ui(self, settings: WebSettings) -> LocustProcess:
        """Start Locust with its web UI against the shared port; it runs until the deployment ends."""
        self.load = start_locust_web(
            self._locustfile(), self.url, self.cell_dir, settings, self._workers(), cwd=self.cwd
        )
        return self.load

    def live_replicas(self) -> list[LiveReplica]:
        """Where another process finds each replica's cgroup, and its restarts so far."""
        return [
            LiveReplica(
                index=replica.index,
                name=replica.name,
                cgroup_version=replica.cgroup.version if replica.cgroup is not None else None,
                cgroup_dirs={role: str(path) for role, path in replica.cgroup.dirs.items()}
                if replica.cgroup is not None
                else {},
                restarts=replica.restarts,
            )
            for replica in self.replicas
        ]

    def _locustfile(self) -> Path:
        if not self.locustfile.is_file():
            raise BackendError(f"the Locust scenario {self.locustfile} does not exist")
        return self.locustfile

    def _workers(self) -> int:
        return cell_workers(self.cell, self.locust_workers, self.placement)

    def sample(self) -> ResourceSample:
        """The replicas' CPU counters and peak memory (their cgroups, else their processes) and Locust's CPU."""
        usages = []
        for replica in self.replicas:
            if replica.cgroup is not None:
                try:
                    usages.append(replica.cgroup.read_usage())
                except CgroupError:
                    continue
        if self.cgroups is not None and usages:
            peaks = [usage.memory_peak_bytes for usage in usages if usage.memory_peak_bytes is not None]
            api = ResourceSample(
                t=time.time(),
                api_cpu_seconds=sum(usage.cpu_seconds or 0.0 for usage in usages),
                api_cpu_periods=sum(usage.cpu_periods or 0 for usage in usages),
                api_cpu_throttled_periods=sum(usage.cpu_throttled_periods or 0 for usage in usages),
                api_memory_peak_bytes=max(peaks) if peaks else None,
            )
        else:
            pids = [
                pid
                for r in self.replicas
                if r.process is not None
                for pid in (r.process.pid, *processes.descendants(r.process.pid))
            ]
            api = ResourceSample(t=time.time(), api_cpu_seconds=processes.cpu_seconds(pids))
        if self.load is not None:
            leader = self.load.process.pid
            api = api.model_copy(
                update={"locust_cpu_seconds": processes.cpu_seconds([leader, *processes.descendants(leader)])}
            )
        return api

    def supervise(self) -> list[str]:
        """Restart replicas whose process ended; return one message per restart."""
        events: list[str] = []
        for replica in self.replicas:
            code = replica.process.poll() if replica.process is not None else None
            if code is None or self._down:
                continue
            replica.exit_codes.append(code)
            replica.close_log()
            if replica.restarts >= MAX_RESTARTS_PER_REPLICA:
                raise ReplicaDiedError(f"API replica {replica.index} died {replica.restarts + 1} times; giving up")
            replica.restarts += 1
            replica.launch(self.api_command or [], self.api_cwd, self.cores)
            oom = ""
            if replica.cgroup is not None:
                kills = _safe_usage(replica.cgroup)
                oom = f", {kills} OOM kill(s) so far" if kills else ""
            events.append(
                f"API replica {replica.index} exited with {describe_exit(code)}{oom}; "
                f"restarted (restart {replica.restarts})"
            )
        return events

    def shut_down(self) -> list[str]:
        """Stop Locust and every replica, record usage, remove the cgroups; return problems."""
        problems: list[str] = []
        self._down = True
        if self.load is not None:
            self.load.stop()
        live = [r.process for r in self.replicas if r.process is not None]
        for process in live:
            if process.poll() is None:
                processes.signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in live:
            processes.wait_for_exit(process, deadline)
            processes.stop(process, grace=0)
        for replica in self.replicas:
            replica.close_log()
            replica.record = self._record(replica)
            if replica.cgroup is not None and self.cgroups is not None:
                try:
                    self.cgroups.remove(replica.cgroup)
                except CgroupError as error:
                    problems.append(str(error))
        return problems

    def replica_records(self) -> list[ReplicaRecord]:
        """Per replica: pids, restarts, limits read back, usage (final after shut_down)."""
        return [replica.record or self._record(replica) for replica in self.replicas]

    def _record(self, replica: Replica) -> ReplicaRecord:
        return cgroup_record(
            replica.index, replica.name, replica.cgroup, replica.pids, replica.restarts, replica.exit_codes
        )


def _check_template(api_command: str | None) -> None:
    """Refuse a command of your own without {port} before any cell starts."""
    if api_command is not None:
        try:
            render_command(api_command, 0)
        except ValueError as error:
            raise BackendError(str(error)) from None


def cgroup_record(
    index: int,
    name: str,
    cgroup: ReplicaCgroup | None,
    pids: list[int],
    restarts: int,
    exit_codes: list[int],
) -> ReplicaRecord:
    """A replica's record with its limits and usage read back from its cgroup now (if it has one)."""
    limits = usage = None
    oom_killed = None
    if cgroup is not None:
        try:
            limits = cgroup.read_limits()
            usage = cgroup.read_usage()
            oom_killed = bool(usage.oom_kills) if usage.oom_kills is not None else None
        except CgroupError:
            pass
    return ReplicaRecord(
        index=index,
        name=name,
        pids=list(pids),
        restarts=restarts,
        exit_codes=list(exit_codes),
        oom_killed=oom_killed,
        limits=limits,
        usage=usage,
    )


def _safe_usage(cgroup: ReplicaCgroup) -> int | None:
    try:
        return cgroup.read_usage().oom_kills
    except CgroupError:
        return None


class ProcessBackend:
    """Replicas as local processes, limited by cgroups when the machine allows it."""

    name = "process"
    image = None

    def __init__(
        self,
        cwd: Path,
        ready_timeout: float,
        port: int | None = None,
        enforce_limits: bool = True,
        locust_workers: int | None = None,
        api_command: str | None = None,
        health_path: str = "/health",
        locustfile: Path | None = None,
    ) -> None:
        self.cwd, self.ready_timeout, self.port, self.locust_workers = cwd, ready_timeout, port, locust_workers
        self.command_template, self.health_path, self.locustfile = api_command, health_path, locustfile
        self.api_cwd = cwd
        """Where the replicas run; Locust always runs in `cwd`."""
        self.placement: Placement | None = None
        """Where this backend's cells run (a `pinned` view); None: wherever the kernel puts them."""
        self.tag: str | None = None
        """A `pinned` view's name for its cells' replicas (a duet's side), so two views' cgroups never collide."""
        self.before_load: Callable[[], None] | None = None
        """Called in each cell with its replicas ready, just before its Locust starts (a duet's start together)."""
        _check_template(api_command)
        self.cgroups: ReplicaCgroups | None = None
        self.limits_not_enforced_reason: str | None = None
        if not enforce_limits:
            self.limits_not_enforced_reason = "disabled with --no-limits"
            return
        try:
            self.cgroups = open_cgroups()
        except CgroupUnavailable as error:
            self.limits_not_enforced_reason = str(error)

    @property
    def limits_enforced(self) -> bool:
        """Whether replicas run under CPU and memory limits."""
        return self.cgroups is not None

    def describe(self) -> str:
        """Where the replicas run and how they are limited."""
        if self.cgroups is None:
            return f"process backend, limits NOT enforced: {self.limits_not_enforced_reason}"
        return f"process backend, limits enforced with {self.cgroups.describe()}"

    def serving(self, api_command: str | None, api_cwd: Path) -> ProcessBackend:
        """This backend (its cgroups, port, Locust) with another service: `api_command` (None: `python -m
        api`) run in `api_cwd`, as a comparison runs each side's own checkout. The view shares the
        cgroups: close this backend, not the view."""
        _check_template(api_command)
        view = copy.copy(self)
        view.command_template, view.api_cwd = api_command, api_cwd
        return view

    def pinned(self, placement: Placement | None, tag: str | None = None) -> ProcessBackend:
        """This backend (same cgroups, service and Locust) with every cell's replicas and Locust on `placement`,
        its replicas' cgroups named with `tag` (a duet's side: two views run the same cell at once). None:
        unpinned. Like `serving`, a view: close this backend, not the view."""
        view = copy.copy(self)
        view.placement, view.tag = placement, tag
        return view

    def deployment(self, cell: Cell, cell_dir: Path) -> ProcessDeployment:
        """The cell's replicas; entering starts them and waits until ready, leaving stops everything."""
        port = self.port or free_port(HOST)
        deployment = ProcessDeployment(
            cell,
            cell_dir,
            self.cwd,
            self.cgroups,
            port,
            self.ready_timeout,
            self.limits_not_enforced_reason,
            command_template=self.command_template,
            health_path=self.health_path,
            locustfile=self.locustfile,
            api_cwd=self.api_cwd,
            placement=self.placement,
            before_load=self.before_load,
            tag=self.tag,
        )
        deployment.locust_workers = self.locust_workers
        return deployment

    def close(self) -> list[str]:
        """Remove the run's cgroup group."""
        if self.cgroups is None:
            return []
        with interrupts.shielded():
            return self.cgroups.close()
