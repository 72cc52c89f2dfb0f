"""Run records as the runner writes them, built for tests: a cell's run.json with its samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loadtest.records import LocustInfo, MatrixInfo, ResourceSample, RunRecord
from loadtest.scenario import Scenario, UserLoad, Wait

STARTED = datetime(2026, 11, 28, 4, 50, tzinfo=UTC)
HISTORY_START = 1_795_841_427
"""The first timestamp of `tests.loadtest.locust_csv.SyntheticRun`'s history."""

ONE_A_SECOND = Scenario(
    ordinary=UserLoad(share=0.5, wait=Wait(constant_throughput=1.0)),
    heavy=UserLoad(share=0.5, wait=Wait(constant_throughput=1.0)),
)
"""Every user asks one request a second: N users should send N req/s."""


def samples(
    seconds: int,
    api_cpus: float,
    api_share: float,
    throttled: float,
    locust_share: float,
    workers: int = 1,
    start: float = HISTORY_START,
) -> list[ResourceSample]:
    """A sample a second for `seconds`: the API using `api_share` of its CPU limit and throttled in
    `throttled` of its CFS periods (10 a second), Locust using `locust_share` of its cores."""
    return [
        ResourceSample(
            t=start + second,
            api_cpu_seconds=second * api_cpus * api_share,
            api_cpu_periods=10 * second,
            api_cpu_throttled_periods=round(10 * second * throttled),
            api_memory_peak_bytes=80 * 2**20,
            locust_cpu_seconds=second * workers * locust_share,
        )
        for second in range(seconds + 1)
    ]


def run_record(**overrides: Any) -> RunRecord:
    """A completed 1 x 1.0 CPU cell of the process backend, limits enforced; `overrides` replace fields."""
    fields: dict[str, Any] = {
        "cell": "r1-cpu1.0-mem512m",
        "status": "completed",
        "backend": "process",
        "profile": "local",
        "replicas": 1,
        "cpus": 1.0,
        "memory": "512m",
        "memory_bytes": 512 * 2**20,
        "limits_enforced": True,
        "users": 1000,
        "spawn_rate": 100,
        "run_time": "30s",
        "run_time_seconds": 30,
        "thresholds": "thresholds.yaml",
        "git_commit": "0123456789abcdef",
        "git_dirty": False,
        "image": None,
        "started_at": STARTED,
        "ended_at": STARTED,
        "duration_seconds": 35.0,
        "locust": LocustInfo(command=["locust"], processes=1, exit_code=0, open_files_limit=65536, log="locust.log"),
        "matrix": MatrixInfo(run_id="test", position=1, planned=["r1-cpu1.0-mem512m"]),
        "scenario": ONE_A_SECOND,
        "warmup": "spawn",
    }
    fields.update(overrides)
    return RunRecord(**fields)
