"""The SLO as a share over a limit, a confidence bound that respects correlation, and runs that stop when they know.

Pure: counts per time block in, bounds and decisions out (numpy and scipy; no I/O, no Locust).

"P95 <= 1,000 ms" is the statement "at most 5% of the intended requests take over 1,000 ms, fail, or
are never answered"; "error rate <= 1%" is "at most 1% of the intended requests fail". Each SLO limit is
therefore a share `p` of intended requests, judged against its allowed share `s`.

Requests of the same second are not independent (a CFS period, a GC pause or a stall delays many at
once), so a binomial bound over requests would be far too narrow. The unit is a **time block** (a few
seconds): a block's count over the limit and its count intended (batch means; Schmeiser 1982 found 10-30
batches a good number). Over `k` blocks:

- the estimate is the pooled share `sum(over) / sum(intended)` (a ratio estimator: blocks of unequal
  size weigh by what they hold), its variance the between-block one of that ratio;
- the bound is Korn & Graubard's (1998) for a proportion from clustered data, as R's
  `survey::svyciprop(method = "beta")` computes it: a Clopper-Pearson bound on an effective sample size
  `p(1 - p) / variance`, never more than the requests themselves (so never narrower than a binomial bound
  on independent requests, whatever the blocks show: zero spread between blocks, a deterministic "exactly
  N of every 100", zero counts), and shrunk by `(z / t_{k-1})^2` for the few blocks the spread was
  estimated from.

A run looks at its bounds after every block. Looking repeatedly at a fixed level would inflate the false
verdicts (with 22 looks at 5%, about 15% of healthy runs would read "breach" at some look), so the looks
follow a **group-sequential design** with alpha spending (Lan & DeMets 1983, the Pocock-type function
`alpha ln(1 + (e - 1) t)`): each claim spends its `1 - confidence` over its planned looks, and the bound at a
look is computed at that look's nominal level (repeated confidence bounds, Jennison & Turnbull 1989; with
the spread estimated from the blocks, the nominal levels of the known-variance boundaries applied to
t-based bounds, as Jennison & Turnbull 2000 section 3.8 recommend). A breach is looked for from the third
block on, so that a breach beyond doubt stops the run early; a pass only from `run_time` on, and a run still
too close to call extends block by block up to `max_run_time`. Several limits are judged together: a pass
needs every limit within (an intersection-union test, each at the full level), a breach any one beyond
(Bonferroni: each limit's breach at `alpha / limits`).

The steady-state test compares the first and last thirds of the judged blocks (throughput, corrected P95,
schedule lag): a worsening beyond its tolerance by more than the blocks' noise explains (a one-sided Welch
bound) makes the run "not steady".

Reference: docs/measurement.md ("A verdict with its uncertainty").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.special
from scipy.optimize import brentq

MIN_BLOCKS = 3
"""The fewest blocks any claim is judged on: two leave one degree of freedom for the spread, whose t
quantile (12.7 at 95%, 63.7 at 99%) makes every bound as wide as the whole range."""
BLOCK_SECONDS = 5
"""A block's default length: a 60 s window holds 12, inside the 10-30 batches batch means wants, and each is
many times longer than the stalls that correlate requests (a 100 ms CFS period, a GC pause)."""
STEADY_MIN_BLOCKS = 6
"""The steady-state test compares two thirds of at least two blocks each."""


class ConfidenceError(ValueError):
    """Counts or settings that cannot be judged; the message names the value."""


# --------------------------------------------------------------------------- one bound


@dataclass(frozen=True)
class BlockCount:
    """One time block of one limit: the intended requests over the limit (slow, failed or unanswered), and all."""

    over: int
    intended: int


@dataclass(frozen=True)
class ShareBound:
    """The share over a limit in some blocks, with its two one-sided bounds."""

    estimate: float
    lower: float
    upper: float
    alpha: float
    """The one-sided level of each bound: the true share lies below `lower` (or above `upper`) in at most
    this share of runs."""
    blocks: int
    over: int
    intended: int
    design_effect: float
    """The blocks' variance over what independent requests would give (at least 1; 1 where it cannot be
    estimated: every block the same, or no request over the limit)."""
    standard_error: float
    """Of the estimate, never less than the binomial one."""


def _checked_blocks(blocks: Sequence[BlockCount]) -> tuple[np.ndarray, np.ndarray]:
    over = np.array([block.over for block in blocks], dtype=float)
    intended = np.array([block.intended for block in blocks], dtype=float)
    for index, block in enumerate(blocks, start=1):
        if block.intended < 0 or block.over < 0 or block.over > block.intended:
            raise ConfidenceError(
                f"block {index}: over {block.over} of intended {block.intended}: counts must satisfy "
                "0 <= over <= intended"
            )
    keep = intended > 0  # a block where nothing was intended carries no information about the share
    return over[keep], intended[keep]


def share_bound(blocks: Sequence[BlockCount], alpha: float) -> ShareBound:
    """Korn & Graubard's bounds of the share over a limit, each one-sided at `alpha`, from per-block counts.

    Blocks where nothing was intended are left out. With fewer than two blocks nothing bounds the share:
    the bounds are 0 and 1.
    """
    if not 0 < alpha < 0.5:
        raise ConfidenceError(f"alpha {alpha}: a one-sided level must lie in (0, 0.5)")
    over, intended = _checked_blocks(blocks)
    k, total, count = len(over), float(intended.sum()), float(over.sum())
    estimate = count / total if total else 0.0
    binomial = estimate * (1 - estimate) / total if total else 0.0
    if k < 2:
        return ShareBound(estimate, 0.0, 1.0, alpha, k, round(count), round(total), 1.0, math.sqrt(binomial))
    # The ratio estimator's between-block variance (the with-replacement linearisation survey packages use).
    variance = k / (k - 1) * float(np.sum((over - estimate * intended) ** 2)) / total**2
    if binomial > 0 and variance > binomial:
        design_effect = variance / binomial
        effective = estimate * (1 - estimate) / variance
    else:
        design_effect, effective = 1.0, total
    effective *= (_z(alpha) / _t(alpha, k - 1)) ** 2
    successes = estimate * effective
    # Clopper-Pearson's bounds are quantiles of beta distributions (scipy.special: the same functions as
    # scipy.stats.beta.ppf without its per-call overhead, which the simulations feel).
    lower = float(scipy.special.betaincinv(successes, effective - successes + 1, alpha)) if successes > 0 else 0.0
    upper = float(scipy.special.betaincinv(successes + 1, effective - successes, 1 - alpha)) if estimate < 1 else 1.0
    return ShareBound(
        estimate=estimate,
        lower=lower,
        upper=upper,
        alpha=alpha,
        blocks=k,
        over=round(count),
        intended=round(total),
        design_effect=design_effect,
        standard_error=math.sqrt(max(variance, binomial)),
    )


def _z(alpha: float) -> float:
    """The standard normal's upper `alpha` quantile."""
    return -float(scipy.special.ndtri(alpha))


def _t(alpha: float, df: float) -> float:
    """Student's t's upper `alpha` quantile with `df` degrees of freedom."""
    return -float(scipy.special.stdtrit(df, alpha))


# The standard normal's survival function and density as scipy.stats.norm computes them (ndtr(-x);
# exp(-x^2 / 2) / sqrt(2 pi)), without its per-call checks and without importing scipy.stats (~1 s of
# every command that judges a cell).
def _normal_sf(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(scipy.special.ndtr(-np.asarray(x)))


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-(x**2) / 2.0) / math.sqrt(2 * math.pi)


# --------------------------------------------------------------------------- the group-sequential design


Spending = Callable[[float, float], float]
"""alpha, information fraction t in (0, 1] -> the alpha spent by t."""


def pocock_spending(alpha: float, fraction: float) -> float:
    """Lan & DeMets' Pocock-type spending function: spends early enough that a clear effect stops a run at
    its first looks, at the cost of a stricter last look than O'Brien-Fleming's."""
    return alpha * math.log(1 + (math.e - 1) * min(max(fraction, 0.0), 1.0))


def _simpson(low: float, high: float, intervals: int) -> tuple[np.ndarray, np.ndarray]:
    points = np.linspace(low, high, 2 * intervals + 1)
    weights = np.ones_like(points)
    weights[1:-1:2], weights[2:-1:2] = 4, 2
    return points, weights * (high - low) / (6 * intervals)


def sequential_boundaries(information: Sequence[float], spent: Sequence[float]) -> list[float]:
    """The one-sided z boundaries of a group-sequential test that spends `spent[i]` (cumulative) by look i.

    `information` is each look's statistical information (here: blocks so far). Under the null hypothesis
    the running sum behaves as Brownian motion; the boundary at look i is where the chance of crossing it
    there, without having crossed earlier, is what that look spends. The density of the runs that have not
    yet crossed is carried from look to look on a Simpson grid (Armitage, McPherson & Rowe 1969; Jennison &
    Turnbull 2000, chapter 19). A look that spends nothing gets an infinite boundary.
    """
    if len(information) != len(spent) or not information:
        raise ConfidenceError(f"{len(information)} looks with {len(spent)} spending values: one each, at least one")
    if any(b <= a for a, b in zip([0.0, *information], information, strict=False)):
        raise ConfidenceError(f"information {list(information)}: must be positive and increasing")
    boundaries: list[float] = []
    # The runs not yet stopped, as weights on points of the running sum: at the start, all of them at 0.
    points, mass = np.zeros(1), np.ones(1)
    previous_information = previous_spent = 0.0
    for info, cumulative in zip(information, spent, strict=True):
        step = math.sqrt(info - previous_information)
        increment = cumulative - previous_spent

        def excess(
            bound: float,
            points: np.ndarray = points,
            mass: np.ndarray = mass,
            step: float = step,
            increment: float = increment,
        ) -> float:
            """The chance of crossing `bound` first at this look, beyond what the look spends."""
            return float(mass @ _normal_sf((bound - points) / step)) - increment

        reach = 10 * math.sqrt(info)
        bound = math.inf if increment <= 1e-15 else brentq(excess, -reach, reach, xtol=1e-10)
        boundaries.append(bound / math.sqrt(info))
        grid, weights = _simpson(-8 * math.sqrt(info), min(bound, 8 * math.sqrt(info)), 150)
        density = (_normal_pdf((grid[:, None] - points[None, :]) / step) / step) @ mass
        points, mass = grid, density * weights
        previous_information, previous_spent = info, cumulative
    return boundaries


@functools.lru_cache(maxsize=256)
def nominal_levels(first: int, last: int, total: int, alpha: float, final: bool = False) -> tuple[float, ...]:
    """The one-sided nominal level of each look from block `first` to block `last` (one look per block) of
    a design that spends `alpha` over `total` blocks with the Pocock-type function.

    `final`: the look at `last` is the last one whatever `total` planned (a comparison whose budget ran out
    with fewer valid blocks than planned): it spends whatever is left of `alpha`.
    """
    looks = range(first, last + 1)
    spent = [pocock_spending(alpha, look / total) for look in looks]
    if final:
        spent[-1] = alpha
    boundaries = sequential_boundaries([float(look) for look in looks], spent)
    return tuple(float(_normal_sf(bound)) for bound in boundaries)


def sequential_power(information: Sequence[float], boundaries: Sequence[float], drift: float) -> float:
    """The chance that a group-sequential test with these z `boundaries` crosses one at some look, when each
    unit of information moves the running sum by `drift` standard deviations (0: the false-alarm rate).

    The same recursion as `sequential_boundaries`, run forward with the boundaries fixed.
    """
    if len(information) != len(boundaries) or not information:
        raise ConfidenceError(f"{len(information)} looks with {len(boundaries)} boundaries: one each, at least one")
    points, mass = np.zeros(1), np.ones(1)
    previous = crossed = 0.0
    for info, z in zip(information, boundaries, strict=True):
        step = math.sqrt(info - previous)
        shift = drift * (info - previous)
        bound = z * math.sqrt(info)
        crossed += float(mass @ _normal_sf((bound - points - shift) / step))
        top = min(bound, 8 * math.sqrt(info) + drift * info)
        grid, weights = _simpson(-8 * math.sqrt(info) + drift * info, top, 150)
        density = (_normal_pdf((grid[:, None] - points[None, :] - shift) / step) / step) @ mass
        points, mass, previous = grid, density * weights, info
    return crossed


@dataclass(frozen=True)
class Design:
    """When a run looks at its bounds, and at which level.

    A breach is looked for after every block from `MIN_BLOCKS` on, a pass after every block from
    `run_blocks` on; both spend `1 - confidence` over `max_blocks`. Looking less often than planned (a
    runner that misses a look) only makes the error rates smaller.
    """

    block_seconds: float
    run_blocks: int
    """The blocks in `run_time`'s judged window: the first look that may pass."""
    max_blocks: int
    """The blocks in `max_run_time`'s: the last look."""
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not self.block_seconds > 0:
            raise ConfidenceError(f"block_seconds {self.block_seconds}: must be positive")
        if self.run_blocks < MIN_BLOCKS:
            raise ConfidenceError(
                f"run_blocks {self.run_blocks}: a run must hold at least {MIN_BLOCKS} blocks to be judged "
                f"(shorter blocks, or a longer run_time)"
            )
        if self.max_blocks < self.run_blocks:
            raise ConfidenceError(f"max_blocks {self.max_blocks}: less than run_blocks {self.run_blocks}")
        if not 0.5 < self.confidence < 1:
            raise ConfidenceError(f"confidence {self.confidence}: must lie in (0.5, 1)")

    @classmethod
    def plan(
        cls, run_seconds: float, max_run_seconds: float, confidence: float = 0.95, block_seconds: float | None = None
    ) -> Design:
        """The design of a run whose judged window lasts `run_seconds`, extended up to `max_run_seconds`.

        The block length defaults to `BLOCK_SECONDS`, shortened (to whole seconds, at least 1) for a window
        that would hold fewer than 6 blocks, such as a search's short probe.
        """
        if block_seconds is None:
            block_seconds = float(BLOCK_SECONDS)
            if run_seconds < 6 * BLOCK_SECONDS:
                block_seconds = float(max(1, math.floor(run_seconds / 6)))
        run_blocks = math.floor(run_seconds / block_seconds + 1e-9)
        max_blocks = max(run_blocks, math.floor(max_run_seconds / block_seconds + 1e-9))
        return cls(block_seconds, run_blocks, max_blocks, confidence)

    @property
    def alpha(self) -> float:
        """Each claim's error rate over all its looks."""
        return 1 - self.confidence

    def breach_level(self, blocks: int, limits: int = 1) -> float | None:
        """The nominal one-sided level of a breach look after `blocks` blocks (None: no breach look there)."""
        if not MIN_BLOCKS <= blocks <= self.max_blocks:
            return None
        levels = nominal_levels(MIN_BLOCKS, self.max_blocks, self.max_blocks, self.alpha / limits)
        return levels[blocks - MIN_BLOCKS]

    def pass_level(self, blocks: int) -> float | None:
        """The nominal one-sided level of a pass look after `blocks` blocks (None: no pass look there)."""
        if not self.run_blocks <= blocks <= self.max_blocks:
            return None
        levels = nominal_levels(self.run_blocks, self.max_blocks, self.max_blocks, self.alpha)
        return levels[blocks - self.run_blocks]


# --------------------------------------------------------------------------- the steady-state test


@dataclass(frozen=True)
class BlockFigures:
    """One block's figures for the steady-state test (None: not measured in that block)."""

    throughput: float | None
    """Requests served per second."""
    p95_ms: float | None
    """The corrected P95 (from the intended send time)."""
    lag_ms: float | None
    """The schedule lag (intended to actual send), e.g. its mean or P95 in the block."""


SteadyMetric = Literal["throughput", "p95_ms", "lag_ms"]


@dataclass(frozen=True)
class Trend:
    """One metric's first third against its last third, on its "worse" scale (positive: it worsened)."""

    metric: SteadyMetric
    first: float
    last: float
    worsening: float
    """last - first for a latency, first - last for the throughput."""
    lower: float
    """The one-sided lower bound of the worsening."""
    tolerance: float
    steady: bool


@dataclass(frozen=True)
class Steadiness:
    """The steady-state test's answer."""

    steady: bool | None
    """None: too few blocks to tell."""
    trends: list[Trend]
    reason: str


def steadiness(
    figures: Sequence[BlockFigures], alpha: float, latency_tolerance_ms: float, throughput_tolerance: float = 0.05
) -> Steadiness:
    """The first and last thirds of the blocks compared: not steady when a metric worsened by more than its
    tolerance beyond what the blocks' noise explains.

    Tolerances: `latency_tolerance_ms` for the P95 and the lag (10% of the P95 limit is a fair default: a
    drift that small does not move a verdict), `throughput_tolerance` as a share of the first third's
    throughput. A one-sided Welch bound at `alpha` on the difference of the thirds' means; a metric missing
    from some blocks is judged on the blocks that have it.
    """
    if latency_tolerance_ms < 0 or throughput_tolerance < 0:
        raise ConfidenceError(f"tolerances {latency_tolerance_ms} ms, {throughput_tolerance}: must not be negative")
    third = len(figures) // 3
    if third < 2:
        return Steadiness(None, [], f"{len(figures)} blocks: the steady-state test needs {STEADY_MIN_BLOCKS}")
    first, last = figures[:third], figures[-third:]
    trends: list[Trend] = []
    metrics: tuple[SteadyMetric, ...] = ("throughput", "p95_ms", "lag_ms")
    for metric in metrics:
        a = np.array([v for v in (getattr(block, metric) for block in first) if v is not None], dtype=float)
        b = np.array([v for v in (getattr(block, metric) for block in last) if v is not None], dtype=float)
        if len(a) < 2 or len(b) < 2:
            continue
        sign = -1.0 if metric == "throughput" else 1.0
        worsening = sign * (float(b.mean()) - float(a.mean()))
        tolerance = throughput_tolerance * float(a.mean()) if metric == "throughput" else latency_tolerance_ms
        lower = worsening - _welch_margin(a, b, alpha)
        trends.append(Trend(metric, float(a.mean()), float(b.mean()), worsening, lower, tolerance, lower <= tolerance))
    moved = [trend for trend in trends if not trend.steady]
    if not trends:
        return Steadiness(None, [], "no metric was measured in enough blocks of both thirds")
    if moved:
        return Steadiness(False, trends, "not steady: " + "; ".join(_trend_text(trend) for trend in moved))
    return Steadiness(True, trends, "steady: no metric worsened beyond its tolerance from the first third to the last")


def _welch_margin(a: np.ndarray, b: np.ndarray, alpha: float) -> float:
    """The one-sided Welch margin of mean(b) - mean(a) at `alpha` (0 when neither third varies)."""
    va, vb = float(a.var(ddof=1)) / len(a), float(b.var(ddof=1)) / len(b)
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return _t(alpha, df) * math.sqrt(va + vb)


def _trend_text(trend: Trend) -> str:
    if trend.metric == "throughput":
        return (
            f"throughput fell from {trend.first:,.1f} to {trend.last:,.1f} req/s (by at least {trend.lower:,.1f}, "
            f"tolerance {trend.tolerance:,.1f})"
        )
    name = "corrected P95" if trend.metric == "p95_ms" else "schedule lag"
    return (
        f"{name} rose from {trend.first:,.0f} to {trend.last:,.0f} ms (by at least {trend.lower:,.0f} ms, "
        f"tolerance {trend.tolerance:,.0f} ms)"
    )


# --------------------------------------------------------------------------- one look at a run


Decision = Literal["pass", "breach", "continue", "inconclusive"]
"""pass / breach / inconclusive: the run ends with it; continue: run another block."""
LimitState = Literal["within", "beyond", "too close to call"]


@dataclass(frozen=True)
class Limit:
    """One SLO limit as a share: `P95 <= 1,000 ms` is at most 5% over 1,000 ms; the error rate its own share."""

    name: str
    """How the reports name it, e.g. `P95 1,000 ms` or `error rate`."""
    allowed: float
    """The share of intended requests allowed over the limit (0.05 for a P95, max_error_rate for errors)."""
    blocks: Sequence[BlockCount]


@dataclass(frozen=True)
class LimitJudgement:
    """One limit at one look."""

    name: str
    allowed: float
    estimate: float
    lower: float
    """At the look's breach level (`lower_alpha`)."""
    upper: float
    """At the look's pass level (`upper_alpha`)."""
    lower_alpha: float | None
    upper_alpha: float | None
    """The one-sided levels the bounds were computed at (None: no such look here; the bound is then at
    the design's last level, for information)."""
    state: LimitState
    more_seconds: float | None
    """At the current spread, about how much longer a run would need to settle it (None: settled, or the
    estimate sits exactly on the limit, where no length settles it; a share of 0 is settled by enough
    requests, so it has a length)."""
    design_effect: float


@dataclass(frozen=True)
class Look:
    """The run's state after `blocks` blocks."""

    blocks: int
    seconds: float
    decision: Decision
    reason: str
    stopped_early: bool
    """A breach decided before `run_time`."""
    limits: list[LimitJudgement]
    steadiness: Steadiness | None


def look(
    design: Design,
    limits: Sequence[Limit],
    figures: Sequence[BlockFigures] | None = None,
    latency_tolerance_ms: float | None = None,
) -> Look:
    """Judge the run after its blocks so far (every limit's blocks are the same time blocks).

    breach: any limit's lower bound beyond its allowed share (before `run_time` too: stopped early);
    continue: before `run_time`, or after it while too close to call or not steady and `max_run_time`
    allows another block; pass: at or after `run_time`, every limit's upper bound within and the blocks
    steady; inconclusive: what is left at `max_run_time`. Blocks beyond the design's `max_blocks` are not
    looked at. `figures` (one per block) feed the steady-state test, with `latency_tolerance_ms`; without
    them it is not made.
    """
    if not limits:
        raise ConfidenceError("no limit to judge")
    if figures is not None and latency_tolerance_ms is None:
        raise ConfidenceError("figures for the steady-state test need latency_tolerance_ms")
    counts = {len(limit.blocks) for limit in limits}
    if len(counts) != 1:
        raise ConfidenceError(f"limits with different block counts {sorted(counts)}: they must share the time blocks")
    blocks = min(counts.pop(), design.max_blocks)
    breach_alpha = design.breach_level(blocks, len(limits))
    pass_alpha = design.pass_level(blocks)
    final_alpha = design.pass_level(design.max_blocks) or design.alpha
    judgements = [_judge_limit(design, limit, blocks, breach_alpha, pass_alpha, final_alpha) for limit in limits]
    steady = None
    if figures is not None and latency_tolerance_ms is not None and blocks >= design.run_blocks:
        steady = steadiness(figures[:blocks], pass_alpha or final_alpha, latency_tolerance_ms)
    seconds = blocks * design.block_seconds

    def made(decision: Decision, reason: str, early: bool = False) -> Look:
        return Look(blocks, seconds, decision, reason, early, judgements, steady)

    beyond = [j for j in judgements if j.state == "beyond"]
    if beyond:
        early = blocks < design.run_blocks
        when = f"stopped early at {seconds:g} s of {design.run_blocks * design.block_seconds:g} s: " if early else ""
        return made("breach", when + "; ".join(_limit_text(j) for j in beyond), early)
    if blocks < design.run_blocks:
        return made("continue", f"{blocks} of {design.run_blocks} blocks: no breach beyond doubt yet")
    close = [j for j in judgements if j.state != "within"]
    unsteady = steady is not None and steady.steady is False
    if not close and not unsteady:
        return made("pass", "; ".join(_limit_text(j) for j in judgements))
    reasons = [f"too close to call: {_limit_text(j)}" for j in close]
    if unsteady and steady is not None:
        reasons.append(steady.reason)
    if blocks < design.max_blocks:
        return made("continue", "; ".join(reasons))
    return made("inconclusive", "; ".join(reasons))


def _judge_limit(
    design: Design, limit: Limit, blocks: int, breach_alpha: float | None, pass_alpha: float | None, final: float
) -> LimitJudgement:
    if not 0 <= limit.allowed < 1:
        raise ConfidenceError(f"{limit.name}: allowed share {limit.allowed}: must lie in [0, 1)")
    counted = limit.blocks[:blocks]
    low = share_bound(counted, breach_alpha or final)
    high = share_bound(counted, pass_alpha or final)
    state: LimitState = "too close to call"
    if breach_alpha is not None and low.lower > limit.allowed:
        state = "beyond"
    elif pass_alpha is not None and high.upper <= limit.allowed:
        state = "within"
    more = None
    if state == "too close to call":
        more = _more_seconds(design, high, limit.allowed, final)
    return LimitJudgement(
        name=limit.name,
        allowed=limit.allowed,
        estimate=high.estimate,
        lower=low.lower,
        upper=high.upper,
        lower_alpha=breach_alpha,
        upper_alpha=pass_alpha,
        state=state,
        more_seconds=more,
        design_effect=high.design_effect,
    )


def _more_seconds(design: Design, bound: ShareBound, allowed: float, alpha: float) -> float | None:
    """About how long a run would need for the bound at `alpha` to clear `allowed` at the current spread
    (None: the estimate sits on the limit, or nothing was intended: no length settles it).

    With a spread between blocks, the standard error falls as one over the root of the blocks. With none
    (no request over the limit, or every one over: the spread is 0, and the bound is Clopper-Pearson's on
    the requests themselves), more blocks still settle it: the blocks at which that bound clears the limit.
    """
    gap = abs(bound.estimate - allowed)
    if gap == 0 or bound.blocks == 0 or bound.intended == 0:
        return None
    if bound.estimate in (0.0, 1.0):
        blocks = _blocks_to_clear(bound, allowed, alpha)
        return None if blocks is None else (blocks - bound.blocks) * design.block_seconds
    needed = bound.blocks * (_z(alpha) * bound.standard_error / gap) ** 2
    return max(1.0, math.ceil(needed - bound.blocks)) * design.block_seconds


MAX_MORE_BLOCKS = 100_000
"""How far `_blocks_to_clear` looks: a run a hundred thousand blocks longer is no advice."""


def _blocks_to_clear(bound: ShareBound, allowed: float, alpha: float) -> int | None:
    """The fewest blocks (more than the bound's) of the same size at which a share of exactly 0 (or 1) has
    its upper (lower) bound at `alpha` within (beyond) `allowed`, as `share_bound` computes it then: the
    Clopper-Pearson bound on the requests, shrunk by (z / t_{k-1})^2 (None: none within `MAX_MORE_BLOCKS`).

    With no success in n the upper bound is 1 - alpha^(1/n), within `allowed` once n >= ln(alpha) /
    ln(1 - allowed); with every one a success the lower bound is alpha^(1/n), beyond `allowed` once n >=
    ln(alpha) / ln(allowed)."""
    if allowed <= 0:
        return None  # a share of 0 allowed: nothing over is never within it, and one over is beyond it at once
    needed = math.log(alpha) / math.log(1 - allowed if bound.estimate == 0 else allowed)
    per_block = bound.intended / bound.blocks
    z = _z(alpha)
    for blocks in range(bound.blocks + 1, bound.blocks + MAX_MORE_BLOCKS + 1):
        if blocks * per_block * (z / _t(alpha, blocks - 1)) ** 2 >= needed:
            return blocks
    return None


def share_text(share: float) -> str:
    """A share as the reports write it: `5.3%`, `0.42%`, `0.013%`, `0%` (two significant digits below 1%)."""
    if share == 0:
        return "0%"
    if share >= 0.01:
        return f"{share:.1%}"
    return f"{share * 100:.2g}%"


def _limit_text(judgement: LimitJudgement) -> str:
    text = (
        f"{judgement.name}: {share_text(judgement.estimate)} over [{share_text(judgement.lower)}, "
        f"{share_text(judgement.upper)}], allowed {share_text(judgement.allowed)}"
    )
    if judgement.more_seconds is not None:
        text += f" (about {judgement.more_seconds:,.0f} s more at this spread)"
    elif judgement.state == "too close to call" and judgement.estimate == judgement.allowed:
        text += " (it sits on the limit: no run length settles it)"
    elif judgement.state == "too close to call":
        text += " (no run length within reach settles it)"
    return text
