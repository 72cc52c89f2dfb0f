"""Cell folders as the runner leaves them, for the report's and the records' tests.

`run_record` builds a `run.json` record (the figures of a 0.5-CPU replica that was throttled half
the time); `write_cell` lays out a whole folder: Locust's CSVs, the gate's verdict and run.json.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest.gate.run_folder import judge_folder
from loadtest.records import (
    CellStatus,
    LocustInfo,
    MatrixInfo,
    ReplicaLimits,
    ReplicaRecord,
    ReplicaUsage,
    ResourceSample,
    RunRecord,
    write_record,
)
from loadtest.runner.matrix import Cell
from loadtest.scenario import Pace, workshop_scenario
from loadtest.thresholds import Slo
from tests.loadtest.locust_csv import healthy_run

STARTED = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
R1, R2 = Cell(1, 0.5, "512m"), Cell(2, 0.5, "512m")
HISTORY_START = 1_795_841_427
"""The first timestamp of `tests.loadtest.locust_csv.SyntheticRun`'s history."""
ONE_A_SECOND = workshop_scenario().with_paces({"ordinary": Pace(rate=1.0), "heavy": Pace(rate=1.0)})
"""Every user asks one request a second: N users should send N req/s."""
ONE_LOCUST = LocustInfo(command=["locust"], processes=1, exit_code=0, open_files_limit=65536, log="locust.log")


def samples(
    seconds: int, api_cpus: float, api_share: float, throttled: float, locust_share: float, start: float
) -> list[ResourceSample]:
    """A sample a second for `seconds` from `start`: the API using `api_share` of its CPU limit and
    throttled in `throttled` of its CFS periods (10 a second), one Locust process using `locust_share`."""
    return [
        ResourceSample(
            t=start + second,
            api_cpu_seconds=second * api_cpus * api_share,
            api_cpu_periods=10 * second,
            api_cpu_throttled_periods=round(10 * second * throttled),
            api_memory_peak_bytes=80 * 2**20,
            locust_cpu_seconds=second * locust_share,
        )
        for second in range(seconds + 1)
    ]


def replica_usage(**figures: Any) -> ReplicaUsage:
    """10 CPU seconds, half the CFS periods throttled, a 64 MiB peak, no OOM kill; `figures` override."""
    values: dict[str, Any] = {
        "cpu_seconds": 10.0,
        "cpu_periods": 300,
        "cpu_throttled_periods": 150,
        "cpu_throttled_seconds": 3.0,
        "memory_peak_bytes": 64 * 1024**2,
        "oom_kills": 0,
    }
    return ReplicaUsage(**{**values, **figures})


def run_record(
    cell: Cell,
    status: CellStatus = "completed",
    planned: list[str] | None = None,
    run_id: str = "run-a",
    **fields: Any,
) -> RunRecord:
    """The run.json of `cell` (one replica record per replica); `fields` override any other field."""
    limits = ReplicaLimits(
        source="cgroup v1",
        cpus=cell.cpus,
        cpu_quota_us=50_000,
        cpu_period_us=100_000,
        memory_bytes=cell.memory_bytes,
        swap_bytes=0,
    )
    values: dict[str, Any] = {
        "cell": cell.name,
        "status": status,
        "error": None if status == "completed" else "interrupted by SIGINT",
        "backend": "process",
        "profile": "local",
        "replicas": cell.replicas,
        "cpus": cell.cpus,
        "memory": cell.memory,
        "memory_bytes": cell.memory_bytes,
        "limits_enforced": True,
        "users": 200,
        "spawn_rate": 50,
        "run_time": "15s",
        "run_time_seconds": 15,
        "thresholds": "thresholds.yaml",
        "git_commit": "0123456789abcdef",
        "git_dirty": False,
        "image": None,
        "started_at": STARTED,
        "ended_at": STARTED,
        "duration_seconds": 20.0,
        "replica_records": [
            ReplicaRecord(index=i, name=f"replica-{i}", limits=limits, usage=replica_usage())
            for i in range(cell.replicas)
        ],
        "matrix": MatrixInfo(run_id=run_id, position=1, planned=planned or [cell.name]),
    }
    return RunRecord(**{**values, **fields})


def write_cell(root: Path, cell: Cell, slo: Slo, p95: int = 100, csvs: bool = True, **record: Any) -> Path:
    """`root/<cell>/` with Locust's CSVs (5,000 requests at the given P95), its verdict when it
    completed, and run.json (`record` goes to `run_record`)."""
    folder = root / cell.name
    folder.mkdir(parents=True)
    built = run_record(cell, **record)
    if csvs:
        healthy_run(requests=5_000, p95=p95).write(folder)
        if built.status == "completed":
            judge_folder(folder, slo)
    write_record(folder / "run.json", built)
    return folder
