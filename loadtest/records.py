"""What a cell leaves behind in `run.json`: the run's parameters, and per replica its limits and usage.

The runner writes these models; `python -m loadtest report` reads them back (validated, so a
damaged or foreign file gets a clear error instead of a wrong table).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1

CellStatus = Literal["completed", "interrupted", "failed"]
"""completed: the load ran its full time; interrupted: cut short by a signal; failed: the run broke."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplicaLimits(_Record):
    """The limits one replica actually runs under, read back from the kernel or from Docker."""

    source: str
    """Where they were read: "cgroup v1", "cgroup v2" or "docker inspect"."""
    cpus: float | None
    """CPU quota / period (Docker's --cpus); None: no CPU limit."""
    cpu_quota_us: int | None
    cpu_period_us: int | None
    memory_bytes: int | None
    """None: no memory limit."""
    swap_bytes: int | None
    """Swap allowed on top of memory_bytes: 0 = none; None = not limited or not accounted."""
    paths: list[str] = []
    """The cgroup folders (process backend) or the container id (compose)."""


class ReplicaUsage(_Record):
    """What one replica used over the cell (cumulative over its restarts). None: not available."""

    cpu_seconds: float | None
    cpu_periods: int | None
    cpu_throttled_periods: int | None
    cpu_throttled_seconds: float | None
    memory_peak_bytes: int | None
    oom_kills: int | None


class ReplicaRecord(_Record):
    """One API replica: a `python -m api` process slot (process backend) or a container (compose)."""

    index: int
    name: str
    pids: list[int] = []
    """Every process that served as this replica, in order (restarts add one each)."""
    restarts: int = 0
    exit_codes: list[int] = []
    """How its processes ended while the cell ran (negative: killed by that signal)."""
    oom_killed: bool | None = None
    limits: ReplicaLimits | None = None
    usage: ReplicaUsage | None = None


class LocustInfo(_Record):
    """How Locust was run for the cell."""

    command: list[str]
    processes: int
    """Locust worker processes (1: a single standalone process)."""
    exit_code: int | None
    open_files_limit: int | None
    """RLIMIT_NOFILE soft limit Locust ran with."""
    log: str
    """The captured Locust output, relative to the cell folder."""


class MatrixInfo(_Record):
    """Where the cell sits in the run it belongs to."""

    run_id: str
    position: int
    """1-based."""
    planned: list[str]
    """Every cell the run planned, in order."""


class RunRecord(_Record):
    """`DIR/<cell>/run.json`."""

    schema_version: int = SCHEMA_VERSION
    cell: str
    status: CellStatus
    error: str | None = None
    backend: Literal["process", "compose"]
    profile: str | None
    replicas: int
    cpus: float
    memory: str
    memory_bytes: int
    limits_enforced: bool
    limits_not_enforced_reason: str | None = None
    users: int
    spawn_rate: float
    run_time: str
    run_time_seconds: int
    thresholds: str
    git_commit: str | None
    git_dirty: bool | None
    image: str | None
    """The API image (compose); None for the process backend, which runs this checkout."""
    api_command: list[str] | None = None
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    locust: LocustInfo | None = None
    locust_cpu_warnings: list[str] = []
    """Locust's own "CPU usage above 90%" warnings: the load generator itself was saturated."""
    replica_records: list[ReplicaRecord] = []
    matrix: MatrixInfo
