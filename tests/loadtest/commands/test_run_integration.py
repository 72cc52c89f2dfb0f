"""`python -m loadtest run` for real on the process backend: the real API, real Locust, real cgroups.

While the runner works, the test itself looks at the replicas' /proc/<pid>/cgroup and the kernel's
quota files; afterwards it checks the artifacts, that no process is left and no cgroup remains.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.gate.reading import HistoryFollower
from tests.loadtest.integration import start
from tests.loadtest.processes import Watch, assert_nothing_left, needs_cgroups, watch

if TYPE_CHECKING:
    from tests.conftest import WriteText

CELL_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
    "locust_report.html",
    "verdict.json",
    "summary.md",
    "run.json",
    "locust.log",
)
LIMIT_MEMORY = 512 * 1024**2

pytestmark = pytest.mark.integration


def start_run(out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python -m loadtest run` on the process backend, from the checkout, `env` added to this environment
    (without the caller's LOADTEST_* options: tests/loadtest/integration.py)."""
    return start("run", "--backend", "process", "--out", out, *args, env=env)


def finish(run: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    try:
        out, err = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        pytest.fail(f"the runner did not finish in time:\n{err[-3000:]}")
    return run.returncode, out, err


# 40 users ask ~77 req/s; one replica in half a CPU serves over 1,000 (docs/thresholds.md) with a P95
# of a few ms, so every cell passes a P95 limit of 1 s: the outcome is certain, not a coin toss.
LIGHT_LOAD = """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  local: {users: 40, spawn_rate: 40, run_time: 15s, replicas: [1, 2], cpus: 0.5, memory: 512m, warmup: spawn}
"""
# No replica of this API on this machine serves a million requests per second: a certain breach.
IMPOSSIBLE_THROUGHPUT = """
slo: {max_error_rate: 0.01, max_p95_ms: 1000, min_rps: 1000000}
profiles:
  local: {users: 50, spawn_rate: 50, run_time: 5s, replicas: [1], cpus: 0.5, memory: 512m}
"""


@needs_cgroups
def test_a_light_two_cell_matrix_under_limits_passes(tmp_path: Path, write_thresholds: WriteText) -> None:
    out = tmp_path / "results"
    run = start_run(out, "--thresholds", str(write_thresholds(LIGHT_LOAD)))
    seen = Watch()
    watch(run, seen, timeout=110)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.PASSED, stdout[-3000:] + stderr[-3000:]
    assert "one Locust process delivers ~" in stderr

    # Limits, read back from the kernel while the replicas served: 0.5 CPU, 512 MiB each.
    assert {1, 2} <= seen.api_counts, f"replica counts seen: {seen.api_counts}"
    assert len(seen.api_pids) == 3
    assert set(seen.limits) == seen.api_pids
    assert set(seen.limits.values()) == {(50_000, 100_000, LIMIT_MEMORY)}

    # Artifacts.
    matrix = json.loads((out / "matrix.json").read_text())
    assert [cell["cell"] for cell in matrix["cells"]] == ["r1-cpu0.5-mem512m", "r2-cpu0.5-mem512m"]
    assert [cell["result"] for cell in matrix["cells"]] == ["PASS", "PASS"]
    assert (matrix["result"], matrix["exit_code"], matrix["complete"]) == ("passed", 0, True)
    assert matrix["limits_enforced"] is True
    assert (out / "matrix.png").stat().st_size > 0
    summary = (out / "summary.md").read_text()
    assert "| r1-cpu0.5-mem512m |" in summary
    assert "| r2-cpu0.5-mem512m |" in summary
    for cell in matrix["cells"]:
        folder = out / cell["folder"]
        assert [name for name in CELL_FILES if not (folder / name).is_file()] == []
        record = json.loads((folder / "run.json").read_text())
        assert (record["status"], record["backend"], record["limits_enforced"]) == ("completed", "process", True)
        assert record["git_commit"]
        assert (record["users"], record["spawn_rate"], record["run_time_seconds"]) == (40, 40, 15)
        assert record["locust"]["open_files_limit"] >= 1024
        assert record["locust_cpu_warnings"] == []  # this load leaves Locust plenty of CPU
        replicas = record["replica_records"]
        assert len(replicas) == record["replicas"]
        assert {pid for replica in replicas for pid in replica["pids"]} <= seen.api_pids
        for replica in replicas:
            assert (replica["limits"]["cpus"], replica["limits"]["memory_bytes"]) == (0.5, LIMIT_MEMORY)
            assert replica["usage"]["cpu_seconds"] > 0
            assert replica["usage"]["memory_peak_bytes"] > 10 * 1024**2
            assert (replica["usage"]["oom_kills"], replica["restarts"]) == (0, 0)
        assert record["generator_capacity_rps"]["per_worker_rps"] > 500
        assert record["window"]["kind"] == "after spawn"
        assert len(record["samples"]) >= 10
        verdict = json.loads((folder / "verdict.json").read_text())
        assert verdict["passed"] is True
        assert verdict["requests"] > 500
        assert (verdict["outcome"], cell["result"]) == ("pass", "PASS")
        assert 0.9 <= verdict["delivery"]["ratio"] <= 1.1
        assert (folder / "timeline.png").stat().st_size > 10_000
    assert f"Results: {out}/" in stdout
    assert "[1/2] r1-cpu0.5-mem512m: starting 1 replica(s)" in stderr
    assert "[2/2] r2-cpu0.5-mem512m: starting 2 replica(s)" in stderr
    assert_nothing_left(run.pid, seen)


@pytest.mark.slow
@needs_cgroups
def test_an_impossible_slo_exits_1(tmp_path: Path, write_thresholds: WriteText) -> None:
    out = tmp_path / "results"
    run = start_run(out, "--thresholds", str(write_thresholds(IMPOSSIBLE_THROUGHPUT)), "--no-calibration")
    seen = Watch()
    watch(run, seen, timeout=60)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.BREACHED, stdout[-3000:] + stderr[-3000:]
    matrix = json.loads((out / "matrix.json").read_text())
    assert (matrix["result"], matrix["limits_enforced"]) == ("breached", True)
    assert "limit 1,000,000 req/s" in (out / "summary.md").read_text()
    assert_nothing_left(run.pid, seen)


@pytest.mark.slow
def test_unenforced_limits_are_inconclusive_and_loud(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = start_run(
        out,
        "--replicas",
        "1",
        "--users",
        "50",
        "--spawn-rate",
        "50",
        "--run-time",
        "5s",
        "--no-limits",
        "--no-calibration",
    )
    seen = Watch()
    watch(run, seen, timeout=60)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.INCONCLUSIVE, stdout[-3000:] + stderr[-3000:]
    matrix = json.loads((out / "matrix.json").read_text())
    assert (matrix["result"], matrix["limits_enforced"]) == ("inconclusive", False)
    record = json.loads((out / "r1-cpu0.5-mem512m" / "run.json").read_text())
    assert record["limits_enforced"] is False
    assert record["limits_not_enforced_reason"] == "disabled with --no-limits"
    verdict = json.loads((out / "r1-cpu0.5-mem512m" / "verdict.json").read_text())
    assert verdict["outcome"] == "inconclusive"
    assert verdict["reasons"][0].startswith("limits were not enforced (disabled with --no-limits)")
    assert "**limits_enforced: false**" in (out / "summary.md").read_text()
    assert "limits_enforced: false" in stdout
    assert "limits_enforced: false" in stderr
    assert_nothing_left(run.pid, seen)


@needs_cgroups
def test_sigint_stops_everything_keeps_results_and_says_cut_short(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = start_run(
        out, "--replicas", "2,1", "--users", "50", "--spawn-rate", "50", "--run-time", "60s", "--no-calibration"
    )
    seen = Watch()
    history = out / "r2-cpu0.5-mem512m" / "locust_stats_history.csv"

    def locust_counts_requests() -> bool:
        return any(row.aggregated and row.requests > 0 for row in HistoryFollower(history).new_rows())

    watch(run, seen, timeout=60, until=locust_counts_requests)
    assert locust_counts_requests(), "Locust never got going"
    run.send_signal(signal.SIGINT)
    code, _stdout, _stderr = finish(run, timeout=45)
    assert code == exitcodes.CANNOT_JUDGE
    assert len(seen.api_pids) == 2
    record = json.loads((out / "r2-cpu0.5-mem512m" / "run.json").read_text())
    assert record["status"] == "interrupted"
    assert record["error"] == "interrupted by SIGINT"
    assert (out / "r2-cpu0.5-mem512m" / "locust_stats.csv").is_file()
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["complete"] is False
    assert matrix["not_run"] == ["r1-cpu0.5-mem512m"]
    summary = (out / "summary.md").read_text()
    assert "cut short by SIGINT during cell 1 of 2" in summary
    assert "CUT SHORT" in summary
    assert not (out / "r1-cpu0.5-mem512m").exists()
    assert_nothing_left(run.pid, seen)


def test_a_replica_that_cannot_start_exits_2_and_names_it(tmp_path: Path) -> None:
    out = tmp_path / "results"
    no_model = {"MODEL_DIR": str(tmp_path / "no-model-here")}
    run = start_run(out, "--replicas", "1", "--users", "5", "--run-time", "5s", "--no-calibration", env=no_model)
    seen = Watch()
    watch(run, seen, timeout=60)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.CANNOT_JUDGE
    assert "API replica 0 exited with code 1 before it was ready" in stderr
    assert "Traceback" not in stderr
    record = json.loads((out / "r1-cpu0.5-mem512m" / "run.json").read_text())
    assert record["status"] == "failed"
    assert "no-model-here" in record["error"]
    assert record["replica_records"][0]["exit_codes"] == [1]
    assert "ERROR" in stdout
    assert_nothing_left(run.pid, seen)
