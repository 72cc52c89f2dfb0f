"""Locust as a subprocess of the runner (never imported: gevent patches the world).

One cell's load: `locust -f loadtest/locustfile.py` with `locust_args()` (headless) or
`locust_web_args()` (a web UI session of `python -m loadtest ui`), and as many worker processes
(`--processes`) as the cores the API leaves free. Its output goes to `locust.log`.
"""

from __future__ import annotations

import math
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from loadtest.locust_contract import (
    FINISH_GRACE_SECONDS,
    LOG_FILE,
    STOP_GRACE_SECONDS,
    LoadSettings,
    WebSettings,
    cpu_warnings_in,
    locust_args,
    locust_environment,
    locust_web_args,
)
from loadtest.runner.linux import launch, processes
from loadtest.runner.linux.sockets import free_port
from loadtest.util.files import read_tail


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
    """The Locust command line for one cell (standalone when `workers` is 1); its files go to
    `cell_dir` wherever Locust's working directory is."""
    return _command(locustfile, locust_args(settings, host, cell_dir.absolute()), workers, master_port)


def locust_web_command(
    locustfile: Path,
    host: str,
    cell_dir: Path,
    settings: WebSettings,
    workers: int,
    master_port: int | None = None,
) -> list[str]:
    """The Locust command line for a web UI session on one cell (its files in `cell_dir`, absolute)."""
    return _command(locustfile, locust_web_args(settings, host, cell_dir.absolute()), workers, master_port)


def _command(locustfile: Path, flags: list[str], workers: int, master_port: int | None) -> list[str]:
    command = [sys.executable, "-m", "locust", f"--locustfile={locustfile}", *flags]
    if workers > 1:
        port = master_port if master_port is not None else free_port()
        command += [f"--processes={workers}", f"--master-bind-port={port}", f"--master-port={port}"]
    return command


@dataclass
class LocustProcess:
    """A running Locust; `stop()` ends it, group and all."""

    process: subprocess.Popen[bytes]
    command: list[str]
    workers: int
    log_path: Path
    run_time_seconds: int | None
    """None: a web UI session, which runs until it is stopped."""
    started: float = field(default_factory=time.monotonic)
    open_files_limit: int = field(default_factory=open_files_limit)
    """The soft RLIMIT_NOFILE Locust runs with (raised to the hard limit by the launcher)."""
    _log: IO[bytes] | None = None

    @property
    def deadline(self) -> float:
        """When Locust is overdue (monotonic; never for a web UI session)."""
        if self.run_time_seconds is None:
            return math.inf
        return self.started + self.run_time_seconds + FINISH_GRACE_SECONDS

    def poll(self) -> int | None:
        """Its exit code once it ended, else None."""
        return self.process.poll()

    def stop(self) -> int:
        """Stop it now, as Ctrl-C would: Locust writes its CSVs and its HTML report. Returns its exit code."""
        # SIGINT, not SIGTERM: Locust's SIGTERM handler shuts down without the HTML report (locust/main.py
        # writes it only when its run ends or on KeyboardInterrupt), and a cell stopped once its looks
        # decided would lose it. Every process of the group gets it, as from a terminal.
        code = processes.stop(self.process, grace=STOP_GRACE_SECONDS, signum=signal.SIGINT)
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
    locustfile: Path,
    host: str,
    cell_dir: Path,
    settings: LoadSettings,
    workers: int,
    cwd: Path,
    cores: frozenset[int] | None = None,
) -> LocustProcess:
    """Start Locust for one cell (through the launcher, open-files limit raised; pinned to `cores` if given)."""
    command = locust_command(locustfile, host, cell_dir, settings, workers)
    return _spawn(command, cell_dir, workers, settings, settings.run_time_seconds, cwd, cores)


def start_locust_web(
    locustfile: Path, host: str, cell_dir: Path, settings: WebSettings, workers: int, cwd: Path
) -> LocustProcess:
    """Start Locust with its web UI for one cell; it runs until it is stopped."""
    command = locust_web_command(locustfile, host, cell_dir, settings, workers)
    return _spawn(command, cell_dir, workers, settings, None, cwd)


def _spawn(
    command: list[str],
    cell_dir: Path,
    workers: int,
    settings: LoadSettings | WebSettings,
    run_time_seconds: int | None,
    cwd: Path,
    cores: frozenset[int] | None = None,
) -> LocustProcess:
    log_path = cell_dir / LOG_FILE
    log = log_path.open("ab")
    try:
        environment = {**os.environ, **locust_environment(settings)}
        argv = launch.build_command(command, raise_nofile=True, cpus=cores)
        process = processes.start(argv, log, cwd=cwd, env=environment)
    except OSError:
        log.close()
        raise
    return LocustProcess(process, command, workers, log_path, run_time_seconds, _log=log)
