"""A probe: one configuration run once by the cell engine, judged like any cell, stopped once its looks decided.

A probe is a cell of the engine (`CellEngine.run_cell`) with a short load: the ramp (its warm-up, not
judged: Locust resets its statistics once every user runs) and a measured window. While it runs, its
`EarlyStop` is the cells' own sequential rule (`loadtest.gate.sequential.SequentialStop`, issue 21): after
each whole block of the window it replays the gate's looks on the probe's histograms, and a breach beyond
doubt stops the load (early, before the window's end), a pass or an inconclusive once the window is
judged. The gate replays the same looks on the finished probe, so the probe's verdict is the one the
looks stopped on. A probe is decided beyond doubt or run once more: an inconclusive one, and one judged
from Locust's figures as points (its window too short for a confidence bound), whose pass or breach would
rule configurations in or out on a coin toss; the second run's verdict stands. A locustfile of one's own
records no histograms: its probe is stopped only by the budget, and judged as points.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.gate.reading import HistoryRow
from loadtest.gate.sequential import cell_stop
from loadtest.locust_contract import LoadSettings
from loadtest.records import OUTCOME_WORDS, Figures, ProbeOutcome, RunRecord
from loadtest.results import CellResult, Interrupted, NotReady, RunFailed
from loadtest.runner.engine import CellEngine, CellProgress, CellRequest, StopCheck, now
from loadtest.runner.matrix import Cell
from loadtest.search.budget import Budget
from loadtest.search.grid import cost_unit
from loadtest.search.memory import oom_kills, replica_peaks
from loadtest.search.records import PROBES_DIR, ProbeKind, ProbeRecord, cell_fields
from loadtest.search.state import SearchState
from loadtest.thresholds import Slo
from loadtest.util.text import first_line
from loadtest.util.units import format_clock, format_ms, format_rate

MARGIN = 0.9
"""A confirmation run must keep P95 at or under this share of the limit."""
OUT_OF_BUDGET = "the search's budget ran out"


class EarlyStop:
    """The engine's stop check for one probe (see `loadtest.runner.engine.StopCheck`): the search's budget,
    then the probe's looks (None: a locustfile without our histograms, stopped only by the budget)."""

    def __init__(
        self,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        looks: StopCheck | None = None,
    ) -> None:
        self.deadline, self.clock, self.looks = deadline, clock, looks
        self.out_of_budget = False

    def __call__(self, rows: Sequence[HistoryRow]) -> str | None:
        """Why to stop now, from the history's rows new since the last call (None: go on)."""
        if self.deadline is not None and self.clock() >= self.deadline:
            self.out_of_budget = True
            return OUT_OF_BUDGET
        return self.looks(rows) if self.looks is not None else None


@dataclass(frozen=True)
class Judgement:
    """What one probe's cell gave, as the search counts it."""

    outcome: ProbeOutcome
    reason: str | None
    figures: Figures | None
    record: RunRecord | None
    delivered_ratio: float | None = None
    points: str | None = None
    """The verdict's `points` (judged without a confidence bound)."""


def judge(result: CellResult, margin_ms: float | None = None) -> Judgement:
    """What a probe's cell says for the search; `margin_ms`: the P95 a pass must also keep under.

    A configuration that was OOM-killed, or had too little CPU to get ready, breached: it cannot serve
    under those limits. A cell that broke otherwise says nothing about the configuration.
    """
    record, verdict, failure = result.record, result.verdict, result.failure

    def judged(outcome: ProbeOutcome, reason: str | None) -> Judgement:
        delivered = verdict.delivery.ratio if verdict is not None and verdict.delivery is not None else None
        points = verdict.points if verdict is not None else None
        return Judgement(outcome, reason, verdict.figures if verdict is not None else None, record, delivered, points)

    kills = oom_kills(record)
    if isinstance(failure, Interrupted):
        return judged("cut short", failure.reason)
    if kills:
        return judged("breach", f"OOM-killed {kills} time(s) under the {record.memory} limit")
    if isinstance(failure, NotReady):
        return judged("breach", f"not ready under its limits: {first_line(failure.reason)}")
    if isinstance(failure, RunFailed):
        return judged("failed to run", first_line(failure.reason))
    if record.stopped_early == OUT_OF_BUDGET:
        return judged("out of budget", OUT_OF_BUDGET)
    if verdict is None:
        why = first_line(failure.reason) if failure is not None else "no verdict"
        return judged("cannot judge", f"the gate could not judge it: {why}")
    if verdict.outcome == "inconclusive":
        return judged("inconclusive", "; ".join(verdict.reasons))
    # Stopped by its looks or not, the verdict is the looks' (the gate replays them on the finished probe).
    if verdict.outcome == "breach":
        return judged("breach", "; ".join(verdict.reasons))
    if margin_ms is not None and verdict.p95_ms > margin_ms:
        return judged(
            "breach", f"P95 {verdict.p95_ms:,.0f} ms, over the {margin_ms:,.0f} ms margin ({MARGIN:g} x the limit)"
        )
    return judged("pass", None)


def undecided(record: ProbeRecord) -> str | None:
    """Why a probe's answer is not beyond doubt, so that it is run once more (None: it is): inconclusive, or a
    pass or breach judged from Locust's figures as points. A breach the configuration's own limits caused (an
    OOM kill, not ready) is certain whatever its verdict."""
    if record.outcome == "inconclusive":
        return "was inconclusive"
    if record.outcome in ("pass", "breach") and record.points is not None and not record.oom_kills:
        return "was judged as points, without a confidence bound (its window too short for one)"
    return None


def describe_probe(record: ProbeRecord, unit: str = "CPU") -> str:
    """`probe 3 (cpu) r2-cpu0.1-mem512m, 0.2 CPU: PASS: P95 45 ms, 399.1 req/s, errors 0.00%`."""
    head = (
        f"probe {record.index} ({record.kind}) {record.cell}, {record.cost:g} {unit}: {OUTCOME_WORDS[record.outcome]}"
    )
    figures = record.figures
    measured = (
        f": P95 {format_ms(figures.p95_ms)} ms, {figures.rps:,.1f} req/s, "
        f"errors {format_rate(figures.failures, figures.requests)}"
        if figures is not None
        else ""
    )
    because = f" ({record.reason})" if record.reason and record.outcome != "pass" else ""
    points = " [judged as points, too short for a confidence bound]" if record.points is not None else ""
    return head + measured + because + points


@dataclass(frozen=True)
class Attempt:
    """One run of a probe, as the prober hands it to its trial."""

    index: int
    kind: ProbeKind
    cell: Cell
    settings: LoadSettings
    folder: Path
    """probes/<index>-<kind>-<cell>[-<users>u]/ under the search's folder."""
    stop: EarlyStop
    margin_ms: float | None
    locust_seconds: int | None = None
    """How long Locust may run for the looks' last block to be answered (None: the load's run time)."""


Trial = Callable[[Attempt], Judgement]
"""Runs one attempt and judges it (by default a cell of the engine; a test can script the outcomes)."""


class Prober:
    """Runs probes one after another through one engine, numbering them and recording each in the search's state."""

    def __init__(
        self,
        engine: CellEngine,
        progress: CellProgress,
        state: SearchState,
        slo: Slo,
        out: Path,
        budget: Budget,
        trial: Trial | None = None,
    ) -> None:
        self.engine, self.progress, self.state, self.slo, self.out = engine, progress, state, slo, out
        self.grid, self.budget = state.grid, budget
        self.planned: tuple[str, ...] = ()
        """The cells the run's profile plans (each probe's run.json names them)."""
        self.trial: Trial = trial or self.run_cell
        self.on_record: Callable[[], None] = lambda: None
        """Called after every probe (the search rewrites search.json then)."""

    def probe(self, kind: ProbeKind, cell: Cell, settings: LoadSettings, margin_ms: float | None = None) -> ProbeRecord:
        """Run `cell` once, and once more if it was inconclusive and the budget allows; the last record."""
        record = self.attempt(kind, cell, settings, margin_ms, attempt=1)
        doubt = undecided(record)
        if doubt is not None and self.budget.allows(self.budget.estimate(cell, settings.run_time_seconds)):
            self.say(f"probe {record.index} {doubt}: running {cell.name} once more")
            record = self.attempt(kind, cell, settings, margin_ms, attempt=2)
        return record

    def say(self, text: str) -> None:
        """A line on the terminal."""
        self.progress.message(text, "step")

    def run_cell(self, attempt: Attempt) -> Judgement:
        """The real trial: `attempt` as a cell of the engine, judged for the search."""
        request = CellRequest(
            cell=attempt.cell,
            load=attempt.settings,
            folder=attempt.folder,
            label=f"probe {attempt.index}",
            position=attempt.index,
            planned=self.planned,
            stop=attempt.stop,
            locust_seconds=attempt.locust_seconds,
        )
        return judge(self.engine.run_cell(request, self.progress), attempt.margin_ms)

    def attempt(
        self, kind: ProbeKind, cell: Cell, settings: LoadSettings, margin_ms: float | None, attempt: int
    ) -> ProbeRecord:
        """One run of `cell` into probes/<index>-<kind>-<cell>[-<users>u]/, judged and recorded."""
        index = len(self.state.probes) + 1
        name = f"{index:02d}-{kind}-{cell.name}" + (f"-{settings.users}u" if kind == "capacity" else "")
        folder = self.out / PROBES_DIR / name
        # The probe's looks, where our locustfile records the histograms they read (a window too short for a
        # bound gets none, and is judged as points).
        looks = cell_stop(folder, self.slo, settings) if self.engine.settings.locustfile is None else None
        stop = EarlyStop(self.budget.stop_at, self.budget.clock, looks[0] if looks is not None else None)
        started_at, clock = now(), self.budget.clock()
        locust_seconds = looks[1] if looks is not None else None
        judgement = self.trial(Attempt(index, kind, cell, settings, folder, stop, margin_ms, locust_seconds))
        run = judgement.record
        record = ProbeRecord(
            index=index,
            kind=kind,
            attempt=attempt,
            **cell_fields(cell),
            cost=self.grid.cost(cell),
            users=settings.users,
            spawn_rate=settings.spawn_rate,
            run_time_seconds=settings.run_time_seconds,
            outcome="out of budget" if stop.out_of_budget else judgement.outcome,
            reason=judgement.reason,
            stopped_early=run.stopped_early if run is not None else None,
            figures=judgement.figures,
            delivered_ratio=judgement.delivered_ratio,
            points=judgement.points,
            memory_peak_bytes=replica_peaks(run) if run is not None else [],
            oom_kills=oom_kills(run) if run is not None else 0,
            ready_seconds=run.ready_seconds if run is not None else None,
            started_at=started_at,
            duration_seconds=round(self.budget.clock() - clock, 3),
            folder=str(folder.relative_to(self.out)),
        )
        self.state.probed(record)
        self.budget.observe(record)
        self.say(
            f"{describe_probe(record, cost_unit(self.grid.weights))} [{record.duration_seconds:.0f} s; "
            f"{format_clock(self.budget.used)} of the {format_clock(self.budget.seconds)} budget used]"
        )
        self.on_record()
        return record
