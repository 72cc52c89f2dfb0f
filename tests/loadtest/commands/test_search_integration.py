"""`python -m loadtest search` for real: the reference service under cgroup limits, real Locust.

One search on a 2 x 2 grid is shared by the tests that read it: whatever winner it reports must hold
again under `python -m loadtest run` and the configuration just cheaper must fail again; a failure
must rule out what it covers, and the starved first probe must breach beyond doubt; the memory phase
must fail the grid's too-small limit with its OOM kill. Then a costlier service under the same load,
a budget too small for the grid, and Ctrl-C.

The service is the reference service at a fixed CPU cost per request, so each configuration's
capacity is its CPU over that cost on any host (tests/loadtest/integration.py); what our own API
does when starved is measured by scripts/starved_bench.py, not asserted here.
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from tests.loadtest.integration import capacity_rps, reference, start, thresholds_file
from tests.loadtest.processes import Watch, leftover_cgroups, needs_cgroups, watch
from tests.procfs import alive
from tests.waiting import wait_until_gone

pytestmark = [
    pytest.mark.integration,
    needs_cgroups,
]

USERS = 200
CPU_MS = 1.5
# 200 users asking 1 req/s each of the reference service at 1.5 ms of CPU a request: 2 x 0.05 CPU
# serves ~67 req/s (a third of what is asked: its looks find the breach beyond doubt),
# 1 x 0.5 ~333 (60% busy) and 2 x 0.5 ~667. Every configuration is far from its boundary, on any host.
# 40 MiB held from the start: a 32m limit is an OOM kill. P95 5 s: the starved probe's requests queue
# past it within seconds, and every one of them counts over it, answered or not.
SERVICE = reference(cpu_ms=CPU_MS, memory_mb=40)
MAX_P95_MS = 5000
PROFILE: dict[str, Any] = {
    "users": USERS,
    "spawn_rate": USERS,
    "run_time": "12s",
    "replicas": [1],
    "cpus": 0.5,
    "memory": "256m",
    "warmup": "spawn",
    "pace": {"ordinary": {"rate": 1.0}, "heavy": {"rate": 1.0}},
    "search": {
        "replicas": [1, 2],
        "cpus": [0.05, 0.5],
        "memory": ["32m", "256m"],
        "probe_time": "12s",
        "budget": "6m",
        "capacity_steps": 0,
    },
}
assert capacity_rps(0.05, CPU_MS, replicas=2) < 0.4 * USERS < 1.5 * USERS < capacity_rps(0.5, CPU_MS)


@dataclass
class Done:
    """A finished command: its exit code, its output, the folder it wrote, every process it started."""

    code: int
    stdout: str
    stderr: str
    out: Path
    pid: int
    seen: Watch

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads((self.out / "search.json").read_text())
        return record


def begin(
    command: str, folder: Path, *flags: str, profile: dict[str, Any] = PROFILE, service: str = SERVICE
) -> tuple[subprocess.Popen[str], Path]:
    """The command from `folder`, with a relative --out, as `make search` runs it from the checkout."""
    where: list[str | Path] = [
        "--thresholds",
        thresholds_file(folder, profile, max_p95_ms=MAX_P95_MS),
        "--profile",
        "case",
    ]
    process = start(
        command, *where, "--api-command", service, "--out", "results", "--no-calibration", *flags, cwd=folder
    )
    return process, folder / "results"


def finish(process: subprocess.Popen[str], out: Path, timeout: float, seen: Watch | None = None) -> Done:
    seen = seen or Watch()
    watch(process, seen, timeout)
    if process.poll() is None:
        process.kill()
        pytest.fail(f"did not finish in {timeout} s:\n{process.communicate()[1][-3000:]}")
    stdout, stderr = process.communicate()
    return Done(process.returncode, stdout, stderr, out, process.pid, seen)


def search(folder: Path, *flags: str, timeout: float = 360, service: str = SERVICE) -> Done:
    process, out = begin("search", folder, *flags, service=service)
    return finish(process, out, timeout)


def assert_nothing_left(done: Done) -> None:
    wait_until_gone(lambda: [pid for pid in done.seen.all_pids if alive(pid)], 5, "the search's processes")
    assert leftover_cgroups(done.pid) == []


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Done:
    """The search of the reference service, run once for the tests that read it."""
    return search(tmp_path_factory.mktemp("ours"))


def probes(done: Done, kind: str) -> list[dict[str, Any]]:
    return [probe for probe in done.record["probes"] if probe["kind"] == kind]


STARVED, HOLDS, RULED_OUT = "r2-cpu0.05-mem256m", "r2-cpu0.5-mem256m", "r1-cpu0.05-mem256m"


@pytest.mark.slow
def test_the_winner_holds_again_and_the_next_cheaper_fails_again(ours: Done, tmp_path: Path) -> None:
    assert ours.code == exitcodes.PASSED, ours.stderr[-3000:]
    record = ours.record
    assert record["result"] == "holds"
    assert record["complete"] is True
    winner, confirmation = record["winner"], record["confirmation"]
    assert confirmation["cell"] == winner["cell"] == "r1-cpu0.5-mem256m"
    assert (confirmation["confirmed"], confirmation["held"], len(confirmation["runs"])) == (True, True, 2)
    for run in confirmation["runs"]:
        assert record["probes"][run - 1]["figures"]["p95_ms"] <= 0.9 * MAX_P95_MS
    assert confirmation["runner_up_failed"] is True
    (runner_up,) = [probe for probe in record["probes"] if probe["index"] == confirmation["runner_up_runs"][0]]
    assert runner_up["cell"] == confirmation["runner_up"] == STARVED
    assert runner_up["cost"] <= winner["cost"]

    # The same two configurations, run again by `run` at full length: a profile that lists just them.
    cells = [{key: row[key] for key in ("replicas", "cpus", "memory")} for row in (winner, runner_up)]
    again = {key: value for key, value in PROFILE.items() if key not in ("search", "replicas", "cpus", "memory")}
    process, out = begin("run", tmp_path, profile={**again, "cells": cells})
    done = finish(process, out, 150)
    assert done.code == exitcodes.BREACHED, done.stderr[-3000:]
    matrix = json.loads((out / "matrix.json").read_text())
    assert {cell["cell"]: cell["result"] for cell in matrix["cells"]} == {
        winner["cell"]: "PASS",
        runner_up["cell"]: "FAIL",
    }


@pytest.mark.slow
def test_a_failure_rules_out_what_it_covers(ours: Done) -> None:
    record = ours.record
    walk = probes(ours, "cpu")
    assert len(walk) < len(record["configurations"]) == 4
    assert [probe["cell"] for probe in walk][:2] == [STARVED, HOLDS]
    assert walk[0]["outcome"] == "breach"
    states = {row["cell"]: (row["state"], row["by"]) for row in record["configurations"]}
    assert states[RULED_OUT] == ("ruled out", STARVED)
    assert {"cell": RULED_OUT, "ruled_out_by": STARVED, "probe": walk[0]["index"]}.items() <= (
        record["skipped"][0].items()
    )
    assert f"{STARVED} failed: it rules out {RULED_OUT}" in ours.stderr


@pytest.mark.slow
def test_a_starved_replica_is_a_breach_beyond_doubt_on_the_cells_looks(ours: Done) -> None:
    # The walk's first probe serves a third of what its users ask: its queued requests wait but do not
    # fail, and its rolling P95 stays low while it runs. Its looks count every request that waited longer
    # than the 5 s limit, answered or not: a breach beyond doubt, and the load stopped on it.
    probe = probes(ours, "cpu")[0]
    assert probe["outcome"] == "breach"
    assert probe["points"] is None  # decided with its confidence bound, not as points
    assert probe["stopped_early"].startswith("decided after "), probe["stopped_early"]
    assert ": breach: " in probe["stopped_early"]
    assert "P95 " in probe["reason"]
    run = json.loads((ours.out / probe["folder"] / "run.json").read_text())
    assert run["stopped_early"] == probe["stopped_early"]
    verdict = json.loads((ours.out / probe["folder"] / "verdict.json").read_text())
    assert (verdict["source"], verdict["sequential"]["decision"]) == ("histograms", "breach")
    assert (ours.out / probe["folder"] / "locust_report.html").is_file()  # stopped as Ctrl-C would


@pytest.mark.slow
def test_memory_comes_from_the_peak_and_an_oom_kill_fails(ours: Done) -> None:
    (memory_probe,) = probes(ours, "memory")
    winner = ours.record["winner"]
    assert memory_probe["cell"] == f"r{winner['replicas']}-cpu{winner['cpus']}-mem32m"
    assert memory_probe["outcome"] == "breach"
    assert memory_probe["reason"].startswith("OOM-killed")
    memory = ours.record["memory"]
    assert memory["smallest_holding"] == "256m"
    assert memory["failed"]["32m"].startswith("OOM-killed")
    assert len(memory["peaks_bytes"]) == winner["replicas"]
    assert 40 * 2**20 < memory["peak_bytes"] < 256 * 2**20  # the 40 MiB the service holds, and the rest
    assert memory["recommended_bytes"] >= 1.25 * memory["peak_bytes"]


@pytest.mark.slow
def test_the_outputs_answer_the_four_questions(ours: Done) -> None:
    markdown = (ours.out / "search.md").read_text()
    for question in (
        "What are the minimum resources?",
        "Can several replicas reduce them?",
        "What is the largest load supported?",
        "What differs between one instance and several?",
    ):
        assert f"### {question}" in markdown
    winner = ours.record["winner"]
    replicas = f"{winner['replicas']} replica{'s' if winner['replicas'] > 1 else ''}"
    shape = f"**{replicas} x {winner['cpus']:g} CPU, 256m each** ({winner['cost']:g} CPU in all)"
    assert f"{shape} is the cheapest configuration" in markdown
    assert (ours.out / "search.png").read_bytes().startswith(b"\x89PNG")
    for probe in ours.record["probes"]:
        assert (ours.out / probe["folder"] / "run.json").is_file()
    assert "Results:" in ours.stdout
    assert f"probe 1 (cpu) {STARVED}" in ours.stderr
    assert len(ours.seen.api_pids) >= len(ours.record["probes"]), "every probe started its replicas"
    assert_nothing_left(ours)


@pytest.mark.slow
def test_a_costlier_service_holds_nowhere_we_hold(ours: Done, tmp_path: Path) -> None:
    # 10 ms a request: 2 x 0.5 CPU serves ~100 of the 200 req/s asked.
    costly = reference(cpu_ms=10)
    assert capacity_rps(0.5, 10, replicas=2) < 0.6 * USERS
    grid = ["--replicas", "1,2", "--cpus", "0.5", "--memory", "256m"]
    done = search(tmp_path, *grid, "--against", str(ours.out), timeout=240, service=costly)
    assert done.code == exitcodes.BREACHED, done.stderr[-3000:]
    record = done.record
    assert record["result"] == "none holds"
    assert [probe["cell"] for probe in record["probes"]] == ["r2-cpu0.5-mem256m"]
    assert record["skipped"][0]["cell"] == "r1-cpu0.5-mem256m"
    served = record["probes"][0]["figures"]["rps"]
    assert served < 0.9 * USERS
    ours_winner = ours.record["winner"]
    assert record["against"]["winner"] == ours_winner
    markdown = (done.out / "search.md").read_text()
    assert f"None of the grid's 2 CPU configurations holds the SLO for {USERS} users" in markdown
    assert (
        f"holds at {ours_winner['cell']} ({ours_winner['cost']:g} CPU, serving ~{record['against']['rps']:,.0f} "
        f"req/s); this one holds in no configuration of the grid: at its dearest probed, r2-cpu0.5-mem256m "
        f"(1 CPU, {1 / ours_winner['cost']:g} times that)"
    ) in markdown
    assert_nothing_left(done)


def test_a_budget_too_small_stops_cleanly_saying_what_was_not_tried(tmp_path: Path) -> None:
    done = search(tmp_path, "--budget", "60s", timeout=60)
    assert done.code == exitcodes.INCONCLUSIVE, done.stderr[-3000:]
    record = done.record
    assert record["complete"] is False
    assert record["result"] == "inconclusive"
    assert record["cut_short"].startswith("the budget ran out")
    assert record["budget"]["exhausted"] is True
    assert record["budget"]["probes_allowed"] == 0
    assert sorted(record["budget"]["not_tried"]) == sorted(row["cell"] for row in record["configurations"])
    assert "the budget cannot reach, whatever the probes find:" in done.stderr
    assert "Not tried:" in (done.out / "search.md").read_text()
    assert_nothing_left(done)


def test_ctrl_c_leaves_nothing_and_keeps_what_was_measured(tmp_path: Path) -> None:
    process, out = begin("search", tmp_path, "--cpus", "0.5", "--memory", "256m")
    seen = Watch()
    history = out / "probes" / "01-cpu-r2-cpu0.5-mem256m" / "locust_stats_history.csv"
    watch(process, seen, timeout=60, until=history.exists)
    assert history.exists(), "the first probe never started Locust"
    watch(process, seen, timeout=2)
    process.send_signal(signal.SIGINT)
    done = finish(process, out, 45, seen)
    assert done.code == exitcodes.CANNOT_JUDGE
    record = done.record
    assert record["complete"] is False
    assert record["cut_short"].startswith("cut short by SIGINT")
    (probe,) = record["probes"]
    assert probe["outcome"] == "cut short"
    assert (out / probe["folder"] / "locust_stats.csv").is_file()
    assert "The search stopped early: cut short by SIGINT" in (out / "search.md").read_text()
    assert len(done.seen.api_pids) == 2, "the probe's two replicas were running when Ctrl-C came"
    assert_nothing_left(done)
