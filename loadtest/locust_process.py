"""Locust, headless, as a subprocess of the runner (never imported: gevent patches the world).

One cell's load: `locust -f loadtest/locustfile.py --headless` with the users, spawn rate and
run time of the cell, Locust's CSVs (prefix `locust`, full history) and HTML report into the cell
folder, and as many worker processes (`--processes`) as the cores left over by the API allow.
Its output goes to `locust.log`, where its own CPU-saturation warnings are found afterwards.
"""

from __future__ import annotations

import math
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from loadtest import launch, processes
from loadtest.files import read_tail
from loadtest.ports import free_port

CSV_PREFIX = "locust"
HTML_REPORT = "locust_report.html"
LOG_FILE = "locust.log"
STOP_GRACE_SECONDS = 15.0
"""On an early stop Locust gets this long after SIGTERM to write its CSVs and report."""
FINISH_GRACE_SECONDS = 60.0
"""Past its run time Locust gets this long to stop its users and write its files."""

_CPU_WARNING = re.compile(r"cpu (usage|threshold)", re.IGNORECASE)


@dataclass(frozen=True)
class LoadSettings:
    """How hard one cell pushes."""

    users: int
    spawn_rate: float
    run_time_seconds: int


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_processes(cores: int, api_cpus: float) -> int:
    """Locust workers for a cell: the cores the API's CPU limits leave free, at least one."""
    return max(1, cores - math.ceil(api_cpus - 1e-9))


def extract_cpu_warnings(log_text: str) -> list[str]:
    """Locust's own warnings that its CPU was saturated (its numbers are then suspect), in order."""
    found: dict[str, None] = {}
    for line in log_text.splitlines():
        if _CPU_WARNING.search(line):
            found[line.strip()] = None
    return list(found)


def cpu_warnings_in(log_path: Path) -> list[str]:
    """Locust's CPU-saturation warnings in a captured log (none if there is no log)."""
    try:
        return extract_cpu_warnings(log_path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return []


def open_files_limit() -> int:
    """The hard RLIMIT_NOFILE: the soft limit Locust gets through `loadtest.launch --raise-nofile`."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def locust_command(
    locustfile: Path,
    host: str,
    cell_dir: Path,
    settings: LoadSettings,
    workers: int,
    master_port: int | None = None,
) -> list[str]:
    """The Locust command line for one cell (standalone when `workers` is 1)."""
    command = [
        sys.executable, "-m", "locust",
        "-f", str(locustfile),
        "--headless",
        "--host", host,
        "--users", str(settings.users),
        "--spawn-rate", f"{settings.spawn_rate:g}",
        "--run-time", f"{settings.run_time_seconds}s",
        "--csv", str(cell_dir / CSV_PREFIX),
        "--csv-full-history",
        "--html", str(cell_dir / HTML_REPORT),
        "--only-summary",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    if workers > 1:
        port = master_port if master_port is not None else free_port()
        command += ["--processes", str(workers), "--master-bind-port", str(port), "--master-port", str(port)]
    return command


@dataclass
class LocustRun:
    """A running Locust; `finish()` or `stop()` ends it, group and all."""

    process: subprocess.Popen[bytes]
    command: list[str]
    workers: int
    log_path: Path
    run_time_seconds: int
    started: float = field(default_factory=time.monotonic)
    open_files_limit: int = field(default_factory=open_files_limit)
    """The soft RLIMIT_NOFILE Locust runs with (raised to the hard limit by the launcher)."""
    _log: IO[bytes] | None = None

    @property
    def deadline(self) -> float:
        """When Locust is overdue (monotonic)."""
        return self.started + self.run_time_seconds + FINISH_GRACE_SECONDS

    def poll(self) -> int | None:
        """Its exit code once it ended, else None."""
        return self.process.poll()

    def stop(self) -> int:
        """Stop it now; Locust writes its CSVs and report on SIGTERM. Returns its exit code."""
        code = processes.stop(self.process, grace=STOP_GRACE_SECONDS)
        self._close_log()
        return code

    def cpu_warnings(self) -> list[str]:
        """Locust's CPU-saturation warnings so far."""
        return cpu_warnings_in(self.log_path)

    def log_tail(self, lines: int = 15) -> str:
        """The end of its output, for error messages."""
        return read_tail(self.log_path, lines)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def start_locust(
    locustfile: Path, host: str, cell_dir: Path, settings: LoadSettings, workers: int, cwd: Path
) -> LocustRun:
    """Start Locust for one cell (through `loadtest.launch`, open-files limit raised)."""
    command = locust_command(locustfile, host, cell_dir, settings, workers)
    log_path = cell_dir / LOG_FILE
    log = log_path.open("ab")
    try:
        process = processes.start(launch.build_command(command, raise_nofile=True), log, cwd=cwd)
    except OSError:
        log.close()
        raise
    return LocustRun(process, command, workers, log_path, settings.run_time_seconds, _log=log)
