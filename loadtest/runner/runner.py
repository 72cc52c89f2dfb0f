"""The run: for every cell, replicas up under limits, Locust, `run.json`, the gate; then the matrix.

Whatever happens (a breach, a broken cell, Ctrl-C, SIGTERM), every process the run started is
stopped and every cgroup removed before it returns, the results so far stay on disk, and the
summary says when the run was cut short.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from loadtest.gate import GateInputError, judge_record, render_cannot_judge, verdict_line
from loadtest.locust_contract import LOCUSTFILE, LoadSettings, csv_paths
from loadtest.records import (
    RUN_FILE,
    SUMMARY_FILE,
    CellStatus,
    LocustInfo,
    MatrixInfo,
    ReplicaRecord,
    ResourceSample,
    RunRecord,
    write_record,
)
from loadtest.report import collect_cell, write_report
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend, BackendError, Deployment, LoadRun
from loadtest.runner.calibration import Calibration, CalibrationError, calibrate, capacity_notes
from loadtest.runner.config import BackendSettings, RunConfig
from loadtest.runner.generator import cell_workers
from loadtest.runner.matrix import Cell
from loadtest.runner.progress import Progress
from loadtest.scenario import Scenario
from loadtest.thresholds import Slo
from loadtest.util.files import write_atomic
from loadtest.util.git import revision
from loadtest.util.text import first_line

POLL_SECONDS = 0.5
STOP_CHECK_SECONDS = 1.0
"""How often a cell's stop check reads Locust's history (Locust appends to it once a second)."""

StopCheck = Callable[[Path], str | None]
"""Given a running cell's growing locust_stats_history.csv, a reason to stop its load now, or None."""


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
    """A cell's run.json, for `run` and for each test of `ui`: the cell, its limits (the deployment's,
    else the backend's), the service and Locust as they were started, and `measured` (the rest of
    RunRecord's fields, by name: status, load, times, replicas' records, samples).

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


@dataclass(frozen=True)
class CellOutcome:
    """How a cell's run ended, for its run.json."""

    status: CellStatus
    error: str | None = None
    stopped_early: str | None = None
    ready_seconds: float | None = None


SAMPLE_SECONDS = 1.0
"""How often the replicas' and Locust's CPU are read while a cell runs."""
GENERATOR_HEADROOM = 0.6
"""Cells whose users ask more than this share of what Locust can deliver get a note at start."""
CALIBRATION_DIR = "calibration"


class Runner:
    """Runs the matrix of one `python -m loadtest run`."""

    def __init__(
        self,
        config: RunConfig,
        backend: Backend,
        cwd: Path,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        served: tuple[str | None, bool | None] | None = None,
    ) -> None:
        """`served`: the commit (and dirty flag) of the code the replicas run, when it is not `cwd`'s."""
        self.config, self.backend, self.cwd, self.out, self.err = config, backend, cwd, out, err
        self.progress = Progress(err, len(config.cells))
        self.run_id = f"{now():%Y%m%dT%H%M%SZ}-{os.getpid()}"
        self.commit, self.dirty = served if served is not None else revision(cwd)
        self.calibration: Calibration | None = None
        self.samples: list[ResourceSample] = []

    def say(self, text: str) -> None:
        """A line on the terminal (stderr: stdout carries the results)."""
        self.progress.message(text)

    def run(self) -> int:
        """Every cell, then the matrix report; the exit code."""
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        self.say(
            f"{len(config.cells)} cell(s): {', '.join(cell.name for cell in config.cells)}; "
            f"{config.load.users:,} users spawning {config.load.spawn_rate:g}/s for {config.run_time} each"
        )
        self.say(offered_load_line(config.load, config.slo))
        for line in backend_lines(self.backend):
            self.say(line)
        folders: list[Path] = []
        interruption: str | None = None
        with interrupts.catch_signals():
            try:
                if config.backend.calibrate:
                    self.calibrate()
                for position, cell in enumerate(config.cells, start=1):
                    folders.append(self.run_cell(position, cell))
                    if interrupts.received():
                        break
            except interrupts.RunInterrupted:
                pass
            finally:
                with interrupts.shielded():
                    problems = self.backend.close()
                for problem in problems:
                    self.say(f"cleanup problem: {problem}")
            if interrupts.received():
                done = len(folders)
                interruption = (
                    f"the run was cut short by {interrupts.received()} during cell {done} of {len(config.cells)}"
                )
            with interrupts.shielded():
                return self.report(folders, interruption)

    def calibrate(self) -> None:
        """Measure what one Locust process delivers here, and warn about cells that ask for more."""
        config = self.config
        self.say("calibrating the load generator: one Locust process against a server that costs nothing...")
        workers = {cell.name: cell_workers(cell, config.backend.locust_workers) for cell in config.cells}
        users = max(1, config.load.users // max(workers.values()))
        try:
            self.calibration = calibrate(
                config.load.scenario, users, config.out / CALIBRATION_DIR, self.cwd, config.backend.locustfile
            )
        except CalibrationError as error:
            self.say(f"calibration failed, so no cell can say whether Locust was the limit: {first_line(error)}")
            return
        per_worker = self.calibration.per_worker_rps
        self.say(f"one Locust process delivers ~{per_worker:,.0f} req/s of this scenario here (no waits, null target)")
        notes = capacity_notes(self.calibration, config.load.scenario, config.load.users, workers, GENERATOR_HEADROOM)
        for note in notes:
            self.say(_banner(note.text) if note.over else f"note: {note.text}")

    def report(self, folders: list[Path], interruption: str | None) -> int:
        """Write the matrix summary and print it; the exit code."""
        cells = [collect_cell(folder) for folder in folders if (folder / RUN_FILE).is_file()]
        report = write_report(cells, self.config.out, interruption)
        self.progress.end_line()
        self.out.write("\n" + report.console)
        self.out.write(f"\nResults: {self.config.out}/ (summary: {self.config.out / SUMMARY_FILE})\n")
        self.out.flush()
        return report.code

    def run_cell(
        self,
        position: int,
        cell: Cell,
        *,
        load_settings: LoadSettings | None = None,
        folder: str | Path | None = None,
        stop_when: StopCheck | None = None,
        label: str | None = None,
        print_verdict: bool = True,
    ) -> Path:
        """One cell, start to end; returns its folder (with run.json, whatever happened).

        By default the cell runs the run's load into `out/<cell>/`. A caller that runs cells one by
        one (the search, the comparison) can give another load, another folder (relative to `out`), a
        label for the terminal (default `[position/cells]`) and `stop_when`, asked once a second while
        Locust runs: when it returns a reason, Locust is stopped there, the cell is judged on what it
        has and run.json says why. Without `print_verdict` the verdict is not printed (the caller
        prints its own).
        """
        settings = load_settings or self.config.load
        cell_dir = prepare_folder(self.config.out / (folder or cell.name))
        prefix = label or f"[{position}/{len(self.config.cells)}]"
        self.say(
            f"\n{prefix} {cell.name}: starting {cell.replicas} replica(s), {cell.cpus:g} CPU and {cell.memory} each"
        )
        started_at, clock = now(), time.monotonic()
        status: CellStatus = "completed"
        error: str | None = None
        deployment: Deployment | None = None
        load: LoadRun | None = None
        locust_exit: int | None = None
        stopped: str | None = None
        ready_seconds: float | None = None
        records: list[ReplicaRecord] = []
        self.samples = []
        try:
            deployment = self.backend.deployment(cell, cell_dir)
            with deployment:
                ready_seconds = round(time.monotonic() - clock, 3)
                self.say(f"{prefix} {cell.name}: ready in {ready_seconds:.0f} s; Locust running")
                load = deployment.start_load(settings)
                self.progress.start_cell(position, cell.name, settings.run_time_seconds, label)
                locust_exit, stopped = self.watch(prefix, cell_dir, deployment, load, stop_when)
                self.progress.end_line()
            if not csv_paths(cell_dir)["stats"].is_file():
                status = "failed"
                error = f"Locust wrote no statistics (exit {locust_exit}); its log {load.log_path}:\n{load.log_tail()}"
            elif locust_exit and stopped is None:
                self.say(f"note: Locust exited with code {locust_exit}; see {load.log_path}")
        except interrupts.RunInterrupted as signal_error:
            status, error = "interrupted", str(signal_error)
        except (BackendError, OSError) as failure:
            status, error = "failed", str(failure)
        finally:
            with interrupts.shielded():
                self.progress.end_line()
                if deployment is not None:
                    records = deployment.replica_records()
                    for problem in deployment.problems:
                        self.say(f"cleanup problem: {problem}")
                record = self.record(
                    position,
                    cell,
                    settings,
                    CellOutcome(status, error, stopped, ready_seconds),
                    started_at,
                    time.monotonic() - clock,
                    deployment,
                    load,
                    locust_exit,
                    records,
                )
                self.gate(cell_dir, record, print_verdict)
        return cell_dir

    def watch(
        self, prefix: str, cell_dir: Path, deployment: Deployment, load: LoadRun, stop_when: StopCheck | None
    ) -> tuple[int, str | None]:
        """Wait for Locust to finish (or `stop_when` to give a reason), restarting dead replicas and
        showing progress; Locust's exit code and the reason it was stopped early, if it was."""
        history = csv_paths(cell_dir)["stats_history"]
        next_sample = next_check = 0.0
        stopped: str | None = None
        while (code := load.poll()) is None:
            if time.monotonic() > load.deadline:
                raise BackendError(f"Locust did not finish in time; its log {load.log_path}:\n{load.log_tail()}")
            for event in deployment.supervise():
                self.say(event)
            if time.monotonic() >= next_sample:
                self.samples.append(deployment.sample())
                next_sample = time.monotonic() + SAMPLE_SECONDS
            self.progress.update(history)
            if stop_when is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + STOP_CHECK_SECONDS
                stopped = stop_when(history)
                if stopped is not None:
                    self.say(f"{prefix} {cell_dir.name}: stopping the load early: {stopped}")
                    break
            time.sleep(POLL_SECONDS)
        self.samples.append(deployment.sample())
        self.progress.update(history)
        stop_code = load.stop()  # reaps it (Locust writes its CSVs on SIGTERM) and ends its process group
        return (code if code is not None else stop_code), stopped

    def record(
        self,
        position: int,
        cell: Cell,
        settings: LoadSettings,
        outcome: CellOutcome,
        started_at: datetime,
        duration: float,
        deployment: Deployment | None,
        load: LoadRun | None,
        locust_exit: int | None,
        records: list[ReplicaRecord],
    ) -> RunRecord:
        """The cell's run.json."""
        config = self.config
        warnings = load.cpu_warnings() if load is not None else []
        for warning in warnings:
            self.say(f"Locust CPU warning: {warning}")
        return cell_record(
            cell,
            config.backend,
            self.backend,
            deployment,
            load,
            (locust_exit, load.log_path.name if load is not None else ""),
            settings.scenario,
            (self.commit, self.dirty),
            status=outcome.status,
            error=outcome.error,
            stopped_early=outcome.stopped_early,
            ready_seconds=outcome.ready_seconds,
            profile=config.profile,
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            run_time=config.run_time if settings == config.load else f"{settings.run_time_seconds}s",
            run_time_seconds=settings.run_time_seconds,
            thresholds=str(config.thresholds),
            started_at=started_at,
            ended_at=now(),
            duration_seconds=round(duration, 3),
            locust_cpu_warnings=warnings,
            replica_records=records,
            matrix=MatrixInfo(run_id=self.run_id, position=position, planned=[c.name for c in config.cells]),
            warmup=settings.warmup,
            generator_capacity_rps=self.calibration.for_workers(load.workers)
            if self.calibration and load is not None
            else None,
            samples=self.samples,
        )

    def gate(self, cell_dir: Path, record: RunRecord, print_verdict: bool = True) -> None:
        """Write run.json, then judge a completed cell (verdict.json, timeline.png, summary.md); explain any other."""
        name = record.cell
        if record.status != "completed":
            write_record(cell_dir / RUN_FILE, record)
            reason = (
                f"The cell was {'cut short' if record.status == 'interrupted' else 'not completed'}: {record.error}"
            )
            write_atomic(cell_dir / SUMMARY_FILE, render_cannot_judge(reason))
            self.say(f"{name}: {record.status.upper()} — not judged: {first_line(record.error)}")
            return
        try:
            _, verdict = judge_record(cell_dir, record, self.config.slo)
        except GateInputError as error:
            write_atomic(cell_dir / SUMMARY_FILE, render_cannot_judge(str(error)))
            self.say(f"{name}: CANNOT JUDGE — {first_line(str(error))}")
            return
        if print_verdict:
            self.say(f"{name}: {verdict_line(verdict)}")


def offered_load_line(load: LoadSettings, slo: Slo) -> str:
    """What the scenario's users ask of a cell, and what keeping up with them takes."""
    return load.scenario.asked_line(load.users, slo.max_p95_ms)


def backend_lines(backend: Backend) -> list[str]:
    """Where the replicas run and how they are limited; a loud banner when they are not."""
    lines = [backend.describe()]
    if not backend.limits_enforced:
        lines.append(
            _banner(
                "limits_enforced: false — the replicas will run WITHOUT CPU/memory limits: "
                f"{backend.limits_not_enforced_reason}"
            )
        )
    return lines


def _banner(text: str) -> str:
    line = "!" * min(100, max(40, len(text) // 2))
    return f"{line}\n!!! {text}\n{line}"
