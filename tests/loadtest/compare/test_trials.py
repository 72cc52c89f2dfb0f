"""The trials: the randomised block order, and what a trial's cell gives the comparison."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from loadtest.compare.trials import (
    PlannedTrial,
    StartTogether,
    at_once,
    blocks_of,
    duet_view,
    fixed_load,
    side_measures,
    trial_record,
)
from loadtest.gate.reading import GateInputError, read_stats
from loadtest.gate.verdict import evaluate
from loadtest.locust_contract import LoadSettings
from loadtest.records import Figures, PhaseName, SideRole, TrialRecord
from loadtest.results import CannotJudge, CellResult, Interrupted, ReplicaDied
from loadtest.runner import interrupts
from loadtest.runner.backends.compose import ComposeBackend, project_name
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
from loadtest.scenario import workshop_scenario
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import run_record, samples
from tests.loadtest.locust_csv import Entry, SyntheticRun
from tests.loadtest.runner.backends.scripted_docker import open_compose, scripted_docker

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
PLANNED = PlannedTrial(index=3, block=2, role="head")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_trial_folder_is_named_by_its_position_side_and_phase() -> None:
    assert PLANNED.folder == "03-head-capacity"
    assert PlannedTrial(index=4, block=2, role="base", phase="load", load_rps=600.0).folder == "04-base-load"


@pytest.mark.parametrize(
    ("phase", "rate"),
    [pytest.param("capacity", 600.0, id="capacity-at-a-rate"), pytest.param("load", None, id="load-unset")],
)
def test_only_the_load_phase_has_a_fixed_rate(phase: PhaseName, rate: float | None) -> None:
    with pytest.raises(ValueError, match="a fixed rate is the load phase's"):
        PlannedTrial(index=1, block=1, role="base", phase=phase, load_rps=rate)


def test_the_fixed_load_paces_every_user_at_its_share_of_the_rate() -> None:
    load = LoadSettings(users=32, spawn_rate=32, run_time_seconds=15, scenario=workshop_scenario(), warmup="spawn")
    fixed = fixed_load(load, 960.0, 20)
    assert (fixed.users, fixed.spawn_rate, fixed.run_time_seconds, fixed.warmup) == (32, 32, 20, "spawn")
    assert {name: (kind.rate, kind.between) for name, kind in fixed.scenario.users.items()} == {
        "ordinary": (30.0, None),
        "heavy": (30.0, None),
    }
    assert all(kind.open_loop for kind in fixed.scenario.users.values())
    assert fixed.scenario.asked_rps(32, {}) == pytest.approx(960.0)
    assert [kind.requests for kind in fixed.scenario.users.values()] == [
        kind.requests for kind in load.scenario.users.values()
    ]


def trial_result(tmp_path: Path, served: float = 900.0, failures: int = 0, **record: Any) -> CellResult:
    """A trial's cell as the engine returns it: Locust's CSVs judged with its record, or why it was not."""
    folder = tmp_path / "trials" / PLANNED.folder
    entries = [Entry("POST", "POST /predict", int(served * 10), failures=failures, p50=30, p95=70, p99=90, rps=served)]
    SyntheticRun(entries=entries, users=32, seconds=10, ramp_seconds=1).write(folder)
    sampled = samples(12, 0.5, api_share=0.95, throttled=0.9, locust_share=0.4, start=1_795_841_427)
    written = run_record(Cell(1, 0.5, "512m"), **{"samples": sampled, "warmup": "spawn", **record})
    if written.status == "interrupted":
        return CellResult(folder, written, None, None, Interrupted(written.error or ""))
    if written.status == "failed":
        return CellResult(folder, written, None, None, ReplicaDied(written.error or ""))
    try:
        verdict = evaluate(read_stats(folder), SLO, written)
    except GateInputError as error:
        return CellResult(folder, written, None, None, CannotJudge(str(error)))
    return CellResult(folder, written, verdict, verdict.figures)


def test_a_valid_trial_gives_its_judged_window_figures(tmp_path: Path) -> None:
    trial = trial_record(trial_result(tmp_path, failures=9), PLANNED, NOW, 16.5)
    assert (trial.index, trial.block, trial.role, trial.folder) == (3, 2, "head", "trials/03-head-capacity")
    assert (trial.outcome, trial.valid) == ("pass", True)
    assert trial.reasons == []
    assert trial.figures is not None
    assert (trial.figures.rps, trial.figures.p50_ms, trial.figures.p95_ms, trial.figures.p99_ms) == (900, 30, 70, 90)
    assert (trial.value("capacity"), trial.value("p95")) == (900, None)  # a capacity phase's latency is not a metric
    assert (trial.figures.requests, trial.figures.failures) == (9000, 9)
    assert trial.figures.error_rate == pytest.approx(0.001)
    assert trial.duration_seconds == 16.5
    # The replicas used 95% of their half CPU while answering 900 req/s.
    assert trial.cpu_ms_per_request == pytest.approx(0.95 * 0.5 / 900 * 1000)
    assert trial.value("cpu_per_request") is None  # at saturation it would only repeat the capacity
    load = PlannedTrial(index=3, block=2, role="head", phase="load", load_rps=900.0)
    at_load = trial_record(trial_result(tmp_path, failures=9), load, NOW, 16.5)
    assert (at_load.phase, at_load.load_rps, at_load.folder) == ("load", 900.0, "trials/03-head-load")
    assert (at_load.value("capacity"), at_load.value("p95"), at_load.value("cpu_per_request")) == (
        None,
        70,
        at_load.cpu_ms_per_request,
    )
    assert trial.points is None  # no histograms: Locust's figures are all there is, nothing to label


def test_a_trial_too_short_for_a_bound_is_labelled_judged_as_points(tmp_path: Path) -> None:
    result = trial_result(tmp_path)
    assert result.verdict is not None
    short = "judged from Locust's figures as points, without a confidence bound: 2 s"
    result = CellResult(result.folder, result.record, result.verdict.model_copy(update={"points": short}), None)
    trial = trial_record(result, PLANNED, NOW, 3.0)
    assert (trial.outcome, trial.points) == ("pass", short)


def test_a_trial_whose_limits_were_not_enforced_is_inconclusive(tmp_path: Path) -> None:
    result = trial_result(tmp_path, limits_enforced=False, limits_not_enforced_reason="no cgroups here")
    assert result.verdict is not None
    assert result.verdict.measured is False
    trial = trial_record(result, PLANNED, NOW, 1.0)
    assert (trial.outcome, trial.valid, trial.doubted, trial.undecided) == ("inconclusive", False, True, False)
    assert trial.reasons[0].startswith("limits were not enforced (no cgroups here)")
    assert trial.figures is not None


def test_a_trial_whose_slo_was_only_too_close_to_call_measured_the_service(tmp_path: Path) -> None:
    # A fixed load's corrected P95 near its limit while the host stalled: the SLO is undecided, the figures good.
    result = trial_result(tmp_path)
    assert result.verdict is not None
    assert result.verdict.measured is True
    close = "too close to call: P95 837 ms (corrected); 2.6% over 1,000 ms [0.013%, 10.2%], allowed 5.0%"
    undecided = result.verdict.model_copy(update={"outcome": "inconclusive", "reasons": [close]})
    trial = trial_record(CellResult(result.folder, result.record, undecided, None), PLANNED, NOW, 16.5)
    assert (trial.outcome, trial.undecided, trial.valid, trial.doubted) == ("inconclusive", True, True, False)
    assert trial.reasons == []  # nothing is wrong with the measurement; the comparison does not judge the SLO
    assert trial.value("capacity") == 900


def test_a_trial_that_failed_says_why(tmp_path: Path) -> None:
    error = "API replica 0 exited with code 1 before it was ready: ImportError"
    trial = trial_record(trial_result(tmp_path, status="failed", error=error), PLANNED, NOW, 1.0)
    assert (trial.outcome, trial.reasons, trial.figures) == ("failed to run", [error], None)


def test_a_trial_cut_short_is_interrupted(tmp_path: Path) -> None:
    trial = trial_record(trial_result(tmp_path, status="interrupted", error="interrupted by SIGINT"), PLANNED, NOW, 1.0)
    assert (trial.outcome, trial.reasons, trial.figures) == ("cut short", ["interrupted by SIGINT"], None)


def test_a_trial_the_gate_could_not_judge_gives_the_gates_reason(tmp_path: Path) -> None:
    trial = trial_record(trial_result(tmp_path, served=0), PLANNED, NOW, 1.0)
    assert trial.outcome == "cannot judge"
    assert "zero requests in the Aggregated row" in trial.reasons[0]


# --------------------------------------------------------------------------- a duet's two trials at once


def test_a_duet_trial_records_its_replicas_and_its_locusts_cores() -> None:
    pinned = PlannedTrial(index=4, block=2, role="base", placement=Placement(frozenset({2, 3}), frozenset({0})))
    record = pinned.record("pass", [], None, NOW, 20.0)
    assert (record.cores, record.locust_cores) == ("2-3", "0")
    unpinned = PLANNED.record("pass", [], None, NOW, 20.0)
    assert (unpinned.cores, unpinned.locust_cores) == (None, None)


def test_calls_at_once_run_at_the_same_time_and_return_in_order() -> None:
    # Each waits for the other at the barrier: run one after the other, the first would break it.
    barrier = threading.Barrier(2, timeout=10)

    def side(name: str) -> Callable[[], str]:
        def run() -> str:
            barrier.wait()
            return name

        return run

    assert at_once([side("base"), side("head")]) == ["base", "head"]


def test_an_error_in_one_call_is_raised_once_both_ended() -> None:
    ended: list[str] = []

    def fails() -> str:
        raise RuntimeError("the head broke")

    def runs() -> str:
        ended.append("base")
        return "base"

    with pytest.raises(RuntimeError, match="the head broke"):
        at_once([runs, fails])
    assert ended == ["base"]


def test_a_side_ready_first_waits_for_the_other_and_one_that_ended_releases_it() -> None:
    together = StartTogether(2)
    released = threading.Event()

    def ready_first() -> None:
        together.arrive()
        released.set()

    waiting = threading.Thread(target=ready_first)
    waiting.start()
    # Not released while the other side neither arrived nor left (bounded: a wait, not a sleep to pass time).
    assert not released.wait(timeout=0.2)
    together.leave()  # the other side broke before its load started
    assert released.wait(timeout=10)
    waiting.join(timeout=10)


def test_both_sides_ready_start_together() -> None:
    together = StartTogether(2)
    assert at_once([together.arrive, together.arrive]) == [None, None]
    assert together.arrived == 2


SHARED = Placement(frozenset({1}), frozenset({0}), sharing=2)


def test_a_compose_sides_duet_view_pins_its_containers_names_its_projects_and_waits_for_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_docker(tmp_path / "bin", monkeypatch)
    backend = open_compose(tmp_path)
    together = StartTogether(2)
    view = duet_view(backend, SHARED, together, port=40123, role="head")
    assert isinstance(view, ComposeBackend)
    assert (view.placement, view.tag, view.before_load) == (SHARED, "head", together.arrive)
    assert (backend.placement, backend.tag, backend.before_load) == (None, None, None)  # a view
    deployment = view.deployment(Cell(1, 0.5, "512m"), tmp_path)
    assert deployment.project == project_name(Cell(1, 0.5, "512m"), os.getpid(), "head")


def test_a_process_sides_duet_view_has_its_own_port(tmp_path: Path) -> None:
    backend = ProcessBackend(tmp_path, ready_timeout=5, enforce_limits=False)
    view = duet_view(backend, SHARED, None, port=40123, role="base")
    assert isinstance(view, ProcessBackend)
    assert (view.placement, view.tag, view.port, view.before_load) == (SHARED, "base", 40123, None)
    assert backend.port is None


def test_a_signal_received_releases_a_waiting_side(monkeypatch: pytest.MonkeyPatch) -> None:
    together = StartTogether(2)
    monkeypatch.setattr(interrupts._state, "received", "SIGINT")
    together.arrive()  # returns at once: the cell's engine then cuts it short
    assert together.arrived == 1


def test_a_signal_while_the_calls_run_waits_for_them_and_keeps_their_results() -> None:
    # A Ctrl-C may land in any thread; its handler runs in the main thread, which must still wait for both
    # calls (each sees it and ends as cut short) rather than leave their cells running.
    def until_signalled() -> str:
        noticed = threading.Event()
        for _ in range(1_000):  # at most 10 s
            if interrupts.received() is not None or noticed.wait(0.01):
                break
        return "cut short" if interrupts.received() is not None else "ran to its end"

    def signals() -> str:
        signal.raise_signal(signal.SIGINT)
        return until_signalled()

    with interrupts.catch_signals():
        assert at_once([signals, until_signalled]) == ["cut short", "cut short"]
        assert interrupts.received() == "SIGINT"


# --------------------------------------------------------------------------- a side's measures in a block


def phase(index: int, role: SideRole, name: PhaseName, requests: int, failures: int, valid: bool = True) -> TrialRecord:
    planned = PlannedTrial(index, 1, role, phase=name, load_rps=600.0 if name == "load" else None)
    figures = Figures(
        name="Aggregated",
        requests=requests,
        failures=failures,
        error_rate=failures / requests,
        rps=requests / 10,
        p50_ms=5.0 if name == "load" else 30.0,
        p95_ms=12.0 if name == "load" else 70.0,
        p99_ms=20.0 if name == "load" else 90.0,
    )
    return planned.record("pass" if valid else "inconclusive", [], figures, NOW, 10.0, cpu_ms_per_request=0.4)


def test_each_metric_comes_from_the_phase_that_measures_it_and_errors_from_both() -> None:
    measures = side_measures([phase(1, "base", "capacity", 10_000, 10), phase(3, "base", "load", 6_000, 6)])
    assert measures == {
        "capacity": 1_000.0,
        "cpu_per_request": 0.4,
        "p50": 5.0,
        "p95": 12.0,
        "p99": 20.0,
        "error_rate": pytest.approx(16 / 16_000),
    }


def test_a_side_counts_in_a_block_only_when_each_of_its_phases_was_valid() -> None:
    base = [phase(1, "base", "capacity", 10_000, 0), phase(3, "base", "load", 6_000, 0)]
    head = [phase(2, "head", "capacity", 9_000, 0), phase(4, "head", "load", 6_000, 0, valid=False)]
    assert side_measures(head) is None
    assert side_measures([]) is None
    ((kept_base, kept_head),) = blocks_of([*base, *head])
    assert kept_base == side_measures(base)
    assert kept_head is None
