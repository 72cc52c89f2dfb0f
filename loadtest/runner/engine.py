"""The cell engine: one cell from its replicas' start to its verdict, for every command that runs one.

`CellEngine.run_cell` starts the cell's replicas under their limits (the backend), waits until they
are ready, runs Locust, follows its history (the caller's progress and stop check get each new
row), samples the replicas' and Locust's CPU, stops everything, writes run.json and has the gate
judge the folder (verdict.json, timeline.png, summary.md). It returns a `CellResult`: the record,
the verdict and a typed failure, so no caller reads back the files it wrote. `run` (the matrix),
the search's probes and compare's trials call `run_cell`; `ui` calls `judge` for each test started
from Locust's web UI, whose load it ran itself.

Whatever happens (a breach, a broken cell, Ctrl-C), every process the cell started is stopped and
every cgroup removed before `run_cell` returns, and the folder says what happened.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from loadtest.gate.reading import GateInputError, HistoryFollower, HistoryRow, read_stats
from loadtest.gate.run_folder import write_cannot_judge, write_verdict
from loadtest.gate.verdict import evaluate
from loadtest.gate.verdict_summary import render_cannot_judge
from loadtest.locust_contract import LOCUSTFILE, LoadSettings, csv_paths
from loadtest.records import (
    RUN_FILE,
    SUMMARY_FILE,
    VERDICT_FILE,
    CellStatus,
    LocustInfo,
    MatrixInfo,
    ReplicaRecord,
    ResourceSample,
    RunRecord,
    write_record,
)
from loadtest.results import (
    CannotJudge,
    CellFailure,
    CellResult,
    Interrupted,
    LocustFailed,
    NotReady,
    ReplicaDied,
    RunFailed,
)
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend, BackendError, Deployment, LoadRun, NotReadyError, ReplicaDiedError
from loadtest.runner.calibration import Calibration
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import BackendSettings
from loadtest.scenario import Scenario
from loadtest.thresholds import Slo
from loadtest.util.files import write_atomic

POLL_SECONDS = 0.5
STOP_CHECK_SECONDS = 1.0
"""How often a cell's stop check is asked (Locust appends a history row once a second)."""
SAMPLE_SECONDS = 1.0
"""How often the replicas' and Locust's CPU are read while a cell runs."""

StopCheck = Callable[[Sequence[HistoryRow]], str | None]
"""Asked about once a second while Locust runs, with the Aggregated rows of its history that are new since
the last call (often one, several when Locust flushed late, none when it wrote nothing): a reason to stop
the load now, or None. The cell is then judged on what it has, and run.json's `stopped_early` says why."""

MessageKind = Literal["step", "event", "warning", "problem"]
"""step: what the engine is doing (starting the replicas, ready, stopping the load); event: what
happened to the cell (a replica restarted, Locust's exit code); warning: Locust's own CPU warnings; problem:
what went wrong while cleaning up."""


class CellProgress(Protocol):
    """What a caller hears of a cell while it runs: the terminal's progress line, the search's, compare's, ui's."""

    def message(self, text: str, kind: MessageKind) -> None:
        """A line for people, about the cell (`text` starts with the request's label and the cell's name)."""
        ...

    def load_started(self, request: CellRequest) -> None:
        """The replicas are ready and Locust's load begins now."""
        ...

    def history(self, rows: Sequence[HistoryRow]) -> None:
        """About twice a second while Locust runs: the Aggregated rows of its history new since the last
        call (often none: the call is also the clock's tick)."""
        ...

    def cell_ended(self, result: CellResult) -> None:
        """The cell is over, judged or not."""
        ...


@dataclass(frozen=True)
class CellRequest:
    """One cell to run: the replicas and their limits, the load, where its files go, how it is named."""

    cell: Cell
    load: LoadSettings
    folder: Path
    """Emptied first: whatever an earlier run left there is removed."""
    label: str
    """How its lines start on the terminal: `[2/4]`, `probe 3`."""
    position: int = 1
    """1-based, in the run it belongs to (run.json's `matrix.position`)."""
    planned: tuple[str, ...] = ()
    """Every cell that run planned (default: this one)."""
    run_time: str | None = None
    """The run time as the user wrote it, for run.json (default: the load's, in seconds)."""
    stop: StopCheck | None = None
    locust_seconds: int | None = None
    """How long Locust may run, when longer than the load's run time (the judged time): a caller that
    extends an undecided cell gives the longest it may take, and a stop check that ends the load once
    it is decided. run.json's `run_time_seconds` stays the load's."""


@dataclass
class CellEngine:
    """Runs and judges cells with one backend: what every cell of a run shares."""

    backend: Backend
    settings: BackendSettings
    slo: Slo
    thresholds: Path
    profile: str | None
    served: tuple[str | None, bool | None]
    """The commit (and dirty flag) of the code the replicas run."""
    run_id: str = field(default_factory=lambda: f"{now():%Y%m%dT%H%M%SZ}-{os.getpid()}")
    calibration: Calibration | None = None
    """What this machine's Locust delivers, when it was measured (run.json's generator_capacity_rps)."""

    def run_cell(self, request: CellRequest, progress: CellProgress) -> CellResult:
        """One cell, start to end: its result, with its folder written whatever happened.

        Once a signal has been received, no new cell starts (RunInterrupted); a signal that arrives while
        the cell runs cuts it short (an `Interrupted` failure), and one that arrives while it is judged
        waits until its result is written, then is left for the caller (`interrupts.received()`).
        """
        if interrupts.received():
            raise interrupts.RunInterrupted(interrupts.received() or "a signal")
        cell, label = request.cell, request.label
        folder = prepare_folder(request.folder)
        # Every outcome below is a failure kept in `run`: the record is written whatever happened.
        progress.message(
            f"{label} {cell.name}: starting {cell.replicas} replica(s), {cell.cpus:g} CPU and {cell.memory} each",
            "step",
        )
        run = _Running(started_at=now(), clock=time.monotonic())
        result: CellResult | None = None
        try:
            try:
                self._run(request, run, progress)
            except interrupts.RunInterrupted as signal:
                run.failure = Interrupted(str(signal))
            except NotReadyError as failure:
                run.failure = NotReady(str(failure))
            except ReplicaDiedError as failure:
                run.failure = ReplicaDied(str(failure))
            except _LocustError as failure:
                run.failure = LocustFailed(str(failure))
            except (BackendError, OSError) as failure:
                run.failure = RunFailed(str(failure))
        finally:
            try:
                with interrupts.shielded():
                    if run.deployment is not None:
                        run.replicas = run.deployment.replica_records()
                        for problem in run.deployment.problems:
                            progress.message(f"cleanup problem: {problem}", "problem")
                    result = self.finish(folder, self._record(request, run, progress), run.failure)
                    progress.cell_ended(result)
            except interrupts.RunInterrupted:
                # Received while the result was written: the result stands, and the caller sees the signal
                # in `interrupts.received()` (the next cell refuses to start).
                if result is None:
                    raise
        assert result is not None  # else the exception that kept it from being made is on its way up
        return result

    def _run(self, request: CellRequest, run: _Running, progress: CellProgress) -> None:
        """Replicas up, Locust's load to its end (or the stop check's), replicas down; what happened in `run`."""
        cell, label = request.cell, request.label
        run.deployment = self.backend.deployment(cell, request.folder)
        with run.deployment:
            run.ready_seconds = round(time.monotonic() - run.clock, 3)
            progress.message(f"{label} {cell.name}: ready in {run.ready_seconds:.0f} s; Locust running", "step")
            load = request.load
            if request.locust_seconds is not None:
                load = replace(load, run_time_seconds=max(load.run_time_seconds, request.locust_seconds))
            run.load = run.deployment.start_load(load)
            progress.load_started(request)
            self._watch(request, run.deployment, run.load, run, progress)
        if not csv_paths(request.folder)["stats"].is_file():
            raise _LocustError(
                f"Locust wrote no statistics (exit {run.locust_exit}); its log {run.load.log_path}:\n"
                f"{run.load.log_tail()}"
            )
        if run.locust_exit and run.stopped is None:
            progress.message(f"note: Locust exited with code {run.locust_exit}; see {run.load.log_path}", "event")

    def _watch(
        self, request: CellRequest, deployment: Deployment, load: LoadRun, run: _Running, progress: CellProgress
    ) -> None:
        """Wait for Locust to finish (or the stop check to give a reason), restarting dead replicas,
        sampling CPU and telling `progress`; leaves Locust's exit code and the stop's reason in `run`."""
        history = HistoryFollower(csv_paths(request.folder)["stats_history"])
        next_sample = next_check = 0.0
        unchecked: list[HistoryRow] = []
        while (code := load.poll()) is None:
            if (signal_name := interrupts.received()) is not None:
                # Caught by the main thread while this cell runs in another (a comparison's duet runs two
                # cells at once): in the main thread the signal has already raised where it landed.
                raise interrupts.RunInterrupted(signal_name)
            if time.monotonic() > load.deadline:
                raise _LocustError(f"Locust did not finish in time; its log {load.log_path}:\n{load.log_tail()}")
            for event in deployment.supervise():
                progress.message(event, "event")
            if time.monotonic() >= next_sample:
                run.samples.append(deployment.sample())
                next_sample = time.monotonic() + SAMPLE_SECONDS
            rows = [row for row in history.new_rows() if row.aggregated]
            progress.history(rows)
            unchecked += rows
            if request.stop is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + STOP_CHECK_SECONDS
                run.stopped, unchecked = request.stop(unchecked), []
                if run.stopped is not None:
                    progress.message(f"{request.label} {request.cell.name}: stopping the load: {run.stopped}", "step")
                    break
            time.sleep(POLL_SECONDS)
        run.samples.append(deployment.sample())
        progress.history([row for row in history.new_rows() if row.aggregated])
        stop_code = load.stop()  # reaps it (SIGINT: Locust writes its CSVs and report) and ends its process group
        run.locust_exit = code if code is not None else stop_code

    def _record(self, request: CellRequest, run: _Running, progress: CellProgress) -> RunRecord:
        """The cell's run.json, before the gate's judged window goes in."""
        load = run.load
        warnings = load.cpu_warnings() if load is not None else []
        for warning in warnings:
            progress.message(f"Locust CPU warning: {warning}", "warning")
        settings = request.load
        status: CellStatus = (
            "interrupted"
            if isinstance(run.failure, Interrupted)
            else "failed"
            if isinstance(run.failure, RunFailed)
            else "completed"
        )
        return cell_record(
            request.cell,
            self.settings,
            self.backend,
            run.deployment,
            load,
            (run.locust_exit, load.log_path.name if load is not None else ""),
            settings.scenario,
            self.served,
            status=status,
            error=run.failure.reason if run.failure is not None else None,
            stopped_early=run.stopped,
            ready_seconds=run.ready_seconds,
            profile=self.profile,
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            run_time=request.run_time or f"{settings.run_time_seconds}s",
            run_time_seconds=settings.run_time_seconds,
            max_run_time_seconds=settings.max_run_time_seconds if request.stop is not None else None,
            thresholds=str(self.thresholds),
            started_at=run.started_at,
            ended_at=now(),
            duration_seconds=round(time.monotonic() - run.clock, 3),
            locust_cpu_warnings=warnings,
            replica_records=run.replicas,
            matrix=MatrixInfo(
                run_id=self.run_id, position=request.position, planned=list(request.planned or (request.cell.name,))
            ),
            warmup=settings.warmup,
            generator_capacity_rps=self.calibration.for_workers(load.workers)
            if self.calibration is not None and load is not None
            else None,
            samples=run.samples,
        )

    def finish(self, folder: Path, record: RunRecord, failure: CellFailure | None) -> CellResult:
        """Write run.json and judge a completed cell (verdict.json, timeline.png, summary.md); explain any other."""
        if failure is not None:
            write_record(folder / RUN_FILE, record)
            how = "cut short" if isinstance(failure, Interrupted) else "not completed"
            write_atomic(folder / SUMMARY_FILE, render_cannot_judge(f"The cell was {how}: {failure.reason}"))
            return CellResult(folder, record, None, None, failure)
        return self.judge(folder, record)

    def judge(self, folder: Path, record: RunRecord) -> CellResult:
        """Judge a completed cell's folder with the record of what ran (the judged window goes into it):
        run.json, then verdict.json, timeline.png and summary.md; or run.json and a summary that says why
        it cannot be judged (no verdict.json then)."""
        try:
            stats = read_stats(folder)
        except GateInputError as error:
            write_record(folder / RUN_FILE, record)
            write_cannot_judge(str(error), folder / VERDICT_FILE, folder / SUMMARY_FILE)
            return CellResult(folder, record, None, None, CannotJudge(str(error)))
        record = record.model_copy(update={"window": stats.judged_window(record.warmup == "spawn")})
        write_record(folder / RUN_FILE, record)
        try:
            verdict = evaluate(stats, self.slo, record)
        except GateInputError as error:
            write_cannot_judge(str(error), folder / VERDICT_FILE, folder / SUMMARY_FILE)
            return CellResult(folder, record, None, stats.aggregated, CannotJudge(str(error)), stats)
        write_verdict(stats, verdict, folder / VERDICT_FILE, folder / SUMMARY_FILE, record)
        return CellResult(folder, record, verdict, verdict.figures, None, stats)


class _LocustError(BackendError):
    """Locust ran past its deadline, or ended without writing its statistics."""


@dataclass
class _Running:
    """What is known of a cell while it runs, for its record."""

    started_at: datetime
    clock: float
    deployment: Deployment | None = None
    load: LoadRun | None = None
    ready_seconds: float | None = None
    locust_exit: int | None = None
    stopped: str | None = None
    failure: CellFailure | None = None
    replicas: list[ReplicaRecord] = field(default_factory=list)
    samples: list[ResourceSample] = field(default_factory=list)


def now() -> datetime:
    """The time in UTC."""
    return datetime.now(UTC)


def prepare_folder(folder: Path) -> Path:
    """`folder`, empty (whatever an earlier run left in it is removed)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def cell_record(
    cell: Cell,
    settings: BackendSettings,
    backend: Backend,
    deployment: Deployment | None,
    load: LoadRun | None,
    locust: tuple[int | None, str],
    scenario: Scenario,
    git: tuple[str | None, bool | None],
    **measured: Any,
) -> RunRecord:
    """A cell's run.json, for the engine's cells and for each test of `ui`: the cell, its limits (the
    deployment's, else the backend's), the service and Locust as they were started, and `measured` (the
    rest of RunRecord's fields, by name: status, load, times, replicas' records, samples).

    `locust` is Locust's exit code and its log's path relative to the cell folder; `scenario` is
    recorded unless a locustfile of the user's own makes the load unknown.
    """
    limits: Deployment | Backend = deployment if deployment is not None else backend
    exit_code, log = locust
    return RunRecord(
        cell=cell.name,
        backend=settings.name,
        replicas=cell.replicas,
        cpus=cell.cpus,
        memory=cell.memory,
        memory_bytes=cell.memory_bytes,
        limits_enforced=limits.limits_enforced,
        limits_not_enforced_reason=limits.limits_not_enforced_reason,
        git_commit=git[0],
        git_dirty=git[1],
        image=backend.image,
        api_command=deployment.api_command if deployment is not None else None,
        locust=LocustInfo(
            command=load.command,
            processes=load.workers,
            exit_code=exit_code,
            open_files_limit=load.open_files_limit,
            log=log,
        )
        if load is not None
        else None,
        scenario=None if settings.locustfile is not None else scenario,
        locustfile=str(settings.locustfile or LOCUSTFILE),
        health_path=settings.health_path,
        **measured,
    )
