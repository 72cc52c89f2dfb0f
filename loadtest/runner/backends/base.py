"""What every backend provides: a run-wide `Backend`, a `Deployment` per cell, a `LoadRun` per Locust."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from loadtest.locust_contract import LoadSettings
from loadtest.records import ReplicaRecord
from loadtest.runner.matrix import Cell


class BackendError(Exception):
    """The deployment could not be made or broke; the message names what failed."""


class LoadRun(Protocol):
    """A running Locust: a local process (`local_locust.LocustProcess`) or Compose services."""

    command: list[str]
    workers: int
    log_path: Path
    deadline: float
    open_files_limit: int

    def poll(self) -> int | None: ...
    def stop(self) -> int: ...
    def cpu_warnings(self) -> list[str]: ...
    def log_tail(self, lines: int = 15) -> str: ...


class Deployment(Protocol):
    """The replicas of one cell: entering starts them and waits until ready (BackendError if they
    are not); leaving stops Locust and every replica and removes their cgroups, whatever happened."""

    api_command: list[str] | None
    limits_enforced: bool
    limits_not_enforced_reason: str | None
    """This cell's limits, as read back once its replicas were up."""
    problems: list[str]
    """What went wrong while cleaning up."""

    def __enter__(self) -> Deployment: ...
    def __exit__(self, *exc: object) -> None: ...

    def start_load(self, settings: LoadSettings) -> LoadRun:
        """Start Locust against the replicas."""
        ...

    def supervise(self) -> list[str]:
        """Restart replicas that died; return what happened, for the terminal."""
        ...

    def replica_records(self) -> list[ReplicaRecord]:
        """Per replica: limits read back, usage, restarts (final once the deployment is down)."""
        ...


class Backend(Protocol):
    """Run-wide: how replicas are started and limited."""

    name: str
    image: str | None
    limits_enforced: bool
    limits_not_enforced_reason: str | None

    def describe(self) -> str:
        """One line for the terminal: where the replicas run and how they are limited."""
        ...

    def deployment(self, cell: Cell, cell_dir: Path) -> Deployment:
        """The cell's replicas, not started yet (use it as a context manager)."""
        ...

    def close(self) -> list[str]:
        """Release run-wide resources; return problems (empty when all went)."""
        ...
