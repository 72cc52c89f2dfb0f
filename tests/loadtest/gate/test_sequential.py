"""The looks while Locust runs (loadtest/gate/sequential.py's SequentialStop): the engine's stop check reads the
cell's histograms as the writer appends them, on a fake clock, and stops once the looks decided."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from loadtest.gate.reading import HistoryRow
from loadtest.gate.sequential import RunPlan, SequentialStop, answer_seconds, cell_stop, judge
from loadtest.latency.recording import FILE_NAME, RecordingFollower, RecordingWriter, read_recording
from loadtest.locust_contract import LoadSettings
from loadtest.thresholds import Slo
from tests.clock import FakeClock
from tests.loadtest import histogram_files as hist
from tests.loadtest.locust_csv import aggregated_row

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)


def row(second: int, users: int, requests: int) -> HistoryRow:
    return aggregated_row(second, users, requests, rps=100.0)


def live(
    tmp_path: Path,
    each: Callable[[int], hist.Second],
    seconds: int,
    plan: RunPlan,
    rows: Callable[[int], Sequence[HistoryRow]] = lambda _: [],
    warmup: str = "none",
    users: int = 100,
) -> tuple[list[str | None], SequentialStop]:
    """The stop check's answer each second, as Locust's master appends each second's counts a second later."""
    writer = RecordingWriter(tmp_path / FILE_NAME)
    clock = FakeClock(hist.T0)
    stop = SequentialStop(RecordingFollower(tmp_path / FILE_NAME), SLO, plan, users, warmup, clock)
    answers: list[str | None] = []
    for second in range(seconds):
        writer.append("local", [each(second).delta(hist.T0 + second)])
        clock.now = hist.T0 + second + 1.2
        answers.append(stop(rows(hist.T0 + second)))
        if answers[-1] is not None:
            break
    writer.close()
    return answers, stop


def test_a_breach_beyond_doubt_stops_early(tmp_path: Path) -> None:
    answers, stop = live(tmp_path, lambda _: hist.n_in_100(200, 12), 60, RunPlan(60, 60))

    # 3 blocks of 5 s, answered within the 1 s limit, and Locust's 2 s to report them: at 18 s.
    assert len(answers) == 18
    reason = answers[-1]
    assert reason is not None
    assert reason.startswith("decided after 15 s of judged load: breach: stopped early at 15 s of 60 s: P95 1,000 ms")
    assert stop.early
    assert stop.look is not None
    assert stop.look.decision == "breach"


def test_a_healthy_run_is_decided_at_run_time_never_before(tmp_path: Path) -> None:
    answers, stop = live(tmp_path, lambda _: hist.n_in_100(200, 2), 70, RunPlan(60, 60))

    assert answers[:-1] == [None] * (len(answers) - 1)
    assert len(answers) == 63  # the 12th block, answered and reported
    assert (answers[-1] or "").startswith("decided after 60 s of judged load: pass")
    assert not stop.early


def test_too_close_to_call_runs_on_to_max_run_time(tmp_path: Path) -> None:
    answers, stop = live(tmp_path, lambda _: hist.n_in_100(200, 5), 130, RunPlan(60, 120))

    assert len(answers) == 123
    assert (answers[-1] or "").startswith("decided after 120 s of judged load: inconclusive: too close to call")
    assert stop.look is not None
    assert stop.look.blocks == 24


def test_nothing_is_looked_at_before_the_ramp_ends(tmp_path: Path) -> None:
    # 100 users spawn over 20 s; the judged window starts at the first row with all of them running.
    def rows(second: int) -> list[HistoryRow]:
        index = second - hist.T0
        return [row(second, min(100, 5 * (index + 1)), 100 * (index + 1))]

    answers, stop = live(tmp_path, lambda _: hist.n_in_100(200, 12), 60, RunPlan(60, 60), rows, warmup="spawn")

    assert stop.ramp.start == hist.T0 + 19
    assert len(answers) == 19 + 18
    assert (answers[-1] or "").startswith("decided after 15 s of judged load: breach")


def test_the_gate_replays_the_same_looks_on_the_finished_file(tmp_path: Path) -> None:
    answers, stop = live(tmp_path, lambda _: hist.n_in_100(200, 12), 60, RunPlan(60, 60))
    recording = read_recording(tmp_path / FILE_NAME)

    judged = judge(recording, SLO, RunPlan(60, 60), hist.T0, hist.T0 + len(answers) - answer_seconds(SLO))
    assert stop.look is not None
    assert (judged.look.decision, judged.look.blocks) == (stop.look.decision, stop.look.blocks)


def test_a_file_of_another_format_stops_nothing_and_says_why(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text('{"type":"header","format":"something else"}\n', encoding="utf-8")
    stop = SequentialStop(
        RecordingFollower(tmp_path / FILE_NAME), SLO, RunPlan(60, 60), 100, "none", FakeClock(hist.T0)
    )

    assert stop([]) is None
    assert stop.problem is not None
    assert FILE_NAME in stop.problem
    assert stop([]) is None  # and it does not read again


def test_a_cell_of_our_locustfile_gets_a_stop_and_time_for_its_last_answers(tmp_path: Path) -> None:
    load = LoadSettings(users=100, spawn_rate=10, run_time_seconds=70, warmup="spawn")
    made = cell_stop(tmp_path, SLO, load)

    assert made is not None
    stop, locust_seconds = made
    assert (stop.plan.run_seconds, stop.plan.max_seconds) == (60, 60)  # the 10 s ramp is not judged
    assert locust_seconds == 10 + 60 + 1 + 5  # ramp, judged window, the 1 s limit's answers, a tail


def test_a_cell_that_may_extend_gets_time_for_max_run_times_looks(tmp_path: Path) -> None:
    load = LoadSettings(users=100, spawn_rate=10, run_time_seconds=70, warmup="spawn", max_run_time_seconds=130)
    made = cell_stop(tmp_path, SLO, load)

    assert made is not None
    stop, locust_seconds = made
    assert (stop.plan.run_seconds, stop.plan.max_seconds) == (60, 120)
    assert (stop.design.run_blocks, stop.design.max_blocks) == (12, 24)
    assert locust_seconds == 10 + 120 + 1 + 5


def test_a_run_too_short_for_a_bound_gets_no_stop(tmp_path: Path) -> None:
    assert cell_stop(tmp_path, SLO, LoadSettings(users=10, spawn_rate=10, run_time_seconds=3, warmup="spawn")) is None
