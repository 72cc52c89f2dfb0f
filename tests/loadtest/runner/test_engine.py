"""The cell engine (loadtest/runner/engine.py), driven through a fake backend at the `Backend` seam.

The fake deployment's Locust writes a synthetic run (Locust's four CSVs, as Locust 2.47 lays them
out) into the cell folder when it starts, and ends when it is stopped or polled enough; its replicas
can fail to get ready or die. So the engine's own work runs for real: the history followed row by
row into the progress and the stop check, run.json, the gate's verdict.json, and the typed failure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Self

import pytest

from loadtest.gate.reading import HistoryRow
from loadtest.locust_contract import LoadSettings, WebSettings
from loadtest.records import RUN_FILE, SUMMARY_FILE, VERDICT_FILE, LiveReplica, ReplicaRecord, ResourceSample
from loadtest.results import CannotJudge, CellResult, Interrupted, LocustFailed, NotReady, ReplicaDied, RunFailed
from loadtest.runner import interrupts
from loadtest.runner.backends import BackendError, NotReadyError, ReplicaDiedError
from loadtest.runner.engine import CellEngine, CellRequest, MessageKind, StopCheck
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import BackendSettings
from loadtest.thresholds import Slo
from tests.loadtest.locust_csv import Entry, SyntheticRun, healthy_run

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
CELL = Cell(1, 0.5, "512m")
LOAD = LoadSettings(users=100, spawn_rate=50.0, run_time_seconds=15)


@dataclass
class FakeLoad:
    """Locust: its files are written when it starts; it ends after `polls` polls, or when stopped."""

    folder: Path
    run: SyntheticRun | None
    polls: int = 0
    started_with: LoadSettings | None = None
    stopped: bool = False
    command: list[str] = field(default_factory=lambda: ["locust", "--headless"])
    workers: int = 1
    open_files_limit: int = 65536
    deadline: float = float("inf")

    @property
    def log_path(self) -> Path:
        return self.folder / "locust.log"

    def poll(self) -> int | None:
        if self.polls <= 0:
            return 0
        self.polls -= 1
        return None

    def stop(self) -> int:
        self.stopped = True
        return 0

    def cpu_warnings(self) -> list[str]:
        return []

    def log_tail(self, lines: int = 15) -> str:
        return "Locust's last words"


@dataclass
class FakeDeployment:
    """The replicas of one cell; `fail` is raised while they start, `events` come from supervising them."""

    folder: Path
    run: SyntheticRun | None
    polls: int
    fail: BackendError | None = None
    events: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    load: FakeLoad | None = None
    api_command: list[str] | None = None
    limits_enforced: bool = True
    limits_not_enforced_reason: str | None = None

    def __enter__(self) -> Self:
        if self.fail is not None:
            raise self.fail
        return self

    def __exit__(self, *exc: object) -> None:
        self.problems.append("a cgroup was busy")

    def start_load(self, settings: LoadSettings) -> FakeLoad:
        if self.run is not None:
            self.run.write(self.folder)
        self.load = FakeLoad(self.folder, self.run, self.polls, started_with=settings)
        return self.load

    def start_web_ui(self, settings: WebSettings) -> FakeLoad:
        raise AssertionError("the engine started a web UI")

    def supervise(self) -> list[str]:
        events, self.events = self.events, []
        return events

    def live_replicas(self) -> list[LiveReplica]:
        return []

    def sample(self) -> ResourceSample:
        return ResourceSample(t=0.0)

    def replica_records(self) -> list[ReplicaRecord]:
        return [ReplicaRecord(index=0, name="replica-0", pids=[7])]


@dataclass
class FakeBackend:
    run: SyntheticRun | None = field(default_factory=healthy_run)
    polls: int = 0
    fail: BackendError | None = None
    events: list[str] = field(default_factory=list)
    deployments: list[FakeDeployment] = field(default_factory=list)
    name: str = "process"
    image: str | None = None
    limits_enforced: bool = True
    limits_not_enforced_reason: str | None = None

    def describe(self) -> str:
        return "fake backend"

    def deployment(self, cell: Cell, cell_dir: Path) -> FakeDeployment:
        self.deployments.append(FakeDeployment(cell_dir, self.run, self.polls, self.fail, list(self.events)))
        return self.deployments[-1]

    def close(self) -> list[str]:
        return []


@dataclass
class Heard:
    """A `CellProgress` that keeps what it is told."""

    messages: list[tuple[MessageKind, str]] = field(default_factory=list)
    started: list[CellRequest] = field(default_factory=list)
    rows: list[HistoryRow] = field(default_factory=list)
    ended: list[CellResult] = field(default_factory=list)

    def message(self, text: str, kind: MessageKind) -> None:
        self.messages.append((kind, text))

    def load_started(self, request: CellRequest) -> None:
        self.started.append(request)

    def history(self, rows: Sequence[HistoryRow]) -> None:
        self.rows += rows

    def cell_ended(self, result: CellResult) -> None:
        self.ended.append(result)


def engine(backend: FakeBackend) -> CellEngine:
    return CellEngine(
        backend=backend,
        settings=BackendSettings(),
        slo=SLO,
        thresholds=Path("thresholds.yaml"),
        profile="local",
        served=("0123456789ab", False),
        run_id="run-1",
    )


def request(
    tmp_path: Path, load: LoadSettings = LOAD, stop: StopCheck | None = None, locust_seconds: int | None = None
) -> CellRequest:
    return CellRequest(
        cell=CELL,
        load=load,
        folder=tmp_path / "cell",
        label="[2/3]",
        position=2,
        planned=("a", CELL.name, "c"),
        run_time="15s",
        stop=stop,
        locust_seconds=locust_seconds,
    )


def test_a_cell_that_ran_brings_its_record_and_its_verdict(tmp_path: Path) -> None:
    backend, heard = FakeBackend(), Heard()
    (tmp_path / "cell").mkdir()
    (tmp_path / "cell" / "left-over.txt").write_text("an earlier run's")
    result = engine(backend).run_cell(request(tmp_path), heard)
    assert result.failure is None
    assert result.verdict is not None
    assert result.verdict.outcome == "pass"
    assert result.figures == result.verdict.figures
    assert (result.record.status, result.record.cell, result.record.run_time) == ("completed", CELL.name, "15s")
    assert (result.record.matrix.position, result.record.matrix.planned) == (2, ["a", CELL.name, "c"])
    assert result.record.window is not None  # the gate's judged window went into run.json
    folder = tmp_path / "cell"
    assert not (folder / "left-over.txt").exists()
    assert json.loads((folder / RUN_FILE).read_text())["window"] is not None
    assert json.loads((folder / VERDICT_FILE).read_text())["outcome"] == "pass"
    assert heard.started == [request(tmp_path)]
    assert heard.ended == [result]
    assert [row.aggregated for row in heard.rows] == [True] * 11  # every Aggregated row of the history, once
    assert heard.messages[:2] == [
        ("step", f"[2/3] {CELL.name}: starting 1 replica(s), 0.5 CPU and 512m each"),
        ("step", f"[2/3] {CELL.name}: ready in 0 s; Locust running"),
    ]
    assert ("problem", "cleanup problem: a cgroup was busy") in heard.messages


def test_the_stop_check_gets_the_new_rows_and_stops_the_load(tmp_path: Path) -> None:
    backend, heard = FakeBackend(polls=1000), Heard()
    seen: list[list[HistoryRow]] = []

    def stop(rows: Sequence[HistoryRow]) -> str | None:
        seen.append(list(rows))
        return "P95 2,500 ms over the last 10 s" if rows else None

    result = engine(backend).run_cell(request(tmp_path, stop=stop), heard)
    assert result.record.stopped_early == "P95 2,500 ms over the last 10 s"
    assert [len(rows) for rows in seen] == [11]
    assert all(row.aggregated for row in seen[0])
    load = backend.deployments[0].load
    assert load is not None
    assert load.stopped
    assert ("step", f"[2/3] {CELL.name}: stopping the load: P95 2,500 ms over the last 10 s") in heard.messages
    assert result.verdict is not None  # judged on what it has


def test_locust_may_run_longer_than_the_judged_time(tmp_path: Path) -> None:
    backend = FakeBackend()
    result = engine(backend).run_cell(request(tmp_path, locust_seconds=45), Heard())
    load = backend.deployments[0].load
    assert load is not None
    assert load.started_with is not None
    assert load.started_with.run_time_seconds == 45
    assert result.record.run_time_seconds == 15
    assert result.record.max_run_time_seconds is None  # no stop check: nothing extends


def test_a_cell_whose_looks_may_extend_records_how_far(tmp_path: Path) -> None:
    # The gate re-plans the looks from run.json: run_time and max_run_time both.
    extended = replace(LOAD, max_run_time_seconds=30)
    result = engine(FakeBackend()).run_cell(
        request(tmp_path, load=extended, stop=lambda rows: None, locust_seconds=40), Heard()
    )
    assert (result.record.run_time_seconds, result.record.max_run_time_seconds) == (15, 30)


def test_a_replica_restarted_while_it_ran_is_an_event(tmp_path: Path) -> None:
    backend, heard = FakeBackend(polls=1, events=["API replica 0 exited with code -9; restarted"]), Heard()
    engine(backend).run_cell(request(tmp_path), heard)
    assert ("event", "API replica 0 exited with code -9; restarted") in heard.messages


@pytest.mark.parametrize(
    ("fail", "failure"),
    [
        (NotReadyError("the API was not ready within 60 s"), NotReady),
        (ReplicaDiedError("API replica 0 exited with code 1 before it was ready"), ReplicaDied),
        (BackendError("cannot start API replica 0: no such file"), RunFailed),
    ],
    ids=["not-ready", "replica-died", "broke"],
)
def test_replicas_that_fail_give_a_typed_failure_and_a_record(
    tmp_path: Path, fail: BackendError, failure: type[RunFailed]
) -> None:
    heard = Heard()
    result = engine(FakeBackend(fail=fail)).run_cell(request(tmp_path), heard)
    assert type(result.failure) is failure
    assert result.failure is not None
    assert result.failure.reason == str(fail)
    assert (result.verdict, result.record.status, result.record.error) == (None, "failed", str(fail))
    assert result.record.ready_seconds is None
    assert json.loads((tmp_path / "cell" / RUN_FILE).read_text())["status"] == "failed"
    assert (tmp_path / "cell" / SUMMARY_FILE).read_text().endswith(f"The cell was not completed: {fail}\n")
    assert not (tmp_path / "cell" / VERDICT_FILE).exists()


def test_locust_that_wrote_nothing_failed(tmp_path: Path) -> None:
    result = engine(FakeBackend(run=None)).run_cell(request(tmp_path), Heard())
    assert isinstance(result.failure, LocustFailed)
    assert result.failure.reason.startswith("Locust wrote no statistics (exit 0); its log ")
    assert result.failure.reason.endswith("Locust's last words")


def test_a_run_the_gate_cannot_judge_says_why_and_leaves_no_verdict(tmp_path: Path) -> None:
    nothing = SyntheticRun(entries=[Entry("POST", "POST /predict", 0)])
    result = engine(FakeBackend(run=nothing)).run_cell(request(tmp_path), Heard())
    assert isinstance(result.failure, CannotJudge)
    assert "zero requests in the Aggregated row" in result.failure.reason
    assert result.record.status == "completed"
    assert result.figures is not None
    assert result.figures.requests == 0
    assert not (tmp_path / "cell" / VERDICT_FILE).exists()
    assert "zero requests" in (tmp_path / "cell" / SUMMARY_FILE).read_text()


def test_no_cell_starts_once_a_signal_was_received(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interrupts._state, "received", "SIGINT")
    backend = FakeBackend()
    with pytest.raises(interrupts.RunInterrupted):
        engine(backend).run_cell(request(tmp_path), Heard())
    assert backend.deployments == []
    assert not (tmp_path / "cell").exists()


def test_a_signal_caught_by_another_thread_cuts_the_running_cell_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A comparison's duet runs two cells in threads of their own; a signal raises only in the main thread,
    # which records it: each cell's watch sees it and stops, as a cell in the main thread would.
    class SignalledMeanwhile(Heard):
        def load_started(self, request: CellRequest) -> None:
            super().load_started(request)
            monkeypatch.setattr(interrupts._state, "received", "SIGINT")

    backend = FakeBackend(polls=4)
    result = engine(backend).run_cell(request(tmp_path), SignalledMeanwhile())
    assert isinstance(result.failure, Interrupted)
    assert result.outcome == "cut short"
    load = backend.deployments[0].load
    assert load is not None
    assert load.polls == 3  # stopped at its first poll, not run to its end
