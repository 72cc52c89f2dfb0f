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
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from loadtest import exitcodes
from loadtest.runner.linux.cgroup_stats import cgroup_dir, parse_mountinfo, parse_proc_cgroup
from loadtest.runner.linux.cgroups import CgroupUnavailable, open_cgroups

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


def cgroups_available() -> str | None:
    try:
        open_cgroups().close()
    except CgroupUnavailable as error:
        return str(error)
    return None


needs_cgroups = pytest.mark.skipif(
    cgroups_available() is not None, reason=f"no cgroup limits here: {cgroups_available()}"
)


def start_run(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadtest", "run", "--backend", "process", "--out", str(out), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def children(pid: int) -> list[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current:
                found.append(child)
                frontier.append(child)
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def read_limits_of(pid: int) -> tuple[int | None, int | None, int | None]:
    """(cpu quota us, cpu period us, memory limit bytes) of a process's own cgroups, read from the kernel's files."""
    paths = parse_proc_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
    mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    v1 = {role: cgroup_dir(m, paths[role]) for m in mounts for role in m.controllers if role in paths}
    if "cpu" in v1 and "memory" in v1:
        quota = int((v1["cpu"] / "cpu.cfs_quota_us").read_text())
        period = int((v1["cpu"] / "cpu.cfs_period_us").read_text())
        return quota, period, int((v1["memory"] / "memory.limit_in_bytes").read_text())
    unified = cgroup_dir(next(m for m in mounts if m.version == 2), paths[""])
    quota_text, period_text = (unified / "cpu.max").read_text().split()
    return int(quota_text), int(period_text), int((unified / "memory.max").read_text())


def leftover_cgroups(runner_pid: int) -> list[Path]:
    """Any cgroup folder of that runner still on the machine."""
    parents = {m.point for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text())}
    found = []
    for parent in parents:
        found += list(parent.glob(f"loadtest-{runner_pid}*")) + list(parent.glob(f"**/loadtest-{runner_pid}*"))
    return found


@dataclass
class Watch:
    """What the test saw while the runner ran."""

    api_pids: set[int] = field(default_factory=set)
    all_pids: set[int] = field(default_factory=set)
    api_counts: set[int] = field(default_factory=set)
    limits: dict[int, tuple[int | None, int | None, int | None]] = field(default_factory=dict)


def watch(run: subprocess.Popen[str], seen: Watch, timeout: float, until: Path | None = None) -> None:
    """Poll the runner's replicas and their cgroups until it exits (or `until` exists)."""
    deadline = time.monotonic() + timeout
    while run.poll() is None and time.monotonic() < deadline:
        if until is not None and until.exists():
            return
        descendants = children(run.pid)
        seen.all_pids.update(descendants)
        apis = [pid for pid in descendants if cmdline(pid)[1:3] == ["-m", "api"]]
        seen.api_counts.add(len(apis))
        for pid in apis:
            seen.api_pids.add(pid)
            try:
                seen.limits[pid] = read_limits_of(pid)
            except (OSError, KeyError, StopIteration, ValueError):
                continue
        time.sleep(0.25)


def finish(run: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    try:
        out, err = run.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        pytest.fail(f"the runner did not finish in time:\n{err[-3000:]}")
    return run.returncode, out, err


def assert_nothing_left(runner_pid: int, seen: Watch) -> None:
    time.sleep(0.2)
    assert [pid for pid in seen.all_pids if alive(pid) and pid != runner_pid] == []
    assert children(runner_pid) == []
    assert leftover_cgroups(runner_pid) == []


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
    # 200 of the local profile's users ask a fixed 120 req/s: a tenth of what half a CPU serves.
    assert code == exitcodes.PASSED, stderr[-3000:]
    assert "one Locust process delivers ~" in stderr

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
        assert record["generator"]["per_worker_rps"] > 500
        assert record["window"]["kind"] == "after spawn"
        assert len(record["samples"]) >= 10
        verdict = json.loads((folder / "verdict.json").read_text())
        assert verdict["requests"] > 500
        assert (verdict["outcome"], cell["result"]) == ("pass", "PASS")
        assert 0.9 <= verdict["delivery"]["ratio"] <= 1.1
        assert (folder / "timeline.png").stat().st_size > 10_000
    assert "Results:" in stdout
    assert str(out) in stdout
    assert "cell 1/2" in stderr or "[1/2]" in stderr
    assert_nothing_left(run.pid, seen)


def test_unenforced_limits_are_inconclusive_and_loud(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = start_run(
        out, "--replicas", "1", "--users", "50", "--spawn-rate", "50", "--run-time", "5s", "--no-limits", "--no-calibration"
    )
    seen = Watch()
    watch(run, seen, timeout=60)
    code, stdout, stderr = finish(run, timeout=30)
    assert code == exitcodes.INCONCLUSIVE, stderr[-3000:]
    matrix = json.loads((out / "matrix.json").read_text())
    assert matrix["result"] == "inconclusive"
    assert matrix["limits_enforced"] is False
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
    run = start_run(out, "--replicas", "2,1", "--users", "50", "--spawn-rate", "50", "--run-time", "60s", "--no-calibration")
    seen = Watch()
    history = out / "r2-cpu0.5-mem512m" / "locust_stats_history.csv"
    watch(run, seen, timeout=60, until=history)
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
