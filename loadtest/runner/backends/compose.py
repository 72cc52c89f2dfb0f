"""The `compose` backend: one Compose project per cell from docker-compose.ci.yaml.

The compose file is driven through its environment contract (API_REPLICAS, API_CPUS,
API_MEMORY, API_IMAGE, API_HEALTH_PATH, LOADTEST_IMAGE, LOCUST_WORKERS, LOCUST_USERS,
LOCUST_SPAWN_RATE, LOCUST_RUN_TIME, LOCUST_LOCUSTFILE, RESULTS_DIR, LOADTEST_UID/GID,
NOFILE_LIMIT), and the scenario's files are mounted into Locust's containers by a compose file
layered over it (`compose_scenario`). Works with `docker compose` (v2)
and `docker-compose --compatibility` (v1, which needs the flag to apply deploy.replicas and
deploy.resources.limits). Per cell: `up -d api`, wait until every API container is healthy,
`up -d` Locust's master and workers, wait for the master to exit; limits and restarts are read
back with `docker inspect`, usage from the containers' cgroups (or sampled with `docker stats`
where those cannot be read). Containers are listed with `ps --all`: v2's plain `ps` leaves out
the ones that exited, and a dead replica must stay in view. `down -v --remove-orphans` always
ends the cell. A `pinned` view (a comparison's duet) puts the API containers and Locust's on the
placement's CPUs with one more layered file (`compose_placement`), names its projects after its
side (both sides run the same cell at once) and starts Locust when `before_load` returns.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from loadtest.locust_contract import (
    FINISH_GRACE_SECONDS,
    LOCUSTFILE,
    LOG_FILE,
    LoadSettings,
    WebSettings,
    cpu_warnings_in,
    locust_environment,
)
from loadtest.records import LiveReplica, ReplicaLimits, ReplicaRecord, ReplicaUsage, ResourceSample
from loadtest.runner import interrupts
from loadtest.runner.backends.base import BackendError, NotReadyError, ReplicaDiedError
from loadtest.runner.backends.compose_placement import (
    PLACEMENT_OVERRIDE_FILE,
    DockerCpus,
    cpuset_mismatch,
    docker_cpus,
    placement_override,
)
from loadtest.runner.backends.compose_scenario import (
    SCENARIO_OVERRIDE_FILE,
    ScenarioMounts,
    scenario_mounts,
    scenario_override,
)
from loadtest.runner.backends.compose_web import WEB_OVERRIDE_FILE, web_override
from loadtest.runner.backends.docker import (
    COMMAND_TIMEOUT,
    compose_error,
    detect_compose,
    inspect,
    limits_from_inspect,
    probe_container,
    run_command,
    sample_memory,
)
from loadtest.runner.generator import cell_workers
from loadtest.runner.linux.cgroup_stats import read_usage_of
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
from loadtest.runner.run_options import ComposeVersion
from loadtest.util.files import read_tail, write_atomic
from loadtest.util.units import format_cpus

DEFAULT_API_IMAGE = "inference-gate-api:local"
DEFAULT_LOADTEST_IMAGE = "inference-gate-loadtest:local"
POLL_SECONDS = 2.0
"""How often `docker inspect` is asked while the load runs."""
STOP_TIMEOUT = 15
OPEN_FILES_WANTED = 65536
"""The open-files limit every container asks for (the compose file's NOFILE_LIMIT default): 10,000
users hold 10,000+ sockets. Lowered to the Docker daemon's own hard limit where that is less."""


def project_name(cell: Cell, pid: int, tag: str | None = None) -> str:
    """A Compose project name unique to this run and cell, and to `tag` (a comparison's side: a duet runs
    both sides' projects of one cell at once); lower case, digits, - and _ only."""
    side = f"-{tag}" if tag else ""
    return f"loadtest{pid}{side}-{cell.name}".replace(".", "_").lower()


def compose_environment(
    cell: Cell,
    settings: LoadSettings,
    results_dir: Path,
    api_image: str,
    loadtest_image: str,
    workers: int,
    open_files: int,
    health_path: str = "/health",
    locustfile: str = LOCUSTFILE,
) -> dict[str, str]:
    """The variables docker-compose.ci.yaml reads, for one cell (`settings.scenario` as the containers see it)."""
    return {
        "API_IMAGE": api_image,
        "API_REPLICAS": str(cell.replicas),
        "API_CPUS": format_cpus(cell.cpus),
        "API_MEMORY": cell.memory,
        "API_HEALTH_PATH": health_path,
        "LOADTEST_IMAGE": loadtest_image,
        "LOCUST_LOCUSTFILE": locustfile,
        "LOCUST_WORKERS": str(workers),
        "LOCUST_USERS": str(settings.users),
        "LOCUST_SPAWN_RATE": f"{settings.spawn_rate:g}",
        "LOCUST_RUN_TIME": f"{settings.run_time_seconds}s",
        "RESULTS_DIR": str(results_dir.resolve()),
        "LOADTEST_UID": str(os.getuid()),
        "LOADTEST_GID": str(os.getgid()),
        "NOFILE_LIMIT": str(open_files),
        **locust_environment(settings),
    }


def limits_mismatch(cell: Cell, limits: ReplicaLimits) -> str | None:
    """Why a container's limits are not the cell's (None when they are)."""
    if limits.cpus is None or abs(limits.cpus - cell.cpus) > 0.01:
        return f"Docker reports {limits.cpus} CPUs instead of {cell.cpus:g}"
    if limits.memory_bytes != cell.memory_bytes:
        return f"Docker reports a memory limit of {limits.memory_bytes} bytes instead of {cell.memory_bytes}"
    if limits.swap_bytes != 0:
        allowed = "unlimited swap" if limits.swap_bytes is None else f"{limits.swap_bytes} bytes of swap"
        return f"Docker allows {allowed} on top of the memory limit (memswap_limit not applied)"
    return None


# --------------------------------------------------------------------------- one cell


@dataclass
class ApiContainer:
    """What is known about one API container."""

    index: int
    id: str
    name: str = ""
    document: dict[str, Any] = field(default_factory=dict)
    usage: ReplicaUsage | None = None
    sampled_peak: int | None = None

    def observe(self, document: dict[str, Any]) -> None:
        """Take in its `docker inspect` document, and read its usage while it runs."""
        self.document = document
        self.name = str(document.get("Name", "")).lstrip("/")
        pid = (document.get("State") or {}).get("Pid")
        usage = read_usage_of(pid) if pid else None
        if usage is not None:
            self.usage = usage
        elif pid:
            sampled = sample_memory(self.id)
            if sampled is not None:
                self.sampled_peak = max(sampled, self.sampled_peak or 0)
                self.usage = ReplicaUsage(
                    cpu_seconds=None,
                    cpu_periods=None,
                    cpu_throttled_periods=None,
                    cpu_throttled_seconds=None,
                    memory_peak_bytes=self.sampled_peak,
                    oom_kills=None,
                    memory_current_bytes=sampled,
                )

    def record(self) -> ReplicaRecord:
        """The run.json entry."""
        state = self.document.get("State") or {}
        exit_codes = [state["ExitCode"]] if state.get("Status") == "exited" and "ExitCode" in state else []
        pid = state.get("Pid")
        return ReplicaRecord(
            index=self.index,
            name=self.name or self.id[:12],
            pids=[pid] if pid else [],
            restarts=int(self.document.get("RestartCount") or 0),
            exit_codes=exit_codes,
            oom_killed=state.get("OOMKilled") if "OOMKilled" in state else None,
            limits=limits_from_inspect(self.document) if self.document else None,
            usage=self.usage,
        )


def _usage_now(document: Mapping[str, Any]) -> ReplicaUsage | None:
    """A running container's usage from its cgroup (found through its init pid)."""
    pid = (document.get("State") or {}).get("Pid")
    return read_usage_of(pid) if pid else None


class ComposeLoad:
    """Locust's master and workers as Compose services; `poll()` asks Docker about the master."""

    def __init__(self, deployment: ComposeDeployment, command: list[str], workers: int, run_time_seconds: int) -> None:
        self.deployment, self.command, self.workers = deployment, command, workers
        self.log_path = deployment.cell_dir / LOG_FILE
        self.started = time.monotonic()
        self.deadline = self.started + run_time_seconds + FINISH_GRACE_SECONDS + 120  # + workers' start
        self.master_id = ""
        self.open_files_limit = deployment.backend.open_files_limit
        """The containers' open-files limit (the compose file's NOFILE_LIMIT)."""
        self._exit: int | None = None
        self._next_poll = 0.0

    def poll(self) -> int | None:
        """The master's exit code once it has exited."""
        if self._exit is not None or time.monotonic() < self._next_poll:
            return self._exit
        self._next_poll = time.monotonic() + POLL_SECONDS
        if not self.master_id:
            ids = self.deployment.container_ids("locust-master")
            self.master_id = ids[0] if ids else ""
        documents = inspect([self.master_id]) if self.master_id else []
        state = documents[0].get("State", {}) if documents else {}
        if state.get("Status") in ("exited", "dead"):
            self._exit = int(state.get("ExitCode", 1))
            self.save_log()
        return self._exit

    def stop(self) -> int:
        """Stop the master as Ctrl-C would (it writes its CSVs and HTML report, and stops its workers), then
        whatever is left; save Locust's logs."""
        if self._exit is None:
            if self.master_id:
                # SIGINT first: Locust's SIGTERM handler (docker stop) shuts down without the HTML report.
                run_command(["docker", "kill", "--signal", "SIGINT", self.master_id], timeout=30)
                deadline = time.monotonic() + STOP_TIMEOUT
                while self._exit is None and time.monotonic() < deadline:
                    self._next_poll = 0.0
                    if self.poll() is None:
                        time.sleep(POLL_SECONDS / 4)
                run_command(["docker", "stop", "-t", str(STOP_TIMEOUT), self.master_id], timeout=STOP_TIMEOUT + 30)
            self._next_poll = 0.0
            self.poll()
            self.save_log()
        return self._exit if self._exit is not None else 1

    def save_log(self) -> None:
        """Locust's output (master and workers) into locust.log."""
        result = self.deployment.compose("logs", "--no-color", "locust-master", "locust-worker", check=False)
        self.log_path.write_text(result.stdout + result.stderr, encoding="utf-8")

    def cpu_warnings(self) -> list[str]:
        """Locust's own CPU-saturation warnings."""
        return cpu_warnings_in(self.log_path)

    def log_tail(self, lines: int = 15) -> str:
        """The end of Locust's output."""
        if not self.log_path.exists():
            self.save_log()
        return read_tail(self.log_path, lines)


class ComposeDeployment:
    """One cell as a Compose project; entering brings the API up and healthy, leaving takes it all down."""

    api_command = None

    def __init__(self, backend: ComposeBackend, cell: Cell, cell_dir: Path) -> None:
        self.backend, self.cell, self.cell_dir = backend, cell, cell_dir
        self.project = project_name(cell, os.getpid(), backend.tag)
        self.placement = backend.placement
        """The CPUs its replicas' and Locust's containers are pinned to (None: not pinned)."""
        self.workers = cell_workers(cell, backend.locust_workers, self.placement)
        self.settings: LoadSettings | None = None
        """The load as Locust's containers see it (the scenario's files at their mounted paths)."""
        self.mounts: ScenarioMounts | None = None
        self.containers: list[ApiContainer] = []
        self.load: ComposeLoad | None = None
        self.problems: list[str] = []
        self.limits_enforced = True
        self.limits_not_enforced_reason: str | None = None
        self.override_files: list[Path] = []
        """Compose files layered over the backend's (the web UI session's master)."""
        self._locust_pids: list[int] = []
        self._log = cell_dir / "compose.log"
        self._next_check = 0.0

    # -- compose -------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The process environment for Compose: ours plus the cell's contract variables."""
        settings = self.settings or LoadSettings(users=1, spawn_rate=1, run_time_seconds=1)
        contract = compose_environment(
            self.cell,
            settings,
            self.cell_dir,
            self.backend.image,
            self.backend.loadtest_image,
            self.workers,
            self.backend.open_files_limit,
            health_path=self.backend.health_path,
            locustfile=self.mounts.locustfile if self.mounts is not None else LOCUSTFILE,
        )
        return {**os.environ, **contract}

    def compose(
        self, *arguments: str, check: bool = True, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run a Compose command on this cell's project; its output goes to compose.log."""
        files = [self.backend.compose_file, *self.override_files]
        file_flags = [flag for file in files for flag in ("-f", str(file))]
        argv = [*self.backend.compose_command, *file_flags, "-p", self.project, *arguments]
        result = run_command(argv, env=self.environment(), cwd=self.backend.cwd, timeout=timeout)
        with self._log.open("a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(argv)}  (exit {result.returncode})\n{result.stdout}{result.stderr}\n")
        if check and result.returncode != 0:
            raise BackendError(
                f"`{' '.join(self.backend.compose_command)} ... {' '.join(arguments)}` exited {result.returncode} "
                f"(full output in {self._log}): {compose_error(result.stderr or result.stdout)}"
            )
        return result

    def container_ids(self, *services: str) -> list[str]:
        """The ids of the services' containers, running or not (`--all`: v2 lists only running ones without it).
        One `ps` for them all: a Compose v1 command costs a Python start-up."""
        result = self.compose("ps", "--all", "--quiet", *services, check=False)
        return [line.strip() for line in result.stdout.splitlines() if line.strip()]

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> ComposeDeployment:
        try:
            self.pin()
            self.compose("up", "-d", "--no-build", "api", timeout=self.backend.ready_timeout + COMMAND_TIMEOUT)
            self.wait_ready(self.backend.ready_timeout)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        """Return once every API container is healthy; BackendError if one exits or time runs out."""
        deadline = time.monotonic() + timeout
        states: list[str] = []
        while time.monotonic() < deadline:
            self.refresh()
            states = [
                (c.document.get("State") or {}).get("Health", {}).get("Status")
                or (c.document.get("State") or {}).get("Status", "?")
                for c in self.containers
            ]
            for container in self.containers:
                state = container.document.get("State") or {}
                if state.get("Status") in ("exited", "dead"):
                    logs = run_command(["docker", "logs", "--tail", "20", container.id], timeout=30)
                    raise ReplicaDiedError(
                        f"API container {container.name} exited with code {state.get('ExitCode')} "
                        f"before it was healthy:\n{(logs.stdout + logs.stderr).strip()}"
                    )
            if len(self.containers) == self.cell.replicas and all(state == "healthy" for state in states):
                self.check_limits()
                return
            time.sleep(1.0)
        raise NotReadyError(
            f"the API containers were not healthy within {timeout:g} s (states: {', '.join(states) or 'none started'})"
        )

    def refresh(self) -> None:
        """Re-inspect the API containers (and read their usage while they run)."""
        ids = self.container_ids("api")
        known = {container.id: container for container in self.containers}
        self.containers = [known.get(cid) or ApiContainer(index=i, id=cid) for i, cid in enumerate(ids)]
        for document in inspect(ids):
            container = next((c for c in self.containers if document.get("Id", "").startswith(c.id)), None)
            if container is not None:
                container.observe(document)

    def pin(self) -> None:
        """Pinned: layer the placement's cpusets over the compose file, before any container is made."""
        if self.placement is None:
            return
        override = self.cell_dir / PLACEMENT_OVERRIDE_FILE
        write_atomic(override, yaml.safe_dump(placement_override(self.placement), sort_keys=False))
        self.override_files.append(override)

    def check_limits(self) -> None:
        """Mark this cell's limits as not enforced (loudly) when Docker did not apply them (a pinned cell's
        cpuset included: its trial is then no duet's)."""
        for container in self.containers:
            problem = limits_mismatch(self.cell, limits_from_inspect(container.document))
            if problem is None and self.placement is not None:
                problem = cpuset_mismatch(self.placement.replicas, container.document)
            if problem is not None:
                self.not_enforced(f"container {container.name}: {problem}")

    def check_locust_pinned(self, documents: list[dict[str, Any]]) -> None:
        """Pinned: mark the limits as not enforced when a Locust container (its `docker inspect` document) is
        not on the placement's CPUs."""
        if self.placement is None:
            return
        for document in documents:
            problem = cpuset_mismatch(self.placement.locust, document)
            if problem is not None:
                name = str(document.get("Name", "")).lstrip("/") or str(document.get("Id", ""))[:12]
                self.not_enforced(f"Locust container {name}: {problem}")

    def not_enforced(self, reason: str) -> None:
        """The first reason a limit was not applied is the one recorded."""
        if self.limits_enforced:
            self.limits_enforced = False
            self.limits_not_enforced_reason = reason

    def mount_scenario(self, settings: LoadSettings) -> None:
        """Mount the scenario's files (and a locustfile of your own) into Locust's containers, and hand
        Locust the scenario that names them there."""
        self.mounts = scenario_mounts(settings.scenario, self.backend.locustfile)
        if self.mounts.volumes:
            override = self.cell_dir / SCENARIO_OVERRIDE_FILE
            write_atomic(override, yaml.safe_dump(scenario_override(self.mounts), sort_keys=False))
            self.override_files.append(override)
        self.settings = replace(settings, scenario=self.mounts.scenario)

    def start_load(self, settings: LoadSettings) -> ComposeLoad:
        """Start Locust's master and workers as Compose services (a duet's side once the other side's replicas
        are ready too: the backend's `before_load`)."""
        self.mount_scenario(settings)
        if self.backend.before_load is not None:
            self.backend.before_load()
        self.compose("up", "-d", "--no-build", "locust-master", "locust-worker")
        self.load = ComposeLoad(
            self,
            [*self.backend.compose_command, "-p", self.project, "up", "locust-master", "locust-worker"],
            self.workers,
            settings.run_time_seconds,
        )
        return self.load

    def start_web_ui(self, settings: WebSettings) -> ComposeLoad:
        """Start Locust's master with its web UI (published on `settings.host:settings.port`) and its workers."""
        override = self.cell_dir / WEB_OVERRIDE_FILE
        self.mount_scenario(settings.as_load())  # the containers read the scenario and warm-up from the environment
        assert self.mounts is not None
        write_atomic(override, yaml.safe_dump(web_override(settings, self.mounts.locustfile), sort_keys=False))
        self.override_files.append(override)
        self.compose("up", "-d", "--no-build", "locust-master", "locust-worker")
        self.load = ComposeLoad(
            self,
            [*self.backend.compose_command, "-p", self.project, "up", "locust-master", "locust-worker"],
            self.workers,
            run_time_seconds=0,
        )
        return self.load

    def live_replicas(self) -> list[LiveReplica]:
        """The API containers, for another process to inspect."""
        self.refresh()
        return [LiveReplica(index=c.index, name=c.name or c.id[:12], container_id=c.id) for c in self.containers]

    def sample(self) -> ResourceSample:
        """The API containers' CPU counters and peak memory, and Locust's CPU, from their cgroups."""
        usages = [usage for c in self.containers if (usage := _usage_now(c.document)) is not None]
        if self.load is not None and not self._locust_pids:
            # Looked up once the load runs, and their cpusets checked from the same documents: nothing more
            # to wait for before the first sample (each Compose v1 command takes a second here).
            documents = inspect(self.container_ids("locust-master", "locust-worker"))
            self._locust_pids = [pid for document in documents if (pid := (document.get("State") or {}).get("Pid"))]
            self.check_locust_pinned(documents)
        locust = [usage for pid in self._locust_pids if (usage := read_usage_of(pid)) is not None]
        peaks = [usage.memory_peak_bytes for usage in usages if usage.memory_peak_bytes is not None]
        return ResourceSample(
            t=time.time(),
            api_cpu_seconds=sum(u.cpu_seconds or 0.0 for u in usages) if usages else None,
            api_cpu_periods=sum(u.cpu_periods or 0 for u in usages) if usages else None,
            api_cpu_throttled_periods=sum(u.cpu_throttled_periods or 0 for u in usages) if usages else None,
            api_memory_peak_bytes=max(peaks) if peaks else None,
            locust_cpu_seconds=sum(u.cpu_seconds or 0.0 for u in locust) if locust else None,
        )

    def supervise(self) -> list[str]:
        """Report API containers that restarted, died or were OOM-killed (every few seconds)."""
        if time.monotonic() < self._next_check:
            return []
        self._next_check = time.monotonic() + 5.0
        before = {
            c.id: (int(c.document.get("RestartCount") or 0), (c.document.get("State") or {}).get("Status"))
            for c in self.containers
        }
        self.refresh()
        events = []
        for container in self.containers:
            state = container.document.get("State") or {}
            restarts = int(container.document.get("RestartCount") or 0)
            old_restarts, old_status = before.get(container.id, (0, "running"))
            if restarts > old_restarts:
                events.append(f"API container {container.name} restarted ({restarts} so far)")
            if state.get("Status") != old_status and state.get("Status") in ("exited", "dead"):
                oom = " (OOM-killed)" if state.get("OOMKilled") else ""
                events.append(f"API container {container.name} exited with code {state.get('ExitCode')}{oom}")
        return events

    def replica_records(self) -> list[ReplicaRecord]:
        """Per API container: limits from docker inspect, restarts, OOM, usage."""
        return [container.record() for container in self.containers]

    def __exit__(self, *_exc: object) -> None:
        with interrupts.shielded():
            try:
                if self.load is not None:
                    self.load.stop()
                self.refresh()
            except BackendError as error:
                self.problems.append(str(error))
            try:
                self.compose("down", "-v", "--remove-orphans", "--timeout", "10")
            except BackendError as error:
                self.problems.append(f"could not take project {self.project} down: {error}")


def daemon_info() -> dict[str, Any]:
    """`docker info` as JSON: the server's version, its CPUs, whether it can apply a cpuset."""
    result = run_command(["docker", "info", "--format", "{{json .}}"], timeout=30)
    if result.returncode != 0:
        raise BackendError(f"the Docker daemon does not answer (`docker info`): {result.stderr.strip()}")
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise BackendError(f"`docker info --format '{{{{json .}}}}'` printed no JSON object: {result.stdout[:200]!r}")
    return info


class ComposeBackend:
    """API replicas as containers of docker-compose.ci.yaml, limited by Docker."""

    name = "compose"

    def __init__(
        self,
        compose_file: Path,
        api_image: str | None,
        loadtest_image: str | None,
        ready_timeout: float,
        locust_workers: int | None,
        cwd: Path,
        compose: ComposeVersion = "auto",
        health_path: str = "/health",
        locustfile: Path | None = None,
    ) -> None:
        if not Path(compose_file).is_file():
            raise BackendError(f"{compose_file}: no such compose file")
        self.compose_file, self.ready_timeout, self.locust_workers, self.cwd = (
            Path(compose_file),
            ready_timeout,
            locust_workers,
            cwd,
        )
        self.health_path = health_path
        """What the API containers' healthcheck asks (the compose file's API_HEALTH_PATH)."""
        self.locustfile = locustfile
        """A locustfile of your own, mounted into Locust's containers (None: the image's)."""
        self.image = api_image or DEFAULT_API_IMAGE
        self.loadtest_image = loadtest_image or DEFAULT_LOADTEST_IMAGE
        self.compose_command = detect_compose(compose)
        info = daemon_info()
        self.server_version = str(info.get("ServerVersion") or "?")
        # A container cannot be given more open files than the daemon's own hard limit: ask once (and which
        # CPUs a container may run on, for a pinned cell).
        probe = probe_container(self.image)
        self.daemon_open_files = probe.open_files
        self.open_files_limit = min(OPEN_FILES_WANTED, self.daemon_open_files or OPEN_FILES_WANTED)
        self.cpus: DockerCpus = docker_cpus(info, probe.cpus)
        """The CPUs its containers may be pinned to, and why they cannot be."""
        self.limits_enforced = True
        self.limits_not_enforced_reason: str | None = None
        self.tag: str | None = None
        """A `pinned` view's part of its cells' project names (a duet's side: two views run the same cell at once)."""
        self.placement: Placement | None = None
        """Where every cell's containers run (a `pinned` view); None: wherever Docker puts them."""
        self.before_load: Callable[[], None] | None = None
        """Called in each cell with its replicas healthy, just before its Locust starts (a duet's start together)."""

    def describe(self) -> str:
        """Which Compose, which file, which images, how many open files."""
        open_files = f"open files per container: {self.open_files_limit}"
        if self.open_files_limit < OPEN_FILES_WANTED:
            open_files += f" (the Docker daemon's hard limit; {OPEN_FILES_WANTED} wanted)"
        return (
            f"compose backend: {' '.join(self.compose_command)} on Docker {self.server_version}, {self.compose_file}, "
            f"API image {self.image}, Locust image {self.loadtest_image}; "
            f"limits set by Docker and read back with docker inspect; {open_files}"
        )

    def pinned(self, placement: Placement | None, tag: str | None = None) -> ComposeBackend:
        """This backend with every cell's API containers on `placement.replicas` and its Locust containers on
        `placement.locust` (None: unpinned), its cells' projects named with `tag` (a duet's side: two views run
        the same cell at once). A view: close this backend, not the view."""
        if placement is not None and self.cpus.unavailable is not None:
            raise BackendError(f"cannot pin a cell's containers: {self.cpus.unavailable}")
        view = copy.copy(self)
        view.placement, view.tag = placement, tag
        return view

    def deployment(self, cell: Cell, cell_dir: Path) -> ComposeDeployment:
        """The cell's Compose project, not started yet."""
        return ComposeDeployment(self, cell, cell_dir)

    def close(self) -> list[str]:
        """Nothing run-wide: every cell takes its own project down."""
        return []
