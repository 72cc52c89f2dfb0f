"""The SLO judged with its uncertainty, look after look (issue 21), on a cell's histograms.

Each latency limit ("P95 <= 1,000 ms": at most 5% of the intended requests over 1,000 ms, failed or never
answered) and the error rate ("at most 1% of the intended requests fail") is a share of intended requests,
counted per time block of the judged window (requests belong to it by their intended send). After each
whole block the run is looked at with `loadtest.gate.confidence.look`: a breach beyond doubt ends it (early,
before `run_time`, if it comes then), a pass comes no sooner than `run_time`'s blocks, and a run still too
close to call, or not steady, goes on up to `max_run_time`'s.

The same replay decides everywhere: the engine's stop check (`SequentialStop`) replays the looks on the
file as Locust writes it, and the gate replays them on the finished file and takes the first look that
decided, so the verdict says what the run stopped on. A folder whose run did not plan its looks (Locust's
web UI, a run of an older version, a hand-made folder) is judged in one look at the blocks it holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.gate.confidence import (
    MIN_BLOCKS,
    BlockCount,
    BlockFigures,
    ConfidenceError,
    Design,
    Limit,
    Look,
    look,
    share_text,
)
from loadtest.gate.latency import mean_ms
from loadtest.gate.reading import AGGREGATED, HistoryRow
from loadtest.latency.recording import (
    FILE_NAME,
    Block,
    IntervalStats,
    Recording,
    RecordingError,
    RecordingFollower,
)
from loadtest.locust_contract import LoadSettings
from loadtest.records import Sequential
from loadtest.thresholds import Slo

P95_ALLOWED = 0.05
"""A P95 limit lets 5% of the intended requests be over it."""
DEFAULT_CONFIDENCE = 0.95
STEADY_TOLERANCE = 0.1
"""The steady-state test tolerates a drift of this share of the P95 limit (100 ms for 1,000 ms): a drift that
small does not move a verdict."""
REPORT_DELAY_SECONDS = 2.0
"""Locust's processes report their counts once a second: a live look waits this long for the last ones."""
TAIL_SECONDS = 5
"""Locust runs this long past the last planned block's answers (its reset lands a second or two after the
ramp's computed end, and the last report needs a second), so the last planned look has its blocks."""


@dataclass(frozen=True)
class LimitSpec:
    """One SLO limit of one scope, as a share of intended requests."""

    check: str
    """The key in thresholds.yaml: max_p95_ms or max_error_rate."""
    scope: str
    limit: float

    @property
    def allowed(self) -> float:
        """The share of intended requests allowed over it."""
        return P95_ALLOWED if self.check == "max_p95_ms" else self.limit

    @property
    def name(self) -> str:
        """How the reasons name it: `P95 1,000 ms`, `error rate of POST /predict`."""
        of = "" if self.scope == AGGREGATED else f" of {self.scope}"
        if self.check == "max_p95_ms":
            return f"P95{of} {self.limit:,g} ms"
        return f"error rate{of}"

    def count(self, stats: IntervalStats) -> BlockCount:
        """A block's count over the limit: slow, failed or never answered for a latency limit; failed for
        the error rate."""
        over = stats.over(self.limit) if self.check == "max_p95_ms" else stats.failed
        return BlockCount(over=over, intended=stats.intended)


def slo_limits(slo: Slo) -> list[LimitSpec]:
    """Every latency and error-rate limit of the SLO: the Aggregated ones first, then each endpoint's."""
    limits = [
        LimitSpec("max_error_rate", AGGREGATED, slo.max_error_rate),
        LimitSpec("max_p95_ms", AGGREGATED, slo.max_p95_ms),
    ]
    for scope, endpoint in slo.endpoints.items():
        if endpoint.max_error_rate is not None:
            limits.append(LimitSpec("max_error_rate", scope, endpoint.max_error_rate))
        if endpoint.max_p95_ms is not None:
            limits.append(LimitSpec("max_p95_ms", scope, endpoint.max_p95_ms))
    return limits


def answer_seconds(slo: Slo) -> int:
    """The longest latency limit, in whole seconds: a request intended later than this before the books
    closed had less time to be answered than the limit allows, so the judged window ends that early."""
    limits = [slo.max_p95_ms, *(e.max_p95_ms for e in slo.endpoints.values() if e.max_p95_ms is not None)]
    return math.ceil(max(limits) / 1000)


@dataclass(frozen=True)
class RunPlan:
    """How long a cell's judged window lasts at `run_time` and at most, and the confidence: its design."""

    run_seconds: float
    max_seconds: float
    confidence: float = DEFAULT_CONFIDENCE
    block_seconds: float | None = None
    """None: `Design.plan`'s choice (5 s, shorter for a short window)."""

    @classmethod
    def of_load(
        cls,
        run_time_seconds: float,
        max_run_time_seconds: float | None,
        ramp_seconds: float,
        confidence: float = DEFAULT_CONFIDENCE,
    ) -> RunPlan:
        """A cell's plan: Locust's run time less the ramp (not judged), extended up to `max_run_time_seconds`
        (None: no extension)."""
        longest = max(run_time_seconds, max_run_time_seconds or run_time_seconds)
        return cls(max(0.0, run_time_seconds - ramp_seconds), max(0.0, longest - ramp_seconds), confidence)

    def design(self) -> Design:
        """The looks' design (ConfidenceError: too short for even `MIN_BLOCKS` blocks)."""
        return Design.plan(self.run_seconds, self.max_seconds, self.confidence, self.block_seconds)

    def locust_seconds(self, ramp_seconds: float, answer: int) -> int:
        """How long Locust must be able to run for the last planned look: the ramp, the longest judged
        window, the longest latency limit to answer its last requests, and a tail."""
        return math.ceil(ramp_seconds + self.max_seconds + answer + TAIL_SECONDS)


def ramp_seconds(users: int, spawn_rate: float, warmup: str) -> float:
    """How long the ramp that is not judged lasts (the warm-up `spawn`), as Locust spawns: 0 without one."""
    return math.ceil(users / spawn_rate) if warmup == "spawn" and spawn_rate > 0 else 0.0


@dataclass(frozen=True)
class Judged:
    """The looks at a recording's judged window."""

    design: Design
    look: Look
    """The first look that decided, else the last one (its decision `continue`)."""
    blocks: list[Block]
    """Every whole block of the window (the look may have decided on fewer)."""
    limits: list[LimitSpec]

    @property
    def start(self) -> int:
        """The judged window's first second (Unix)."""
        return self.blocks[0].start

    @property
    def end(self) -> int:
        """The end of the blocks the deciding look judged (Unix, exclusive)."""
        return self.blocks[0].start + round(self.look.blocks * self.design.block_seconds)


def block_figures(blocks: Sequence[Block]) -> list[BlockFigures]:
    """Each block's throughput, corrected P95 and mean schedule lag, for the steady-state test. A block whose
    P95 was never answered has none (its share over the limit says it)."""
    figures = []
    for block in blocks:
        stats = block.stats
        seconds = block.end - block.start
        p95 = stats.corrected_percentiles().p95_ms
        lags = [value for value in (mean_ms(stats.lag_service), mean_ms(stats.lag_generator)) if value is not None]
        figures.append(
            BlockFigures(
                throughput=stats.completed / seconds if seconds else None,
                p95_ms=p95 if math.isfinite(p95) else None,
                lag_ms=sum(lags) if lags else None,
            )
        )
    return figures


def block_counts(recording: Recording, limits: Sequence[LimitSpec], blocks: Sequence[Block]) -> list[list[BlockCount]]:
    """Each limit's count per block, from its own scope's requests (an endpoint's limit counts only that
    endpoint's)."""
    counts: list[list[BlockCount]] = [[] for _ in limits]
    for block in blocks:
        part = recording.window(block.start, block.end)
        for index, spec in enumerate(limits):
            stats = block.stats if spec.scope == AGGREGATED else part.total(spec.scope)
            counts[index].append(spec.count(stats))
    return counts


def replay(
    design: Design,
    limits: Sequence[LimitSpec],
    blocks: Sequence[Block],
    recording: Recording,
    tolerance_ms: float,
    once: bool = False,
) -> Look | None:
    """Every look a run makes after each whole block, in order: the first that decides, else the last
    (None: fewer than `MIN_BLOCKS` blocks, no look yet). `once`: only the last look (a run that did not plan
    its looks was not stopped by any earlier one)."""
    counts = block_counts(recording, limits, blocks)
    figures = block_figures(blocks)
    last: Look | None = None
    looks = min(len(blocks), design.max_blocks)
    for k in range(looks if once else MIN_BLOCKS, looks + 1):
        last = look(
            design,
            [Limit(spec.name, spec.allowed, per_block[:k]) for spec, per_block in zip(limits, counts, strict=True)],
            figures[:k],
            tolerance_ms,
        )
        if last.decision != "continue":
            break
    return last


def window_blocks(recording: Recording, start: int, end: float, block_seconds: float) -> list[Block]:
    """The whole blocks of intended sends in [start, end)."""
    return recording.window(start, math.floor(end)).blocks(max(1, round(block_seconds)), start=start)


def judge(recording: Recording, slo: Slo, plan: RunPlan | None, start: int, end: float) -> Judged:
    """The finished run's looks, replayed: the first that decided, else a final look at what it holds.

    `plan`: the looks the run planned (None: one look at the whole window). A window shorter than the plan's
    `run_time` is the planned looks' breach when one of them decided (the run stopped early), else (an older
    run, or one cut short) judged in one look at the blocks it holds; one that
    ended before `max_run_time` while still too close to call is inconclusive. ConfidenceError when the window
    is too short for any bound.
    """
    limits = slo_limits(slo)
    tolerance = STEADY_TOLERANCE * slo.max_p95_ms
    confidence = plan.confidence if plan is not None else slo.confidence
    available = max(0.0, math.floor(end) - start)
    design: Design | None = None
    if plan is not None and plan.run_seconds > 0:
        planned = plan.design()
        if available >= planned.run_blocks * planned.block_seconds:
            design = planned
        else:
            # Stopped before run_time: by a breach beyond doubt at a planned look (the stop check's), which
            # the same looks find again; else it ended short for another reason and gets one look below.
            early = window_blocks(recording, start, end, planned.block_seconds)
            found = replay(planned, limits, early, recording, tolerance) if len(early) >= MIN_BLOCKS else None
            if found is not None and found.decision != "continue":
                return Judged(planned, found, early, limits)
    # One look at the whole window (at the last look's level of a design that could have looked at every
    # block: conservative) when the run planned none, or ended before its plan's run_time.
    once = design is None
    if design is None:
        if available < MIN_BLOCKS:
            raise ConfidenceError(
                f"the judged window holds {available:g} s: too short for a confidence bound (at least "
                f"{MIN_BLOCKS} blocks of 1 s)"
            )
        design = Design.plan(available, available, confidence)
    blocks = window_blocks(recording, start, end, design.block_seconds)
    if len(blocks) < MIN_BLOCKS:  # seconds without a request at the window's end
        raise ConfidenceError(
            f"the judged window holds {len(blocks)} whole block(s) of {design.block_seconds:g} s: too short "
            f"for a confidence bound (at least {MIN_BLOCKS})"
        )
    decided = replay(design, limits, blocks, recording, tolerance, once)
    assert decided is not None  # at least MIN_BLOCKS blocks
    return Judged(design, decided, blocks, limits)


def sequential_record(judged: Judged) -> Sequential:
    """verdict.json's account of the looks."""
    found = judged.look
    design = judged.design
    decision = "inconclusive" if found.decision == "continue" else found.decision
    steady = found.steadiness
    return Sequential(
        confidence=design.confidence,
        block_seconds=design.block_seconds,
        blocks=found.blocks,
        run_blocks=design.run_blocks,
        max_blocks=design.max_blocks,
        decision=decision,
        stopped_early=found.stopped_early,
        extended=found.blocks > design.run_blocks,
        steady=steady.steady if steady is not None else None,
        steadiness=steady.reason if steady is not None else None,
    )


def interval_text(estimate: float, lower: float, upper: float) -> str:
    """`5.3% [4.1%, 6.6%]`."""
    return f"{share_text(estimate)} [{share_text(lower)}, {share_text(upper)}]"


# --------------------------------------------------------------------------- while Locust runs


@dataclass
class _Ramp:
    """Where the judged window starts, from Locust's history as it comes: the last reset of its statistics
    (totals that fall), else the first row at the most users (the gate's `judged_window`)."""

    users: int
    start: int | None = None
    _last: HistoryRow | None = None
    _peak: int = 0

    def see(self, row: HistoryRow) -> None:
        if self._last is not None and row.requests < self._last.requests:
            self.start = row.timestamp
        elif row.users > self._peak:
            self._peak = row.users
            if row.users >= self.users:
                self.start = row.timestamp
        self._last = row


class SequentialStop:
    """The engine's stop check that ends a cell once its looks decided (see `StopCheck` in
    loadtest.runner.engine): a breach beyond doubt (early, before `run_time`), a pass from `run_time` on, an
    inconclusive at `max_run_time`. It reads the cell's histograms as Locust writes them and looks after each
    block whose requests have all had the longest latency limit to be answered."""

    def __init__(
        self,
        follower: RecordingFollower,
        slo: Slo,
        plan: RunPlan,
        users: int,
        warmup: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.follower, self.slo, self.plan, self.clock = follower, slo, plan, clock
        self.design = plan.design()
        self.limits = slo_limits(slo)
        self.answer = answer_seconds(slo)
        self.warmup = warmup
        self.ramp = _Ramp(users)
        self.look: Look | None = None
        """The look that decided (None: none yet)."""
        self.problem: str | None = None
        """Why the histograms could not be read live (the gate will say it too); no look after it."""
        self._looked = 0

    @property
    def early(self) -> bool:
        """The decision is a breach before `run_time`."""
        return self.look is not None and self.look.stopped_early

    def __call__(self, rows: Sequence[HistoryRow]) -> str | None:
        """Why to stop now (None: go on)."""
        for row in rows:
            self.ramp.see(row)
        start = self.ramp.start if self.warmup == "spawn" else None
        if (self.warmup == "spawn" and start is None) or self.look is not None or self.problem is not None:
            return None
        try:
            recording = self.follower.read()
        except RecordingError as error:
            self.problem = str(error)
            return None
        if recording is None or not recording.cells:
            return None
        first = start if start is not None else recording.seconds()[0]
        until = self.clock() - REPORT_DELAY_SECONDS - self.answer
        blocks = window_blocks(recording, first, until, self.design.block_seconds)
        if len(blocks) <= self._looked or len(blocks) < MIN_BLOCKS:
            return None
        self._looked = len(blocks)
        found = replay(self.design, self.limits, blocks, recording, STEADY_TOLERANCE * self.slo.max_p95_ms)
        if found is None or found.decision == "continue":
            return None
        self.look = found
        word = {"pass": "pass", "breach": "breach", "inconclusive": "inconclusive"}[found.decision]
        return f"decided after {found.seconds:g} s of judged load: {word}: {found.reason}"


def cell_stop(folder: Path, slo: Slo, load: LoadSettings) -> tuple[SequentialStop, int] | None:
    """The stop check for a cell of our locustfile (it writes `folder`'s histograms) and how long Locust may
    run for its planned looks: the ramp, `max_run_time`'s judged window (`run_time`'s without an extension),
    the longest latency limit and a tail.
    Without it Locust would stop at `run_time`, and the last blocks' requests would have no time to be
    answered. None: the run is too short for a confidence bound (the gate says so)."""
    ramp = ramp_seconds(load.users, load.spawn_rate, load.warmup)
    plan = RunPlan.of_load(load.run_time_seconds, load.max_run_time_seconds, ramp, slo.confidence)
    try:
        stop = SequentialStop(RecordingFollower(Path(folder) / FILE_NAME), slo, plan, load.users, load.warmup)
    except ConfidenceError:
        return None
    return stop, plan.locust_seconds(ramp, answer_seconds(slo))
