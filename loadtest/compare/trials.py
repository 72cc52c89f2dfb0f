"""The trials: both sides in randomised blocks, one short run each, alternately or at the same time.

Block after block, one base trial and one head trial run back to back in an order drawn at random
(A B, B A, B A, A B ...; balanced in pairs, `orders`), so neither side runs first more often; or, in a
duet (`duet`), at the same time on the same cores, the order saying which side starts first. Each
trial is a cell of the cell engine (`loadtest.runner.engine`: replicas started fresh under the cell's
limits, Locust, run.json, the gate's verdict.json) in `trials/NN-<side>/`; its ramp is not judged.
A trial gives one value per metric, from the Aggregated row of its judged window; a trial that
the gate finds inconclusive (Locust saturated, limits not enforced) gives none.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from loadtest.gate.measurement import cpu_seconds_per_request
from loadtest.gate.reading import HistoryRow
from loadtest.locust_contract import LoadSettings
from loadtest.records import PHASE_METRICS, Figures, PhaseName, RunOutcome, SideRole, TrialRecord
from loadtest.results import CellResult
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend
from loadtest.runner.backends.compose import ComposeBackend
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.engine import CellEngine, CellRequest, MessageKind
from loadtest.runner.linux.cgroup_stats import format_cpu_list
from loadtest.runner.linux.sockets import free_ports
from loadtest.runner.matrix import Cell
from loadtest.runner.matrix_run import run_engine
from loadtest.runner.placement import Placement
from loadtest.runner.run_options import RunConfig
from loadtest.scenario import Pace
from loadtest.thresholds import ComparedMetric
from loadtest.util.units import Duration

if TYPE_CHECKING:  # the statistics (scipy) are not needed to run a trial
    from loadtest.compare.statistics import Block, Measures

TRIALS_DIR = "trials"
T = TypeVar("T")


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of the plan."""

    index: int
    """1-based, in running order."""
    block: int
    role: SideRole
    placement: Placement | None = None
    """A duet's: the CPUs its replicas and its Locust are pinned to (None: not pinned)."""
    phase: PhaseName = "capacity"
    load_rps: float | None = None
    """The load phase's fixed rate, every user together."""

    def __post_init__(self) -> None:
        if (self.phase == "load") != (self.load_rps is not None):
            raise ValueError(f"a {self.phase} phase with load_rps {self.load_rps}: a fixed rate is the load phase's")

    @property
    def folder(self) -> str:
        """Its folder under trials/, e.g. `03-head-capacity`."""
        return f"{self.index:02d}-{self.role}-{self.phase}"

    def record(
        self,
        outcome: RunOutcome,
        reasons: list[str],
        figures: Figures | None,
        started_at: datetime,
        seconds: float,
        points: str | None = None,
        cpu_ms_per_request: float | None = None,
        undecided: bool = False,
    ) -> TrialRecord:
        """Its record in comparison.json, whatever ran it (the engine's cell, or a test's scripted lab)."""
        return TrialRecord(
            index=self.index,
            block=self.block,
            role=self.role,
            phase=self.phase,
            load_rps=self.load_rps,
            folder=f"{TRIALS_DIR}/{self.folder}",
            outcome=outcome,
            reasons=reasons,
            figures=figures,
            points=points,
            started_at=started_at,
            duration_seconds=round(seconds, 3),
            cores=format_cpu_list(self.placement.replicas) if self.placement is not None else None,
            locust_cores=format_cpu_list(self.placement.locust) if self.placement is not None else None,
            cpu_ms_per_request=cpu_ms_per_request,
            undecided=undecided,
        )


def trial_record(result: CellResult, planned: PlannedTrial, started_at: datetime, seconds: float) -> TrialRecord:
    """What the trial's cell gave: valid figures, the gate's doubts, or why it did not run."""

    points = result.verdict.points if result.verdict is not None else None

    def record(outcome: RunOutcome, reasons: list[str], figures: Figures | None = None) -> TrialRecord:
        return planned.record(outcome, reasons, figures, started_at, seconds, points)

    verdict, failure = result.verdict, result.failure
    if failure is not None or verdict is None:
        # Cut short, broke, or the gate could not judge it (no requests, a broken locustfile): say why, as it did.
        return record(result.outcome, [failure.reason if failure is not None else "the trial has no verdict"])
    # Pass or breach alike measured the service: the comparison does not judge the SLO. Nor does an inconclusive
    # that is only the SLO too close to call (a fixed load's corrected P95 near its limit while the host stalled).
    undecided = verdict.outcome == "inconclusive" and verdict.measured is True
    cpu = cpu_seconds_per_request(verdict.resources, result.record.api_cpus, verdict.figures.rps)
    return planned.record(
        result.outcome,
        verdict.reasons if verdict.outcome == "inconclusive" and not undecided else [],
        verdict.figures,
        started_at,
        seconds,
        points,
        cpu * 1000 if cpu is not None else None,
        undecided,
    )


def blocks_of(trials: Sequence[TrialRecord]) -> list[Block]:
    """Each block that ran, in order: its base and head measures (`side_measures`)."""
    sides: dict[int, dict[SideRole, list[TrialRecord]]] = {}
    for trial in trials:
        sides.setdefault(trial.block, {}).setdefault(trial.role, []).append(trial)
    return [
        (side_measures(sides[block].get("base", [])), side_measures(sides[block].get("head", [])))
        for block in sorted(sides)
    ]


def side_measures(trials: Sequence[TrialRecord]) -> Measures | None:
    """One side's measures in one block, from its trials there (a phase each): each metric from the phase
    that measures it, the error rate over every request of both. None unless every one of them is valid."""
    if not trials or not all(trial.valid and trial.figures is not None for trial in trials):
        return None
    measures: dict[ComparedMetric, float | None] = {}
    for trial in trials:
        measures.update({metric: trial.value(metric) for metric in PHASE_METRICS[trial.phase]})
    requests = sum(trial.figures.requests for trial in trials if trial.figures is not None)
    failures = sum(trial.figures.failures for trial in trials if trial.figures is not None)
    measures["error_rate"] = failures / requests if requests else None
    return measures


def fixed_load(load: LoadSettings, rate: float, seconds: int) -> LoadSettings:
    """`load` at a fixed rate of `rate` requests per second, every user together, for `seconds`: each kind of
    user asks at the same rate per user on its own schedule (an open loop), so the rate holds whatever the
    replies do, and each request is timed from when it should have been sent."""
    per_user = Pace(rate=rate / load.users)
    scenario = load.scenario
    paced = scenario.model_copy(
        update={"users": {name: kind.with_pace(per_user) for name, kind in scenario.users.items()}}
    )
    return replace(load, scenario=paced, run_time_seconds=seconds)


class TrialProgress:
    """A trial's `CellProgress`: only what happened to the cell reaches the terminal (a replica restarted,
    Locust's exit code, a cleanup problem); its steps and verdict speak of the SLO, not judged here."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def message(self, text: str, kind: MessageKind) -> None:
        """Pass on events and problems, indented under the trial's line."""
        if kind in ("event", "problem"):
            self.say(f"  {text.strip()}")

    def load_started(self, request: CellRequest) -> None:
        """Nothing to show: the comparison says which trial runs."""

    def history(self, rows: Sequence[HistoryRow]) -> None:
        """Nothing to show while it runs."""

    def cell_ended(self, result: CellResult) -> None:
        """Nothing to show: the comparison prints the trial's line."""


class TrialRunner:
    """Runs one trial of either side: a cell of that side's engine (its backend and the commit it serves)."""

    def __init__(
        self,
        run_config: RunConfig,
        cell: Cell,
        backends: dict[SideRole, Backend],
        served: dict[SideRole, tuple[str | None, bool | None]],
        cwd: Path,
        say: Callable[[str], None],
        load_time: Duration | None = None,
    ) -> None:
        """`run_config`'s load and run time are the capacity phase's; `load_time` is the load phase's length
        (default: the same)."""
        self.run_config, self.cell = run_config, cell
        self.load_time = load_time or run_config.run_time
        self.engines: dict[SideRole, CellEngine] = {
            role: run_engine(run_config, backend, cwd, served[role]) for role, backend in backends.items()
        }
        self.progress = TrialProgress(say)

    def run(self, planned: PlannedTrial, together: StartTogether | None = None, port: int | None = None) -> TrialRecord:
        """Run it into trials/NN-side/ (pinned to its placement, if it has one); what it gave. In a duet,
        `together` starts its load with the other side's, and `port` is its own."""
        load, run_time = self.run_config.load, self.run_config.run_time
        if planned.load_rps is not None:
            load, run_time = fixed_load(load, planned.load_rps, self.load_time.seconds), self.load_time
        request = CellRequest(
            cell=self.cell,
            load=load,
            folder=self.run_config.out / planned.folder,
            label=f"trial {planned.index}",
            run_time=run_time.text,
        )
        engine = self.engines[planned.role]
        if planned.placement is not None or together is not None:
            view = duet_view(engine.backend, planned.placement, together, port, planned.role)
            engine = replace(engine, backend=view)
        started_at, clock = datetime.now(UTC), time.monotonic()
        result = engine.run_cell(request, self.progress)
        return trial_record(result, planned, started_at, time.monotonic() - clock)

    def run_together(self, planned: Sequence[PlannedTrial]) -> list[TrialRecord]:
        """A duet's block: its trials at the same time, each on its placement and its own port, their loads
        started together; their records in the order given."""
        together = StartTogether(len(planned))
        ports = free_ports(len(planned))  # distinct: both sides' replicas bind with SO_REUSEPORT

        def trial(one: PlannedTrial, port: int) -> Callable[[], TrialRecord]:
            def run() -> TrialRecord:
                try:
                    return self.run(one, together, port)
                finally:
                    together.leave()  # a side that ends before its load starts must not hold the other back

            return run

        return at_once([trial(one, port) for one, port in zip(planned, ports, strict=True)])


def duet_view(
    backend: Backend,
    placement: Placement | None,
    together: StartTogether | None,
    port: int | None,
    role: SideRole,
) -> Backend:
    """`backend` pinned to `placement`, its replicas (the process backend's cgroups, the compose backend's
    projects) named after `role` (both sides run the same cell at once), its load started with the other
    side's; on the process backend on `port` (a --port of the user's would have both sides on it; each
    compose project has a network of its own)."""
    before_load = together.arrive if together is not None else None
    if isinstance(backend, ComposeBackend):
        containers = backend.pinned(placement, role)
        containers.before_load = before_load
        return containers
    if not isinstance(backend, ProcessBackend):
        raise TypeError(f"a duet needs the process or compose backend, not {backend.name}")  # a bug if reached
    view = backend.pinned(placement, role)
    view.port = port if port is not None else view.port
    view.before_load = before_load
    return view


class StartTogether:
    """Holds each of `parties` sides back, its replicas ready, until every side is ready or has ended, so a
    duet's two loads start in the same second (their replicas' start-up times differ by up to a second)."""

    WAIT_SECONDS = 120.0
    """The longest a ready side waits for the other (its replicas' ready timeout is the other's bound)."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = self.left = 0
        self.condition = threading.Condition()

    def arrive(self) -> None:
        """This side is ready: wait until every side is, or one ended without getting there."""
        with self.condition:
            self.arrived += 1
            self.condition.notify_all()
            self.condition.wait_for(
                lambda: self.arrived >= self.parties or self.left > 0 or interrupts.received() is not None,
                timeout=self.WAIT_SECONDS,
            )

    def leave(self) -> None:
        """This side's trial ended (ran, or broke before its load): nobody waits for it any more."""
        with self.condition:
            self.left += 1
            self.condition.notify_all()


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Each call in a thread of its own, all at the same time; their results in order, once all ended.

    Signals reach this (the main) thread only: a Ctrl-C raises here while the calls run; they are waited
    for (each cell's engine sees `interrupts.received()` and cuts its cell short) and their results
    returned, as a single trial's engine returns its cut-short cell. An exception in a call is raised here
    once every call ended.
    """
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)
    # Waited for on events, not Thread.join: a join that a signal handler's exception interrupts marks a
    # still-running thread stopped (CPython 3.11's _wait_for_tstate_lock releases its lock), so a second
    # join returns at once.
    ended = [threading.Event() for _ in calls]

    def run(position: int) -> None:
        try:
            results[position] = calls[position]()
        except BaseException as error:  # carried to the main thread, raised there
            errors[position] = error
        finally:
            ended[position].set()

    try:
        with interrupts.shielded():  # every thread started (a signal meanwhile is raised once they are)
            for position in range(len(calls)):
                threading.Thread(target=run, args=(position,), daemon=True).start()
        wait_for(ended)
    except interrupts.RunInterrupted:
        with interrupts.shielded():
            wait_for(ended)
    for error in errors:
        if error is not None:
            raise error
    return cast(list[T], results)  # every call returned: no error was raised above


WAKE_SECONDS = 0.25
"""How often the main thread wakes while it waits: a signal the kernel delivered to another thread runs
its Python handler only when the main thread runs bytecode, never while it blocks on a lock."""


def wait_for(events: Sequence[threading.Event]) -> None:
    """Until every event is set, waking every `WAKE_SECONDS` so a signal's handler can run (and raise)."""
    for event in events:
        while not event.wait(WAKE_SECONDS):
            pass
