"""Judging a comparison: per-block changes head vs base, repeated t-intervals, the margin, a verdict per metric.

Pure: trial figures in, `MetricResult`s out. Each block holds one base and one head trial (run back to
back, or at the same time on the same cores), so its log-ratio log(head / base) cancels whatever the machine
did to both. Per metric, over the blocks that gave it:

- a paired t-interval of the mean log-ratio, back on the ratio scale, widened by the figures' own rounding
  (Locust's percentiles are buckets: 100 ms stands for 95-105 ms, a 10% step that no spread between
  identical blocks reveals);
- three claims against the margin d = log(1 + delta): regressed (the interval beyond d on the bad side),
  improved (beyond d on the good side), no change (inside [-d, d]: two one-sided tests);
- the exact Wilcoxon signed-rank test of the same claim at the same level, always (identical blocks
  included): a t-interval carried by one or two blocks is not confirmed, and n blocks cannot reach a level
  below 1/2^n whatever they show;
- the levels: "no change" for the comparison means every judged metric unchanged, an intersection-union
  test, so each metric's no-change claim is tested at the full (1 - confidence) / 2; "regressed" (and
  "improved") means any one metric, so each is tested at that over the judged metrics (Bonferroni);
- the looks: a comparison may look after every block and stop when it knows (`ComparisonPlan.sequential`):
  each claim then spends its level over the planned blocks (Lan-DeMets, Pocock-type, as the SLO's bound in
  `loadtest.gate.confidence`), and each interval is the repeated confidence interval at the look's nominal
  level, so stopping at the first decisive look keeps every error rate at its level. The first look of a
  claim is the first block count whose best signed-rank p (1/2^n) is below its nominal level there.

Every interval is shown at the level its claim was tested at, so a verdict holds exactly when its interval
lies in the verdict's region and the signed-rank test agrees. The error rate is judged on the difference
head - base (rates are often zero): any rise the test tells from zero is a regression; no change is a
difference inside +-`error_rate_margin`. Reference: docs/compare.md.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.special

from loadtest.gate.confidence import nominal_levels, sequential_power
from loadtest.records import ComparisonVerdict, Interval, MetricResult
from loadtest.thresholds import ComparedMetric, CompareSettings

Measures = Mapping[ComparedMetric, float | None]
"""One side's figure of each metric in one block (`TrialRecord.measures`)."""
Claim = Literal["regressed", "improved", "no change"]
CLAIMS: tuple[Claim, ...] = ("regressed", "improved", "no change")
MIN_LOOK = 3
"""No claim is looked at on fewer blocks: two leave one degree of freedom for the spread."""
POWER = 0.8
"""The power at which `detectable` is stated: the change found regressed in 4 comparisons of 5."""


def locust_rounding(value: float) -> float:
    """Half the step Locust rounds a response time to before its percentiles (stats.py: whole ms under
    100 ms, 10 ms under 1 s, 100 ms under 10 s, 1 s above): the reported percentile is that far off at most."""
    if value < 100:
        return 0.5
    if value < 1000:
        return 5.0
    if value < 10000:
        return 50.0
    return 500.0


def histogram_rounding(value: float) -> float:
    """Half a bucket of an HdrHistogram at 3 significant digits (the percentiles of issue 20's histograms)."""
    return value * 0.0005


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is read from a trial and which way is worse."""

    key: ComparedMetric
    title: str
    unit: str
    higher_is_better: bool
    relative: bool
    """Judged on log(head / base) against delta; else on head - base against an absolute band."""
    rounded: bool = False
    """A percentile: reported to a rounding step (`locust_rounding` or `histogram_rounding`)."""

    def value(self, measures: Measures) -> float | None:
        """This metric of one side in one block (None: not measured, or not positive where a ratio is taken)."""
        value = measures.get(self.key)
        if value is None or not math.isfinite(value) or (self.relative and value <= 0):
            return None
        return value


METRICS: dict[ComparedMetric, MetricSpec] = {
    "capacity": MetricSpec("capacity", "capacity", "req/s", higher_is_better=True, relative=True),
    "cpu_per_request": MetricSpec(
        "cpu_per_request", "CPU per request", "ms CPU", higher_is_better=False, relative=True
    ),
    "p50": MetricSpec("p50", "P50 at the fixed load", "ms", higher_is_better=False, relative=True, rounded=True),
    "p95": MetricSpec("p95", "P95 at the fixed load", "ms", higher_is_better=False, relative=True, rounded=True),
    "p99": MetricSpec("p99", "P99 at the fixed load", "ms", higher_is_better=False, relative=True, rounded=True),
    "error_rate": MetricSpec("error_rate", "error rate", "", higher_is_better=False, relative=False),
}
"""Every metric of a trial, in the order the reports show them."""

Block = tuple[Measures | None, Measures | None]
"""One block's base and head measures (None: that side did not give a valid measurement)."""


# --------------------------------------------------------------------------- the plan of looks


@dataclass(frozen=True)
class ComparisonPlan:
    """When a comparison looks at its blocks, and at which level each claim is tested.

    `fixed(blocks)`: one look, when the planned blocks have run (today's `trials`). `sequential(max_blocks)`:
    a look after every valid block from each claim's first look on, up to `max_blocks` (what the budget
    holds); a look that is the comparison's last (the budget ran out, with fewer valid blocks than planned
    because some were dropped) spends what is left.
    """

    max_blocks: int
    alpha: float
    """(1 - confidence) / 2: each kind of claim's error rate over the whole comparison."""
    judged: int
    """Metrics that decide: "regressed" and "improved" are tested at alpha / judged each."""
    sequential: bool

    def __post_init__(self) -> None:
        if self.max_blocks < 2:
            raise ValueError(f"max_blocks {self.max_blocks}: a comparison needs at least 2 blocks")
        if not 0 < self.alpha < 0.5 or self.judged < 1:
            raise ValueError(f"alpha {self.alpha}, judged {self.judged}: need 0 < alpha < 0.5 and 1 judged metric")

    @classmethod
    def fixed(cls, blocks: int, settings: CompareSettings) -> ComparisonPlan:
        """One look after `blocks` blocks."""
        return cls(blocks, (1 - settings.confidence) / 2, len(settings.judged), sequential=False)

    @classmethod
    def sequential_plan(cls, max_blocks: int, settings: CompareSettings) -> ComparisonPlan:
        """A look after every valid block, up to `max_blocks`."""
        return cls(max_blocks, (1 - settings.confidence) / 2, len(settings.judged), sequential=True)

    def claim_alpha(self, claim: Claim) -> float:
        """The claim's error rate per metric: all of alpha for no change (intersection-union), alpha over the
        judged metrics for regressed and improved (any one metric makes the claim)."""
        return self.alpha if claim == "no change" else self.alpha / self.judged

    def first_look(self, claim: Claim) -> int:
        """The first block count at which the claim is looked at: the signed-rank test's best p, 1/2^n, must
        be below the nominal level there (a look that cannot decide would only spend alpha)."""
        return _first_look(self.max_blocks, self.claim_alpha(claim), self.sequential)

    def level(self, claim: Claim, blocks: int, final: bool = False) -> float | None:
        """The one-sided nominal level of `claim` after `blocks` valid blocks (None: no look there).

        `final`: the comparison ends at this look whatever was planned.
        """
        alpha = self.claim_alpha(claim)
        if not self.sequential:
            return alpha if final or blocks >= self.max_blocks else None
        blocks = min(blocks, self.max_blocks)
        first = self.first_look(claim)
        if blocks < first:
            return alpha if final and blocks >= 2 else None
        return nominal_levels(first, blocks, self.max_blocks, alpha, final or blocks == self.max_blocks)[-1]

    def boundaries(self, claim: Claim) -> tuple[list[float], list[float]]:
        """The planned looks' information (blocks) and z boundaries, for the design's power."""
        if not self.sequential:
            return [float(self.max_blocks)], [_z(self.claim_alpha(claim))]
        first = self.first_look(claim)
        levels = nominal_levels(first, self.max_blocks, self.max_blocks, self.claim_alpha(claim), True)
        return [float(n) for n in range(first, self.max_blocks + 1)], [_z(level) for level in levels]


@functools.lru_cache(maxsize=128)
def _first_look(max_blocks: int, alpha: float, sequential: bool) -> int:
    if not sequential:
        return max_blocks
    first = max(MIN_LOOK, math.ceil(math.log2(1 / alpha)))
    while first < max_blocks and 0.5**first >= nominal_levels(first, first, max_blocks, alpha)[0]:
        first += 1
    return min(first, max_blocks)


def _z(alpha: float) -> float:
    return -float(scipy.special.ndtri(alpha))


def _t(alpha: float, df: int) -> float:
    return -float(scipy.special.stdtrit(df, alpha))


# --------------------------------------------------------------------------- the tests of one metric


@dataclass(frozen=True)
class Band:
    """Where each claim holds, on the metric's "worse" scale (positive = head worse than base)."""

    worse_above: float
    """Regressed when the whole interval lies above this."""
    better_below: float
    """Improved when it lies below this."""
    same_within: float
    """No change when it lies inside +-this."""


def band(spec: MetricSpec, settings: CompareSettings) -> Band:
    """The margin of `spec`: +-log(1 + delta) for a ratio; 0 for a rise and +-the margin for the error rate."""
    if spec.relative:
        margin = math.log1p(settings.delta)
        return Band(worse_above=margin, better_below=-margin, same_within=margin)
    return Band(worse_above=0.0, better_below=0.0, same_within=settings.error_rate_margin)


def worse_scale(spec: MetricSpec, base: float, head: float) -> float:
    """One block's change with "worse" positive: log(head / base) (negated when higher is better), or head - base."""
    change = math.log(head / base) if spec.relative else head - base
    return -change if spec.higher_is_better else change


def claim_p_values(x: np.ndarray, limits: Band) -> dict[Claim, float]:
    """One-sided paired t-tests of each claim (for no change: the larger of the two one-sided tests), for
    the record: the verdict comes from the intervals and the signed-rank test. With no spread at all, a
    claim's p is 0 when the common value lies strictly inside its region, else 1."""
    if np.ptp(x) == 0:
        value = float(x[0])
        return {
            "regressed": 0.0 if value > limits.worse_above else 1.0,
            "improved": 0.0 if value < limits.better_below else 1.0,
            "no change": 0.0 if abs(value) < limits.same_within else 1.0,
        }

    # scipy.stats.ttest_1samp's p, computed directly: its per-call overhead (~3 ms, the argument checks of
    # every scipy.stats function) was half of what judging a look cost, and a comparison judges many.
    mean, standard_error, df = float(np.mean(x)), float(np.std(x, ddof=1)) / math.sqrt(len(x)), len(x) - 1

    def t(popmean: float, alternative: Literal["greater", "less"]) -> float:
        statistic = (mean - popmean) / standard_error
        return float(scipy.special.stdtr(df, -statistic if alternative == "greater" else statistic))

    return {
        "regressed": t(limits.worse_above, "greater"),
        "improved": t(limits.better_below, "less"),
        "no change": max(t(limits.same_within, "less"), t(-limits.same_within, "greater")),
    }


def signed_rank_p(x: np.ndarray, claim: Claim, limits: Band) -> float:
    """The exact Wilcoxon signed-rank test of `claim` (`exact_signed_rank_p`). 1.0 when no block differs
    from the margin."""

    def w(shift: float, alternative: Literal["greater", "less"]) -> float:
        return exact_signed_rank_p(x - shift, alternative)

    if claim == "regressed":
        return w(limits.worse_above, "greater")
    if claim == "improved":
        return w(limits.better_below, "less")
    return max(w(limits.same_within, "less"), w(-limits.same_within, "greater"))


def exact_signed_rank_p(d: np.ndarray, alternative: Literal["greater", "less"]) -> float:
    """The exact one-sided p of the signed-rank statistic (the sum of the positive differences' ranks) over
    every sign flip, zeros dropped and ties given their mid-ranks, as scipy.stats.wilcoxon defines it.

    Counted, not enumerated: mid-ranks are multiples of 1/2, so twice the ranks are integers and the null
    distribution of the sum is a convolution over the blocks. scipy falls back to a permutation test of
    every sign flip with ties (identical rounded figures give them): 2^16 flips took 1.4 s per call.
    """
    d = d[d != 0]
    if not len(d):
        return 1.0
    # Twice the mid-ranks, 2 x (smaller values) + (equal values, itself included) + 1, in whole numbers: what
    # 2 x scipy.stats.rankdata gives, without its per-call overhead (a few blocks, so the n x n is small).
    size = np.abs(d)
    doubled = 2 * (size[None, :] < size[:, None]).sum(axis=1) + (size[None, :] == size[:, None]).sum(axis=1) + 1
    ways = np.zeros(int(doubled.sum()) + 1)
    ways[0] = 1.0
    for rank in doubled:
        ways[rank:] = ways[rank:] + ways[: len(ways) - rank].copy()
    observed = int(doubled[d > 0].sum())
    tail = ways[observed:] if alternative == "greater" else ways[: observed + 1]
    return min(1.0, float(tail.sum()) / 2.0 ** len(d))


def t_interval(x: np.ndarray, alpha: float, rounding: float = 0.0) -> tuple[float, float]:
    """The mean of `x` within its two one-sided t-bounds at `alpha` each (a two-sided 1 - 2 alpha interval),
    widened on both sides by `rounding`, the most the figures' rounding can move the mean."""
    mean = float(np.mean(x))
    half = _t(alpha, len(x) - 1) * float(np.std(x, ddof=1)) / math.sqrt(len(x)) if len(x) > 1 else math.inf
    return mean - half - rounding, mean + half + rounding


# --------------------------------------------------------------------------- a verdict per metric


@dataclass(frozen=True)
class _Series:
    spec: MetricSpec
    base: list[float]
    head: list[float]
    x: np.ndarray
    """The blocks' changes on the "worse" scale."""
    rounding: float
    """The most the figures' rounding moves the mean change (0 for exact figures)."""


def _series(spec: MetricSpec, blocks: Sequence[Block], exact_percentiles: bool) -> _Series:
    base: list[float] = []
    head: list[float] = []
    for base_measures, head_measures in blocks:
        if base_measures is None or head_measures is None:
            continue
        b, h = spec.value(base_measures), spec.value(head_measures)
        if b is not None and h is not None:
            base.append(b)
            head.append(h)
    x = np.array([worse_scale(spec, b, h) for b, h in zip(base, head, strict=True)], dtype=float)
    rounding = 0.0
    if spec.rounded and base:
        half = histogram_rounding if exact_percentiles else locust_rounding
        # Each side's reported value v stands for anything within v +- half(v): its log can be off by up
        # to log(v / (v - half)) (the wider side); the mean change by the mean of both sides' bounds.
        errors = [_log_error(v, half(v)) + _log_error(w, half(w)) for v, w in zip(base, head, strict=True)]
        rounding = float(np.mean(errors))
    return _Series(spec, base, head, x, rounding)


def _log_error(value: float, half: float) -> float:
    return math.log(value / (value - half)) if value > half else math.inf


def _to_change_scale(spec: MetricSpec, worse: float) -> float:
    """A value of the "worse" scale back as the reported change (head / base - 1, or head - base)."""
    change = -worse if spec.higher_is_better else worse
    return math.expm1(change) if spec.relative else change


def _region(claim: Claim, spec: MetricSpec, settings: CompareSettings) -> str:
    if not spec.relative:
        return {
            "regressed": "above zero",
            "improved": "below zero",
            "no change": f"within +-{settings.error_rate_margin:.2%}",
        }[claim]
    return {
        "regressed": f"beyond {1 + settings.delta:g}x on the bad side",
        "improved": f"beyond {1 + settings.delta:g}x on the good side",
        "no change": f"inside [1/{1 + settings.delta:g}, {1 + settings.delta:g}]",
    }[claim]


def _holds(claim: Claim, low: float, high: float, limits: Band) -> bool:
    if claim == "regressed":
        return low > limits.worse_above
    if claim == "improved":
        return high < limits.better_below
    return -limits.same_within < low and high < limits.same_within


def judge_metrics(
    blocks: Sequence[Block],
    settings: CompareSettings,
    plan: ComparisonPlan | None = None,
    final: bool = True,
    exact_percentiles: bool = False,
) -> list[MetricResult]:
    """Every metric's change, interval, tests and verdict at this look.

    `plan` defaults to one look after `settings.trials` blocks. `final`: this look is the comparison's last
    (the planned blocks ran, or the budget is spent); a sequential caller passes False while it may still
    add blocks, and stops when `overall_verdict` is no longer inconclusive. `exact_percentiles`: the
    percentiles come from issue 20's histograms, not from Locust's rounded buckets.
    """
    plan = plan or ComparisonPlan.fixed(settings.trials, settings)
    judged = settings.judged
    results = []
    for key, spec in METRICS.items():
        series = _series(spec, blocks, exact_percentiles)
        if key in judged:
            levels = {claim: plan.level(claim, len(series.x), final) for claim in CLAIMS}
        else:  # shown for information, each claim at the uncorrected level
            levels = dict.fromkeys(CLAIMS, plan.alpha)
        results.append(_verdict(series, key in judged, levels, settings, plan))
    return results


def _verdict(
    series: _Series,
    judged: bool,
    levels: dict[Claim, float | None],
    settings: CompareSettings,
    plan: ComparisonPlan,
) -> MetricResult:
    spec, x = series.spec, series.x
    limits = band(spec, settings)
    looked = {claim: level for claim, level in levels.items() if level is not None}
    p = claim_p_values(x, limits) if len(x) >= 2 else {}

    def result(
        verdict: ComparisonVerdict, reason: str, alpha: float | None, checked: float | None = None
    ) -> MetricResult:
        interval = None
        if alpha is not None and len(x) >= 2:
            ends = sorted(_to_change_scale(spec, end) for end in t_interval(x, alpha, series.rounding))
            interval = Interval(low=ends[0], high=ends[1], level=1 - 2 * alpha)
        return MetricResult(
            metric=spec.key,
            title=spec.title,
            unit=spec.unit,
            judged=judged,
            relative=spec.relative,
            blocks=len(x),
            base=statistics.median(series.base) if series.base else None,
            head=statistics.median(series.head) if series.head else None,
            change=_to_change_scale(spec, float(np.mean(x))) if len(x) else None,
            interval=interval,
            p_regressed=p.get("regressed"),
            p_improved=p.get("improved"),
            p_no_change=p.get("no change"),
            signed_rank_p=checked,
            detectable=_detectable(series, plan, settings) if judged else None,
            verdict=verdict,
            reason=reason,
        )

    if len(x) < 2:
        reason = f"{len(x)} block{'s' * (len(x) != 1)} with two valid trials: at least 2 are needed"
        return result("inconclusive", reason, None)
    if not looked:
        first = min(plan.first_look(claim) for claim in CLAIMS)
        return result("inconclusive", f"{len(x)} blocks: the first look is at {first}", None)
    strictest = min(looked.values())
    for claim, alpha in looked.items():
        low, high = t_interval(x, alpha, series.rounding)
        if not _holds(claim, low, high, limits):
            continue
        region = _region(claim, spec, settings)
        checked = signed_rank_p(x, claim, limits)
        if checked >= alpha:
            return result(
                "inconclusive",
                f"the {1 - 2 * alpha:.1%} t-interval lies {region}, but the signed-rank test does not confirm it "
                f"(p = {checked:.3g}, needs < {alpha:.3g}; {len(x)} blocks reach p = {0.5 ** len(x):.3g} at best)",
                alpha,
                checked,
            )
        reason = f"the {1 - 2 * alpha:.1%} interval lies {region} (signed-rank p = {checked:.2g} < {alpha:.2g})"
        if claim == "no change":
            reason = f"no change larger than {_largest(spec, low, high)}: {reason}"
        return result(claim, reason, alpha, checked)
    return result(
        "inconclusive",
        f"the {1 - 2 * strictest:.1%} interval lies in no verdict's region: more blocks, or a larger delta",
        strictest,
    )


def _largest(spec: MetricSpec, low: float, high: float) -> str:
    """The largest change a no-change interval (on the worse scale) leaves possible, as the reports say it."""
    ends = [abs(_to_change_scale(spec, end)) for end in (low, high)]
    if spec.relative:
        return f"{max(ends):.1%}"
    return f"{max(ends) * 100:.2g} percentage points"


# --------------------------------------------------------------------------- what the design can detect


def _detectable(series: _Series, plan: ComparisonPlan, settings: CompareSettings) -> float | None:
    """The smallest change the comparison would find regressed in `POWER` of runs at its full budget, at
    the spread its blocks showed (head / base - 1 on the worse side, or head - base for the error rate).

    The margin, the figures' rounding, and the last look's t-bound plus the power's quantile in standard
    errors of `max_blocks` blocks. None with fewer than 2 blocks (no spread to go by).
    """
    x = series.x
    if len(x) < 2:
        return None
    n = plan.max_blocks
    level = plan.level("regressed", n, final=True) or plan.claim_alpha("regressed")
    spread = float(np.std(x, ddof=1))
    worse = band(series.spec, settings).worse_above + series.rounding
    worse += (_t(level, n - 1) + _t(1 - POWER, n - 1)) * spread / math.sqrt(n)
    return math.expm1(worse) if series.spec.relative else worse


def regression_power(change: float, spread: float, plan: ComparisonPlan, settings: CompareSettings) -> float:
    """The chance the design finds a true relative `change` (on the worse side, 0.1 = 10% worse) regressed by
    its last look, when a block's log-ratio scatters with standard deviation `spread`.

    The group-sequential recursion with the known-spread boundaries: the t-bounds and the signed-rank check
    make the real design slightly less powerful, most with few blocks. At `change` equal to delta it is the
    design's false-alarm rate (at most alpha over the judged metrics).
    """
    if spread <= 0:
        raise ValueError(f"spread {spread}: must be positive")
    drift = (math.log1p(change) - math.log1p(settings.delta)) / spread
    information, boundaries = plan.boundaries("regressed")
    return sequential_power(information, boundaries, drift)


# --------------------------------------------------------------------------- the comparison's verdict


def too_many_inconclusive(inconclusive_trials: int, full_trials: int, settings: CompareSettings) -> str | None:
    """Why the comparison is not valid (None: it may stand): more of its trials were inconclusive than
    `max_inconclusive_share` of the `full_trials` a full comparison runs. Counted against the full comparison, not
    the trials run so far: dropped blocks are replaced, and a share of the trials run so far would hold back a
    verdict every metric had reached until more blocks diluted it (an A/A on this machine spent its whole budget so:
    docs/measurements/2026-12-05-duet-layout.md)."""
    if inconclusive_trials <= settings.max_inconclusive_share * full_trials:
        return None
    return (
        f"{inconclusive_trials} trials were inconclusive, more than max_inconclusive_share "
        f"{settings.max_inconclusive_share:.0%} of the {full_trials} a full comparison runs: the measurement was "
        "not valid"
    )


def overall_verdict(
    metrics: Sequence[MetricResult], full_trials: int, inconclusive_trials: int, settings: CompareSettings
) -> tuple[ComparisonVerdict, list[str]]:
    """The comparison's verdict from its judged metrics, and why.

    Too many inconclusive trials (`too_many_inconclusive`) make it inconclusive whatever the figures say; else any
    judged metric that regressed makes it regressed; else any inconclusive one makes it inconclusive; else improved
    when one improved, and no change.
    """
    judged = [metric for metric in metrics if metric.judged]
    if (invalid := too_many_inconclusive(inconclusive_trials, full_trials, settings)) is not None:
        return "inconclusive", [invalid]
    for verdict in ("regressed", "inconclusive", "improved"):
        named = [metric for metric in judged if metric.verdict == verdict]
        if named:
            return verdict, [metric.statement for metric in named]
    return "no change", [metric.statement for metric in judged]
