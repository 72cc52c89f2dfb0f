"""What every backend provides: a run-wide `Backend`, a `Deployment` per cell, a `LoadRun` per Locust."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Self

from loadtest.locust_contract import LoadSettings, WebSettings
from loadtest.records import LiveReplica, ReplicaRecord, ResourceSample
from loadtest.runner.matrix import Cell


class BackendError(Exception):
    """The deployment could not be made or broke; the message names what failed."""


class NotReadyError(BackendError):
    """The replicas started and none exited, but they were not ready in time."""


class ReplicaDiedError(BackendError):
    """A replica exited before it was ready, or died more often than it may be restarted."""


class LoadRun(Protocol):
    """A running Locust: a local process (`local_locust.LocustProcess`) or Compose services."""

    @property
    def command(self) -> list[str]:
        """How it was started."""
        ...

    @property
    def workers(self) -> int:
        """Locust worker processes (1: a single standalone process)."""
        ...

    @property
    def log_path(self) -> Path:
        """Its captured output."""
        ...

    @property
    def deadline(self) -> float:
        """When it is overdue (monotonic clock)."""
        ...

    @property
    def open_files_limit(self) -> int:
        """The RLIMIT_NOFILE it runs with."""
        ...

    def poll(self) -> int | None:
        """Its exit code once it ended, else None."""
        ...

    def stop(self) -> int:
        """Stop it now (it writes its CSVs and report first); its exit code."""
        ...

    def cpu_warnings(self) -> list[str]:
        """Locust's own CPU-saturation warnings so far."""
        ...

    def log_tail(self, lines: int = 15) -> str:
        """The end of its output, for error messages."""
        ...


class Deployment(Protocol):
    """The replicas of one cell: entering starts them and waits until ready (BackendError if they
    are not); leaving stops Locust and every replica and removes their cgroups, whatever happened."""

    problems: list[str]
    """What went wrong while cleaning up."""

    @property
    def api_command(self) -> list[str] | None:
        """The replicas' command line (None: the image's entrypoint)."""
        ...

    @property
    def limits_enforced(self) -> bool:
        """Whether this cell's limits were applied (read back once its replicas were up)."""
        ...

    @property
    def limits_not_enforced_reason(self) -> str | None:
        """Why they were not."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...

    def start_load(self, settings: LoadSettings) -> LoadRun:
        """Start Locust against the replicas."""
        ...

    def start_web_ui(self, settings: WebSettings) -> LoadRun:
        """Start Locust with its web UI against the replicas (`python -m loadtest ui`)."""
        ...

    def supervise(self) -> list[str]:
        """Restart replicas that died; return what happened, for the terminal."""
        ...

    def live_replicas(self) -> list[LiveReplica]:
        """Where another process can read each running replica's limits and usage (ui.json)."""
        ...

    def sample(self) -> ResourceSample:
        """The replicas' and Locust's CPU and memory now (cumulative counters), for run.json."""
        ...

    def replica_records(self) -> list[ReplicaRecord]:
        """Per replica: limits read back, usage, restarts (final once the deployment is down)."""
        ...


class Backend(Protocol):
    """Run-wide: how replicas are started and limited."""

    @property
    def name(self) -> str:
        """`process` or `compose`."""
        ...

    @property
    def image(self) -> str | None:
        """The API image (None: this checkout runs as processes)."""
        ...

    @property
    def limits_enforced(self) -> bool:
        """Whether replicas can run under their limits at all on this machine."""
        ...

    @property
    def limits_not_enforced_reason(self) -> str | None:
        """Why not."""
        ...

    def describe(self) -> str:
        """One line for the terminal: where the replicas run and how they are limited."""
        ...

    def deployment(self, cell: Cell, cell_dir: Path) -> Deployment:
        """The cell's replicas, not started yet (use it as a context manager)."""
        ...

    def close(self) -> list[str]:
        """Release run-wide resources; return problems (empty when all went)."""
        ...
