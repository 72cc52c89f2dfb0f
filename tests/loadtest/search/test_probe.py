"""A probe: its early stop (the budget, then the cells' sequential looks), and how a probe's cell is judged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from loadtest.gate.reading import HistoryRow, read_stats
from loadtest.gate.sequential import RunPlan, SequentialStop
from loadtest.gate.verdict import evaluate
from loadtest.latency.recording import FILE_NAME, RecordingFollower, RecordingWriter
from loadtest.records import ReplicaRecord, ReplicaUsage
from loadtest.results import CannotJudge, CellFailure, CellResult, Interrupted, NotReady, ReplicaDied
from loadtest.runner.matrix import Cell
from loadtest.search.probe import OUT_OF_BUDGET, EarlyStop, judge, undecided
from loadtest.search.records import ProbeRecord
from loadtest.thresholds import Slo
from tests.clock import FakeClock
from tests.loadtest import histogram_files as hist
from tests.loadtest.cell_folders import ONE_A_SECOND, run_record
from tests.loadtest.locust_csv import healthy_run

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)


def run_looks(tmp_path: Path, slow_in_100: int, seconds: int) -> tuple[list[str | None], EarlyStop]:
    """A 12 s probe window's looks (2 s blocks) asked after each second of a histogram file written as Locust's
    master would (`slow_in_100` of every 100 replies over the limit), until they answer or `seconds` pass."""
    clock = FakeClock(hist.T0)
    sequential = SequentialStop(RecordingFollower(tmp_path / FILE_NAME), SLO, RunPlan(12, 12), 100, "none", clock)
    writer = RecordingWriter(tmp_path / FILE_NAME)
    stop = EarlyStop(deadline=None, looks=sequential)
    answers: list[str | None] = []
    for second in range(seconds):
        writer.append("local", [hist.n_in_100(200, slow_in_100).delta(hist.T0 + second)])
        clock.now = hist.T0 + second + 1.2
        answers.append(stop([]))
        if answers[-1] is not None:
            break
    writer.close()
    return answers, stop


def test_a_probe_is_stopped_by_the_cells_looks_once_a_breach_is_beyond_doubt(tmp_path: Path) -> None:
    answers, stop = run_looks(tmp_path, slow_in_100=30, seconds=12)
    # Three blocks of 2 s, answered within the 1 s limit and reported 2 s later: 9 s, before the 12 s window.
    assert answers[:-1] == [None] * (len(answers) - 1)
    assert len(answers) == 9
    assert (answers[-1] or "").startswith("decided after 6 s of judged load: breach: stopped early at 6 s of 12 s")
    assert not stop.out_of_budget


def test_a_healthy_probe_runs_its_window_and_is_decided_at_its_end(tmp_path: Path) -> None:
    answers, _ = run_looks(tmp_path, slow_in_100=1, seconds=20)
    assert len(answers) == 15  # the 6th block of 2 s, answered and reported
    assert (answers[-1] or "").startswith("decided after 12 s of judged load: pass")


def test_the_budget_stops_a_probe_before_its_looks_are_asked(tmp_path: Path) -> None:
    clock = FakeClock(100.0)
    asked: list[int] = []

    def sequential(rows: Sequence[HistoryRow]) -> str | None:
        asked.append(1)
        return None

    stop = EarlyStop(deadline=150.0, clock=clock, looks=sequential)
    assert stop([]) is None
    clock.now = 150.0
    assert stop([]) == OUT_OF_BUDGET
    assert stop.out_of_budget
    assert len(asked) == 1


def test_a_probe_without_histograms_is_stopped_only_by_the_budget() -> None:
    stop = EarlyStop(deadline=None)
    assert stop([]) is None
    assert not stop.out_of_budget


def probe_record(outcome: str, points: str | None = None, oom_kills: int = 0) -> ProbeRecord:
    return ProbeRecord.model_validate(
        {
            "index": 1,
            "kind": "cpu",
            "cell": "r1-cpu0.5-mem512m",
            "replicas": 1,
            "cpus": 0.5,
            "memory": "512m",
            "cost": 0.5,
            "users": 100,
            "spawn_rate": 100,
            "run_time_seconds": 12,
            "outcome": outcome,
            "points": points,
            "oom_kills": oom_kills,
            "started_at": "2026-12-05T08:00:00Z",
            "duration_seconds": 20.0,
            "folder": "probes/01",
        }
    )


def test_a_probe_not_decided_beyond_doubt_says_why_it_is_run_once_more() -> None:
    points = "judged from Locust's figures as points, without a confidence bound: 2 s"
    assert undecided(probe_record("inconclusive")) == "was inconclusive"
    assert (undecided(probe_record("breach", points)) or "").startswith("was judged as points")
    assert (undecided(probe_record("pass", points)) or "").startswith("was judged as points")
    assert undecided(probe_record("pass")) is None  # a bounded pass is beyond doubt
    assert undecided(probe_record("breach")) is None
    assert undecided(probe_record("breach", points, oom_kills=1)) is None  # an OOM kill is certain


# --------------------------------------------------------------------------- judging a probe's cell


def usage(oom_kills: int) -> ReplicaUsage:
    return ReplicaUsage(
        cpu_seconds=1.0,
        cpu_periods=10,
        cpu_throttled_periods=0,
        cpu_throttled_seconds=0.0,
        memory_peak_bytes=80 * 2**20,
        oom_kills=oom_kills,
    )


def probe_result(
    tmp_path: Path, p95: int = 100, verdict: bool = True, failure: CellFailure | None = None, **record: Any
) -> CellResult:
    """A probe's cell as the engine returns it: its record, and its verdict (when judged) or its failure."""
    folder = healthy_run(p95=p95).write(tmp_path / "probe")
    written = run_record(Cell(1, 1.0, "512m"), scenario=ONE_A_SECOND, warmup="spawn", **record)
    if not verdict:
        return CellResult(folder, written, None, None, failure or CannotJudge("zero requests in the Aggregated row"))
    judged = evaluate(read_stats(folder), SLO, written)
    return CellResult(folder, written, judged, judged.figures)


NOT_READY = "the API was not ready within 60 s (last GET /health: 503)"
FAILED_START = {"status": "failed", "error": NOT_READY}


@pytest.mark.parametrize(
    ("case", "margin", "outcome", "reason"),
    [
        pytest.param({}, None, "pass", None, id="pass"),
        pytest.param({"p95": 2000}, None, "breach", "P95 2,000 ms, limit 1,000 ms", id="breach"),
        pytest.param(
            {"p95": 950}, 900.0, "breach", "P95 950 ms, over the 900 ms margin (0.9 x the limit)", id="margin"
        ),
        pytest.param({"p95": 850}, 900.0, "pass", None, id="within-the-margin"),
        pytest.param(
            {"stopped_early": "decided after 12 s of judged load: pass: ..."},
            None,
            "pass",
            None,
            id="stopped-by-its-looks-on-a-pass",
        ),
        pytest.param({"stopped_early": OUT_OF_BUDGET}, None, "out of budget", OUT_OF_BUDGET, id="out-of-budget"),
        pytest.param(
            {"limits_enforced": False, "limits_not_enforced_reason": "no cgroups"},
            None,
            "inconclusive",
            "limits were not enforced (no cgroups)",
            id="inconclusive",
        ),
        pytest.param(
            {
                "status": "interrupted",
                "error": "interrupted by SIGINT",
                "verdict": False,
                "failure": Interrupted("interrupted by SIGINT"),
            },
            None,
            "cut short",
            "interrupted by SIGINT",
            id="interrupted",
        ),
        pytest.param(
            {"replica_records": [ReplicaRecord(index=0, name="replica-0", restarts=2, usage=usage(2))]},
            None,
            "breach",
            "OOM-killed 2 time(s) under the 512m limit",
            id="oom-killed",
        ),
        pytest.param(
            {
                **FAILED_START,
                "verdict": False,
                "failure": NotReady(NOT_READY),
                "replica_records": [ReplicaRecord(index=0, name="replica-0", pids=[7])],
            },
            None,
            "breach",
            "not ready under its limits: the API was not ready within 60 s",
            id="too-little-cpu-to-start",
        ),
        pytest.param(
            {
                **FAILED_START,
                "error": "API replica 0 exited with code 1 before it was ready",
                "verdict": False,
                "failure": ReplicaDied("API replica 0 exited with code 1 before it was ready"),
                "replica_records": [ReplicaRecord(index=0, name="replica-0", pids=[7], exit_codes=[1])],
            },
            None,
            "failed to run",
            "API replica 0 exited with code 1 before it was ready",
            id="a-broken-service",
        ),
        pytest.param({"verdict": False}, None, "cannot judge", "the gate could not judge it", id="not-judged"),
    ],
)
def test_judge(tmp_path: Path, case: dict[str, Any], margin: float | None, outcome: str, reason: str | None) -> None:
    case = dict(case)
    result = probe_result(tmp_path, p95=case.pop("p95", 100), verdict=case.pop("verdict", True), **case)
    judgement = judge(result, margin)
    assert judgement.outcome == outcome
    if reason is None:
        assert judgement.reason is None
    else:
        assert judgement.reason is not None
        assert judgement.reason.startswith(reason), judgement.reason
