"""`python -m loadtest run` for real on the process backend: the real API, real Locust, real cgroups.

While the runner works, the test itself looks at the replicas' /proc/<pid>/cgroup and the kernel's
quota files; afterwards it checks the artifacts, that no process is left and no cgroup remains.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from loadtest import exitcodes
from tests.loadtest.processes import Watch, assert_nothing_left, finish, needs_cgroups, watch

REPO = Path(__file__).resolve().parents[3]
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


def start_run(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadtest", "run", "--backend", "process", "--out", str(out), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@needs_cgroups
def test_a_two_cell_matrix_under_limits(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = start_run(
        out,
        "--replicas",
        "1,2",
        "--cpus",
        "0.5",
        "--memory",
        "512m",
        "--users",
        "200",
        "--spawn-rate",
        "100",
        "--run-time",
        "15s",
    )
    seen = Watch()
    watch(run, seen, timeout=110)
    code, stdout, stderr = finish(run, timeout=30)
    assert code in (exitcodes.PASSED, exitcodes.BREACHED), stderr[-3000:]

    # Limits, read back from the kernel while the replicas served: 0.5 CPU, 512 MiB each.
    assert {1, 2} <= seen.api_counts, f"replica counts seen: {seen.api_counts}"
    assert len(seen.api_pids) == 3
    assert set(seen.limits) == seen.api_pids
    assert set(seen.limits.values()) == {(50_000, 100_000, LIMIT_MEMORY)}

    # Artifacts.
    matrix = json.loads((out / "matrix.json").read_text())
    assert [cell["cell"] for cell in matrix["cells"]] == ["r1-cpu0.5-mem512m", "r2-cpu0.5-mem512m"]
    assert matrix["exit_code"] == code
    assert matrix["complete"] is True
    assert matrix["limits_enforced"] is True
    assert (out / "matrix.png").stat().st_size > 0
    summary = (out / "summary.md").read_text()
    assert "| r1-cpu0.5-mem512m |" in summary
    assert "| r2-cpu0.5-mem512m |" in summary
    for cell in matrix["cells"]:
        folder = out / cell["folder"]
        for name in CELL_FILES:
            assert (folder / name).is_file(), f"{folder / name} is missing"
        record = json.loads((folder / "run.json").read_text())
        assert record["status"] == "completed"
        assert record["backend"] == "process"
        assert record["limits_enforced"] is True
        assert record["git_commit"]
        assert (record["users"], record["spawn_rate"], record["run_time_seconds"]) == (200, 100, 15)
        assert record["locust"]["open_files_limit"] >= 1024
        assert isinstance(record["locust_cpu_warnings"], list)
        replicas = record["replica_records"]
        assert len(replicas) == record["replicas"]
        assert {pid for replica in replicas for pid in replica["pids"]} <= seen.api_pids
        for replica in replicas:
            assert replica["limits"]["cpus"] == 0.5
            assert replica["limits"]["memory_bytes"] == LIMIT_MEMORY
            assert replica["usage"]["cpu_seconds"] > 0
            assert replica["usage"]["memory_peak_bytes"] > 10 * 1024**2
            assert replica["usage"]["oom_kills"] == 0
            assert replica["restarts"] == 0
        verdict = json.loads((folder / "verdict.json").read_text())
        assert verdict["requests"] > 500
        assert cell["result"] == ("PASS" if verdict["passed"] else "FAIL")
    assert "Results:" in stdout
    assert str(out) in stdout
    assert "cell 1/2" in stderr or "[1/2]" in stderr
    assert_nothing_left(run.pid, seen)


def test_an_impossible_slo_exits_1_and_unenforced_limits_are_loud(tmp_path: Path) -> None:
    thresholds = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    thresholds["slo"]["max_p95_ms"] = 1
    path = tmp_path / "thresholds.yaml"
    path.write_text(yaml.safe_dump(thresholds))
    out = tmp_path / "results"
    run = start_run(
        out,
        "--thresholds",
        str(path),
        "--replicas",
        "1",
        "--users",
        "50",
        "--spawn-rate",
        "50",
        "--run-time",
        "5s",
        "--no-limits",
    )
    seen = Watch()
    watch(run, seen, timeout=60)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.BREACHED, stderr[-3000:]
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["result"] == "breached"
    assert matrix["limits_enforced"] is False
    assert "max_p95_ms" in (out / "summary.md").read_text()
    record = json.loads((out / "r1-cpu0.5-mem512m" / "run.json").read_text())
    assert record["limits_enforced"] is False
    assert record["limits_not_enforced_reason"] == "disabled with --no-limits"
    assert "**limits_enforced: false**" in (out / "summary.md").read_text()
    assert "limits_enforced: false" in stdout
    assert "limits_enforced: false" in stderr
    assert_nothing_left(run.pid, seen)


@needs_cgroups
def test_sigint_stops_everything_keeps_results_and_says_cut_short(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = start_run(out, "--replicas", "2,1", "--users", "50", "--spawn-rate", "50", "--run-time", "60s")
    seen = Watch()
    history = out / "r2-cpu0.5-mem512m" / "locust_stats_history.csv"
    watch(run, seen, timeout=60, until=history.exists)
    assert history.exists(), "Locust never started"
    watch(run, seen, timeout=2)
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
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadtest",
            "run",
            "--replicas",
            "1",
            "--users",
            "5",
            "--run-time",
            "5s",
            "--out",
            str(out),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MODEL_DIR": str(tmp_path / "no-model-here")},
    )
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
