"""A probe: the early stop on Locust's history rows, and how a probe's cell is judged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest.gate import HistoryRow, evaluate, read_stats
from loadtest.records import ReplicaRecord, ReplicaUsage
from loadtest.results import CannotJudge, CellFailure, CellResult, Interrupted, NotReady, ReplicaDied
from loadtest.runner.matrix import Cell
from loadtest.scenario import Pace, Scenario, workshop_scenario
from loadtest.search.probe import OUT_OF_BUDGET, EarlyStop, judge, undecided
from loadtest.search.records import ProbeRecord
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import ONE_A_SECOND, run_record
from tests.loadtest.locust_csv import healthy_run

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
USERS = 100


def row(
    second: int,
    users: int = USERS,
    requests: int = 0,
    failures: int = 0,
    p95: float | None = 100,
    rps: float = 100.0,
    mean: float | None = 50.0,
) -> HistoryRow:
    return HistoryRow(
        name="Aggregated",
        aggregated=True,
        users=users,
        rps=rps,
        failures_per_second=0.0,
        requests=requests,
        failures=failures,
        timestamp=second,
        p95_ms=p95,
        mean_ms=mean,
    )


def feed(stop: EarlyStop, rows: list[HistoryRow]) -> list[str | None]:
    return [stop.check(snapshot) for snapshot in rows]


def test_the_ramp_is_never_judged() -> None:
    stop = EarlyStop(SLO, USERS)
    ramp = [
        row(second, users=second * 10, requests=second * 100, failures=second * 50, p95=9000) for second in range(9)
    ]
    assert feed(stop, ramp) == [None] * 9


def test_p95_over_twice_the_limit_on_two_rows_after_the_settling_seconds() -> None:
    stop = EarlyStop(SLO, USERS)
    rows = [row(second, requests=100 * second, p95=2500) for second in range(10, 17)]
    results = feed(stop, rows)
    assert results[:6] == [None] * 6  # 10..14: settling; 15: the first row over
    assert results[6] == "P95 2,500 ms over the last 10 s, more than 2 x the 1,000 ms limit"


def test_one_row_over_is_not_enough() -> None:
    stop = EarlyStop(SLO, USERS)
    p95s = [100, 100, 100, 100, 100, 2500, 100, 2500, 100]
    assert feed(stop, [row(10 + index, p95=p95) for index, p95 in enumerate(p95s)]) == [None] * len(p95s)


def test_errors_over_five_percent_after_the_warm_up_count_from_there() -> None:
    stop = EarlyStop(SLO, USERS)
    # 1,000 requests and 900 failures happened during the ramp (before the first full row): not counted.
    rows = [row(10 + second, requests=1000 + 100 * second, failures=900 + 4 * second) for second in range(8)]
    assert feed(stop, rows) == [None] * 8  # 4% after the warm-up
    stop = EarlyStop(SLO, USERS)
    rows = [row(10 + second, requests=1000 + 100 * second, failures=900 + 6 * second) for second in range(6)]
    assert feed(stop, rows)[-1] == "6.00% of 500 requests failed after the warm-up (over 5%)"


def test_a_reset_of_locusts_statistics_restarts_the_count() -> None:
    stop = EarlyStop(SLO, USERS)
    before_reset = row(10, requests=5000, failures=0)
    after = [row(11 + second, requests=100 * second, failures=10 * second) for second in range(1, 6)]
    results = feed(stop, [before_reset, *after])
    assert results[-1] == "10.00% of 500 requests failed after the warm-up (over 5%)"


def scenario(pace: Pace) -> Scenario:
    return workshop_scenario().with_paces({"ordinary": pace, "heavy": pace})


CONSTANT = scenario(Pace(rate=1.0))
"""100 users ask 100 req/s, whatever the reply time."""
CLOSED = scenario(Pace(between=[1.0, 3.0]))
"""100 users ask 100 / (2 s + the mean reply) req/s: 25 req/s at a 2 s mean."""
STARVED = "served 50 of ~100 req/s its users ask (50%, under 60%) for 3 s in a row after the warm-up"


@pytest.mark.parametrize(
    ("load", "served", "mean_ms", "stopped"),
    [
        # From second 10 every user runs; 10-14 settle (Locust's req/s restarts from 0 at its reset).
        (CONSTANT, [0, 0, 30, 40, 50, 50, 50, 50], 400, (7, STARVED)),
        (CONSTANT, [0, 0, 30, 40, 50, 70, 70, 70, 70, 70], 400, None),  # 70%: short, not clearly lost
        (CONSTANT, [0, 0, 30, 40, 50, 50, 50, 70, 50, 50, 70], 400, None),  # never three rows in a row
        (CLOSED, [25] * 12, 2000, None),  # a slow closed loop asks less: 25 served is all it asks
        (
            CLOSED,
            [10] * 8,
            2000,
            (7, "served 10 of ~25 req/s its users ask (40%, under 60%) for 3 s in a row after the warm-up"),
        ),
        (None, [0] * 12, None, None),  # no scenario, no delivery rule
    ],
)
def test_a_service_serving_far_less_than_its_users_ask_is_stopped(
    load: Scenario | None, served: list[float], mean_ms: float | None, stopped: tuple[int, str] | None
) -> None:
    stop = EarlyStop(SLO, USERS, scenario=load)
    rows = [row(10 + index, requests=100 * index, rps=rps, mean=mean_ms) for index, rps in enumerate(served)]
    results = feed(stop, rows)
    expected = [None] * len(rows)
    if stopped is not None:
        expected[stopped[0]] = stopped[1]
    assert results == expected


def test_the_ramp_does_not_count_towards_the_rows_short() -> None:
    stop = EarlyStop(SLO, USERS, scenario=CONSTANT)
    ramp = [row(second, users=10 * second, rps=1) for second in range(1, 10)]
    assert feed(stop, ramp) == [None] * 9
    settled = [row(10 + index, rps=rps) for index, rps in enumerate([100] * 5 + [50, 50])]
    assert feed(stop, settled) == [None] * 7  # two rows short after the settling seconds: not yet


def test_the_budget_stops_a_probe() -> None:
    now = [100.0]
    stop = EarlyStop(SLO, USERS, deadline=150.0, clock=lambda: now[0])
    assert stop([]) is None
    now[0] = 150.0
    assert stop([]) == OUT_OF_BUDGET
    assert stop.out_of_budget


def test_rows_that_come_together_are_each_judged() -> None:
    # Locust may flush its history late: one call may bring several new rows, each a second.
    stop = EarlyStop(SLO, USERS, scenario=CONSTANT)
    rows = [row(second, requests=second * 40, rps=40) for second in range(10, 19)]
    assert stop(rows[:5]) is None  # the settling seconds
    assert stop(rows[5:]) == "served 40 of ~100 req/s its users ask (40%, under 60%) for 3 s in a row after the warm-up"


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
            {"stopped_early": "P95 2,500 ms over the last 10 s"},
            None,
            "breach",
            "stopped early: P95 2,500 ms over the last 10 s",
            id="stopped-early",
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
