"""The search's control logic (loadtest/search/search.py), the real `Search` driven by a scripted trial.

The trial is the search's injected collaborator that runs and judges one probe: here it answers from a
script, keyed by the probe's kind and configuration, and moves a fake clock that the budget reads. So
the walk, the re-run of an inconclusive probe, the confirmation, the runner-up and the budget run as
they do for real, and every probe the search makes must be one the script expects.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from loadtest import exitcodes
from loadtest.commands import search as search_command
from loadtest.records import Figures, ProbeOutcome, read_record, write_record
from loadtest.runner.backends.base import Deployment
from loadtest.runner.matrix import Cell
from loadtest.search.probe import Attempt, Judgement
from loadtest.search.records import SEARCH_FILE, SEARCH_SUMMARY, SearchRecord
from loadtest.search.search import Search
from loadtest.search.search_options import search_config
from loadtest.thresholds import parse_thresholds
from tests.loadtest.search import search_data

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  case:
    users: 100
    spawn_rate: 100
    run_time: 10s
    replicas: [1]
    cpus: 0.5
    memory: 512m
    pace:
      ordinary: {rate: 1.0}
      heavy: {rate: 1.0}
    search:
      replicas: [1, 2]
      cpus: [0.1, 0.5]
      memory: [512m]
      probe_time: 5s
      budget: 10m
      capacity_steps: 0
"""
)

R1_01, R2_01 = "r1-cpu0.1-mem512m", "r2-cpu0.1-mem512m"
R1_03, R2_03 = "r1-cpu0.3-mem512m", "r2-cpu0.3-mem512m"
R1_05, R2_05 = "r1-cpu0.5-mem512m", "r2-cpu0.5-mem512m"
P95_MS: dict[ProbeOutcome, float] = {"pass": 200, "breach": 3000, "inconclusive": 600}
REASONS: dict[ProbeOutcome, str | None] = {
    "pass": None,
    "breach": "P95 3,000 ms, limit 1,000 ms",
    "inconclusive": "Locust CPU 100% (limit 90%) for 5 s of 5 s: the load generator, not the service, set the pace",
}

Step = tuple[str, str, str]
"""A probe the search makes: its kind, its configuration, what the script answers (an outcome, or an outcome
and " as points": judged from Locust's figures without a confidence bound)."""
AS_POINTS = " as points"


@dataclass
class Script:
    """The trial: answers each probe from `steps` in order, each taking `seconds` of the fake clock."""

    steps: list[Step]
    seconds: float = 30.0
    now: float = 0.0
    made: list[tuple[str, str]] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def __call__(self, attempt: Attempt) -> Judgement:
        made = (attempt.kind, attempt.cell.name)
        self.made.append(made)
        assert self.steps, f"probe {attempt.index} {made}: the script has no more steps"
        kind, cell, answer = self.steps.pop(0)
        assert made == (kind, cell), f"probe {attempt.index}: the search made {made}, the script expects {kind, cell}"
        outcome = cast(ProbeOutcome, answer.removesuffix(AS_POINTS))
        points = "judged from Locust's figures as points, without a confidence bound" if AS_POINTS in answer else None
        self.now += self.seconds
        figures = Figures(
            name="Aggregated",
            requests=500,
            failures=0,
            error_rate=0.0,
            rps=100.0,
            p50_ms=50,
            p95_ms=P95_MS[outcome],
            p99_ms=None,
        )
        return Judgement(outcome, REASONS[outcome], figures, None, points=points)


@dataclass
class Backend:
    """A backend that is never asked to start anything: the scripted trial replaces the cells."""

    limits_enforced: bool = True
    limits_not_enforced_reason: str | None = None
    name: str = "process"
    image: str | None = None
    closed: bool = False

    def describe(self) -> str:
        return "scripted backend"

    def deployment(self, cell: Cell, cell_dir: Path) -> Deployment:
        raise AssertionError(f"the scripted search started {cell.name}")

    def close(self) -> list[str]:
        self.closed = True
        return []


@dataclass
class Searched:
    code: int
    record: SearchRecord
    script: Script
    err: str


def run_search(
    tmp_path: Path, steps: list[Step], *flags: str, seconds: float = 30.0, backend: Backend | None = None
) -> tuple[int, Script, str]:
    parser = argparse.ArgumentParser()
    search_command.register(parser.add_subparsers())
    argv = ["search", "--profile", "case", "--out", str(tmp_path / "out"), "--no-calibration", *flags]
    config = search_config(parser.parse_args(argv), {}, lambda _: THRESHOLDS)
    script = Script(list(steps), seconds)
    err = io.StringIO()
    searcher = Search(
        config, backend or Backend(), cwd=tmp_path, out=io.StringIO(), err=err, trial=script, clock=script.clock
    )
    return searcher.run(), script, err.getvalue()


def searched(tmp_path: Path, steps: list[Step], *flags: str, seconds: float = 30.0) -> Searched:
    code, script, err = run_search(tmp_path, steps, *flags, seconds=seconds)
    assert script.steps == [], f"the search stopped before the script's steps {script.steps}"
    return Searched(code, read_record(tmp_path / "out" / SEARCH_FILE, SearchRecord), script, err)


def states(record: SearchRecord) -> dict[str, str]:
    return {row.cell: row.state for row in record.configurations}


CASES = {
    "a pass or a breach judged as points is run once more before it rules anything in or out": (
        [
            ("cpu", R2_01, "pass as points"),
            ("cpu", R2_01, "pass"),
            ("cpu", R1_01, "breach as points"),
            ("cpu", R1_01, "breach"),
            ("confirm", R2_01, "pass"),
            ("confirm", R2_01, "pass"),
            ("runner-up", R1_01, "breach"),
        ],
        exitcodes.PASSED,
        R2_01,
        "the cheapest configuration that holds is r2-cpu0.1-mem512m (0.2 CPU)",
    ),
    "an inconclusive probe is run once more, and its re-run counts": (
        [
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_01, "pass"),
            ("cpu", R1_01, "breach"),
            ("confirm", R2_01, "pass"),
            ("confirm", R2_01, "pass"),
            ("runner-up", R1_01, "breach"),
        ],
        exitcodes.PASSED,
        R2_01,
        "the cheapest configuration that holds is r2-cpu0.1-mem512m (0.2 CPU)",
    ),
    "a runner-up inconclusive in the walk that fails at full length settles the answer": (
        [
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_05, "pass"),
            ("cpu", R1_01, "breach"),
            ("cpu", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("runner-up", R2_01, "breach"),
        ],
        exitcodes.PASSED,
        R1_05,
        "the cheapest configuration that holds is r1-cpu0.5-mem512m (0.5 CPU)",
    ),
    "a winner that fails its confirmation is demoted and the next one confirmed": (
        [
            ("cpu", R2_01, "breach"),
            ("cpu", R2_05, "pass"),
            ("cpu", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("confirm", R1_05, "breach"),
            ("confirm", R2_05, "pass"),
            ("confirm", R2_05, "pass"),
            ("runner-up", R1_05, "breach"),
        ],
        exitcodes.PASSED,
        R2_05,
        "the cheapest configuration that holds is r2-cpu0.5-mem512m (1 CPU)",
    ),
    "a runner-up that holds becomes the configuration to beat": (
        [
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_05, "pass"),
            ("cpu", R1_01, "breach"),
            ("cpu", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("runner-up", R2_01, "pass"),
            ("confirm", R2_01, "pass"),
            ("confirm", R2_01, "pass"),
            ("runner-up", R1_01, "breach"),
        ],
        exitcodes.PASSED,
        R2_01,
        "the cheapest configuration that holds is r2-cpu0.1-mem512m (0.2 CPU)",
    ),
    "a demoted winner that holds as a runner-up leaves the boundary not settled": (
        [
            ("cpu", R2_01, "breach"),
            ("cpu", R2_05, "pass"),
            ("cpu", R1_05, "pass"),
            ("confirm", R1_05, "breach"),
            ("confirm", R2_05, "pass"),
            ("confirm", R2_05, "pass"),
            ("runner-up", R1_05, "pass"),
        ],
        exitcodes.INCONCLUSIVE,
        None,
        "r2-cpu0.5-mem512m holds, but whether r1-cpu0.5-mem512m, just cheaper, holds too is not settled",
    ),
    "a runner-up inconclusive at full length too is not settled": (
        [
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_01, "inconclusive"),
            ("cpu", R2_05, "pass"),
            ("cpu", R1_01, "breach"),
            ("cpu", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("confirm", R1_05, "pass"),
            ("runner-up", R2_01, "inconclusive"),
            ("runner-up", R2_01, "inconclusive"),
        ],
        exitcodes.INCONCLUSIVE,
        None,
        "r1-cpu0.5-mem512m holds, but whether r2-cpu0.1-mem512m, just cheaper, holds too is not settled",
    ),
}


@pytest.mark.parametrize(("steps", "code", "winner", "answer"), CASES.values(), ids=CASES.keys())
def test_the_search_follows_the_probes_to_its_answer(
    tmp_path: Path, steps: list[Step], code: int, winner: str | None, answer: str
) -> None:
    done = searched(tmp_path, steps)
    record = done.record
    assert (done.code, record.exit_code, record.complete) == (code, code, True)
    assert (record.winner.cell if record.winner else None) == winner
    assert record.answer == answer
    made = [(p.kind, p.cell, p.outcome + (AS_POINTS if p.points is not None else "")) for p in record.probes]
    assert made == steps
    # A probe that was inconclusive, or judged as points, is run once more (attempt 2), never a third time.
    attempts = [probe.attempt for probe in record.probes]
    for index, probe in enumerate(record.probes):
        before = record.probes[index - 1] if index else None
        again = before is not None and (before.outcome == "inconclusive" or before.points is not None)
        expected = 2 if again and attempts[index - 1] == 1 else 1
        assert probe.attempt == expected, probe


def test_an_inconclusive_probe_twice_stays_inconclusive_and_rules_nothing_out(tmp_path: Path) -> None:
    done = searched(tmp_path, CASES["a runner-up inconclusive at full length too is not settled"][0])
    assert states(done.record) == {R1_01: "breach", R2_01: "inconclusive", R1_05: "pass", R2_05: "pass"}
    assert done.record.skipped == []
    assert done.record.candidate is not None
    assert done.record.candidate.cell == R1_05


def test_the_runner_ups_failure_at_full_length_is_its_finding(tmp_path: Path) -> None:
    done = searched(
        tmp_path, CASES["a runner-up inconclusive in the walk that fails at full length settles the answer"][0]
    )
    assert states(done.record)[R2_01] == "breach"
    assert done.record.result == "holds"


def test_a_demoted_winner_says_why(tmp_path: Path) -> None:
    done = searched(tmp_path, CASES["a winner that fails its confirmation is demoted and the next one confirmed"][0])
    assert done.record.demoted == {R1_05: "held its probe, not its confirmation: P95 3,000 ms, limit 1,000 ms"}
    assert states(done.record)[R1_05] == "breach"
    assert "r1-cpu0.5-mem512m did not hold at full length with margin: the walk goes on" in done.err


def test_a_cheaper_configuration_inconclusive_keeps_the_winner_from_the_answer(tmp_path: Path) -> None:
    steps: list[Step] = [
        ("cpu", R2_01, "inconclusive"),
        ("cpu", R2_01, "inconclusive"),
        ("cpu", R2_03, "pass"),
        ("cpu", R1_01, "breach"),
        ("cpu", R1_03, "breach"),
        ("cpu", R1_05, "pass"),
        ("confirm", R1_05, "pass"),
        ("confirm", R1_05, "pass"),
        ("runner-up", R1_03, "breach"),
    ]
    done = searched(tmp_path, steps, "--cpus", "0.1,0.3,0.5")
    record = done.record
    assert (done.code, record.result) == (exitcodes.INCONCLUSIVE, "inconclusive")
    assert record.winner is not None
    assert record.winner.cell == R1_05
    assert record.answer == "r1-cpu0.5-mem512m holds, but a cheaper configuration could not be judged"
    assert states(record)[R2_01] == "inconclusive"


def test_a_budget_that_runs_out_mid_walk_gives_a_partial_answer(tmp_path: Path) -> None:
    # 100 s a probe of a 5-minute budget: the third probe and a confirmation after it no longer fit.
    steps: list[Step] = [("cpu", R2_01, "breach"), ("cpu", R2_05, "pass")]
    done = searched(tmp_path, steps, "--budget", "5m", seconds=100)
    record = done.record
    assert (done.code, record.result, record.complete) == (exitcodes.INCONCLUSIVE, "inconclusive", False)
    assert record.cut_short is not None
    assert record.cut_short.startswith("the budget ran out: 1:40 left")
    assert record.budget.exhausted
    assert record.budget.not_tried == [R1_05]
    assert states(record) == {R1_01: "ruled out", R2_01: "breach", R1_05: "not tried", R2_05: "pass"}
    assert "Not tried: r1-cpu0.5-mem512m." in (tmp_path / "out" / SEARCH_SUMMARY).read_text()


def test_against_a_search_that_holds_too_gives_the_cost_ratio_of_the_final_winner(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    write_record(other / SEARCH_FILE, search_data.holds())  # its winner: r1-cpu0.5-mem256m, 0.5 CPU
    steps = CASES["an inconclusive probe is run once more, and its re-run counts"][0]
    done = searched(tmp_path, steps, "--against", str(other))
    against = done.record.against
    assert against is not None
    assert against.winner is not None
    assert (against.winner.cell, against.cost_ratio) == ("r1-cpu0.5-mem256m", 0.4)
    assert (
        "this one needs r2-cpu0.1-mem512m (0.2 CPU): 0.4 times the cost."
        in (tmp_path / "out" / SEARCH_SUMMARY).read_text()
    )


def test_limits_that_cannot_be_enforced_cannot_judge_and_write_nothing(tmp_path: Path) -> None:
    backend = Backend(limits_enforced=False, limits_not_enforced_reason="no cgroup filesystem")
    earlier = tmp_path / "out" / "probes" / "01-cpu-r2-cpu0.1-mem512m"
    earlier.mkdir(parents=True)
    code, script, err = run_search(tmp_path, [], backend=backend)
    assert code == exitcodes.CANNOT_JUDGE
    assert "cannot be enforced here (no cgroup filesystem): it cannot judge any configuration" in err
    assert script.made == []
    assert not (tmp_path / "out" / SEARCH_FILE).exists()
    assert earlier.is_dir(), "an earlier search's probes are left alone"
    assert backend.closed
