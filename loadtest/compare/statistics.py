"""Judging a comparison: per-block changes head vs base, a t-interval, the margin, Holm, a verdict per metric.

Pure: trial figures in, `MetricResult`s out. Each block holds one base and one head trial run back to
back in random order, so its log-ratio log(head / base) cancels whatever drifted on the machine
between blocks. Per metric, over the blocks:

- a paired t-interval of the mean log-ratio (`scipy.stats.ttest_1samp`), back on the ratio scale;
- three one-sided t-tests against the margin d = log(1 + delta): regressed (beyond d on the bad
  side), improved (beyond d on the good side), no change (inside [-d, d], two one-sided tests);
- Holm's step-down over the judged metrics, once per kind of claim, so that the chance of any false
  claim of that kind stays at (1 - confidence) / 2; each metric's interval is shown at the level its
  claim was tested at, so a verdict holds exactly when its interval lies in the verdict's region;
- the exact Wilcoxon signed-rank test of the same claim as a check: a t-interval carried by one or
  two blocks is not confirmed, and the metric is inconclusive.

The error rate is judged on the difference head - base (rates are often zero): any rise the test
tells from zero is a regression; no change is a difference inside +-`error_rate_margin`.
Reference: docs/compare.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.stats

from loadtest.records import COMPARED_FIGURES, ComparisonVerdict, Figures, Interval, MetricResult
from loadtest.thresholds import ComparedMetric, CompareSettings

Claim = Literal["regressed", "improved", "no change"]
CLAIMS: tuple[Claim, ...] = ("regressed", "improved", "no change")


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is read from a trial and which way is worse."""

    key: ComparedMetric
    title: str
    unit: str
    higher_is_better: bool
    relative: bool
    """Judged on log(head / base) against delta; else on head - base against an absolute band."""

    def value(self, figures: Figures) -> float | None:
        """This metric in one trial (None: not measured, or not positive where a ratio is taken)."""
        value: float | None = getattr(figures, COMPARED_FIGURES[self.key])
        if value is None or not math.isfinite(value) or (self.relative and value <= 0):
            return None
        return value


METRICS: dict[ComparedMetric, MetricSpec] = {
    "throughput": MetricSpec("throughput", "throughput", "req/s", higher_is_better=True, relative=True),
    "p50": MetricSpec("p50", "P50", "ms", higher_is_better=False, relative=True),
    "p95": MetricSpec("p95", "P95", "ms", higher_is_better=False, relative=True),
    "p99": MetricSpec("p99", "P99", "ms", higher_is_better=False, relative=True),
    "error_rate": MetricSpec("error_rate", "error rate", "", higher_is_better=False, relative=False),
}
"""Every metric of a trial, in the order the reports show them."""

Block = tuple[Figures | None, Figures | None]
"""One block's base and head figures (None: that trial did not give a valid measurement)."""


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
    """One-sided paired t-tests of each claim (for no change: the larger of the two one-sided tests).

    Identical values in every block (a rounded percentile, an error rate of zero throughout) leave no
    spread to test: a claim then holds (p = 0) when the common value lies strictly inside its region.
    """
    if np.ptp(x) == 0:
        value = float(x[0])
        return {
            "regressed": 0.0 if value > limits.worse_above else 1.0,
            "improved": 0.0 if value < limits.better_below else 1.0,
            "no change": 0.0 if abs(value) < limits.same_within else 1.0,
        }

    def t(popmean: float, alternative: Literal["greater", "less"]) -> float:
        return float(scipy.stats.ttest_1samp(x, popmean, alternative=alternative).pvalue)

    return {
        "regressed": t(limits.worse_above, "greater"),
        "improved": t(limits.better_below, "less"),
        "no change": max(t(limits.same_within, "less"), t(-limits.same_within, "greater")),
    }


def signed_rank_p(x: np.ndarray, claim: Claim, limits: Band) -> float:
    """The Wilcoxon signed-rank test of `claim` (exact for up to 50 blocks; with ties or zeros, scipy
    enumerates every sign flip up to 13 blocks). 1.0 when no block differs from the margin."""

    def w(shift: float, alternative: Literal["greater", "less"]) -> float:
        shifted = x - shift
        if not np.any(shifted):
            return 1.0
        return float(scipy.stats.wilcoxon(shifted, alternative=alternative).pvalue)

    if claim == "regressed":
        return w(limits.worse_above, "greater")
    if claim == "improved":
        return w(limits.better_below, "less")
    return max(w(limits.same_within, "less"), w(-limits.same_within, "greater"))


def t_interval(x: np.ndarray, level: float) -> tuple[float, float]:
    """The two-sided t-interval of the mean of `x` at `level` (a point when every value is the same)."""
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    low, high = scipy.stats.ttest_1samp(x, 0.0).confidence_interval(level)
    return float(low), float(high)


# --------------------------------------------------------------------------- Holm


def holm(p_values: Sequence[float], alpha: float) -> tuple[list[bool], list[float]]:
    """Holm's step-down: which hypotheses are rejected, and the level each one was tested at.

    Sorted by p-value, the i-th (from 0) of k is tested at alpha / (k - i) while every one before it
    was rejected; at the first that is not, it and every later one keep that level and are not
    rejected. (scipy.stats.false_discovery_control is Benjamini-Hochberg, a different error rate.)
    """
    k = len(p_values)
    rejected = [False] * k
    levels = [alpha / k] * k if k else []
    order = sorted(range(k), key=lambda index: p_values[index])
    for rank, index in enumerate(order):
        level = alpha / (k - rank)
        if p_values[index] >= level:
            for rest in order[rank:]:
                levels[rest] = level
            break
        rejected[index], levels[index] = True, level
    return rejected, levels


# --------------------------------------------------------------------------- a verdict per metric


@dataclass(frozen=True)
class _Series:
    spec: MetricSpec
    base: list[float]
    head: list[float]
    x: np.ndarray
    """The blocks' changes on the "worse" scale."""
    p: dict[Claim, float] | None
    """None: fewer than two blocks."""


def _series(spec: MetricSpec, blocks: Sequence[Block], settings: CompareSettings) -> _Series:
    base: list[float] = []
    head: list[float] = []
    for base_figures, head_figures in blocks:
        if base_figures is None or head_figures is None:
            continue
        b, h = spec.value(base_figures), spec.value(head_figures)
        if b is not None and h is not None:
            base.append(b)
            head.append(h)
    x = np.array([worse_scale(spec, b, h) for b, h in zip(base, head, strict=True)], dtype=float)
    p = claim_p_values(x, band(spec, settings)) if len(x) >= 2 else None
    return _Series(spec, base, head, x, p)


def _to_change_scale(spec: MetricSpec, worse: float) -> float:
    """A value of the "worse" scale back as the reported change (head / base - 1, or head - base)."""
    change = -worse if spec.higher_is_better else worse
    return math.expm1(change) if spec.relative else change


def _result(
    series: _Series,
    judged: bool,
    verdict: ComparisonVerdict,
    reason: str,
    level: float,
    signed_rank: float | None = None,
) -> MetricResult:
    spec, x = series.spec, series.x
    change = interval = None
    if len(x):
        change = _to_change_scale(spec, float(np.mean(x)))
    if len(x) >= 2:
        ends = sorted(_to_change_scale(spec, end) for end in t_interval(x, 1 - 2 * level))
        interval = Interval(low=ends[0], high=ends[1], level=1 - 2 * level)
    p = series.p or {}
    return MetricResult(
        metric=spec.key,
        title=spec.title,
        unit=spec.unit,
        judged=judged,
        relative=spec.relative,
        blocks=len(x),
        base=statistics.median(series.base) if series.base else None,
        head=statistics.median(series.head) if series.head else None,
        change=change,
        interval=interval,
        p_regressed=p.get("regressed"),
        p_improved=p.get("improved"),
        p_no_change=p.get("no change"),
        signed_rank_p=signed_rank,
        verdict=verdict,
        reason=reason,
    )


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


def judge_metrics(blocks: Sequence[Block], settings: CompareSettings) -> list[MetricResult]:
    """Every metric's change, interval, tests and verdict; Holm runs over the judged ones."""
    alpha = (1 - settings.confidence) / 2
    judged = settings.judged
    series = {key: _series(spec, blocks, settings) for key, spec in METRICS.items()}
    testable = [key for key in judged if series[key].p is not None]
    levels: dict[ComparedMetric, dict[Claim, float]] = {key: {} for key in METRICS}
    holds: dict[ComparedMetric, dict[Claim, bool]] = {key: {} for key in METRICS}
    for claim in CLAIMS:
        p_values = [_p(series[key], claim) for key in testable]
        rejected, claim_levels = holm(p_values, alpha)
        for key, hold, level in zip(testable, rejected, claim_levels, strict=True):
            holds[key][claim], levels[key][claim] = hold, level
    for key in METRICS:
        if key not in judged and series[key].p is not None:  # shown for information: uncorrected
            for claim in CLAIMS:
                holds[key][claim], levels[key][claim] = _p(series[key], claim) < alpha, alpha
    return [_verdict(series[key], key in judged, holds[key], levels[key], settings, alpha) for key in METRICS]


def _p(series: _Series, claim: Claim) -> float:
    assert series.p is not None  # only testable series get here
    return series.p[claim]


def _verdict(
    series: _Series,
    judged: bool,
    holds: dict[Claim, bool],
    levels: dict[Claim, float],
    settings: CompareSettings,
    alpha: float,
) -> MetricResult:
    spec = series.spec
    if series.p is None:
        blocks = len(series.x)
        reason = f"{blocks} block{'s' * (blocks != 1)} with two valid trials: at least 2 are needed"
        return _result(series, judged, "inconclusive", reason, alpha)
    claim = next((claim for claim in CLAIMS if holds[claim]), None)
    if claim is None:
        level = min(levels.values())
        return _result(
            series,
            judged,
            "inconclusive",
            f"the {1 - 2 * level:.1%} interval lies in no verdict's region: more trials, or a larger delta",
            level,
        )
    level = levels[claim]
    region = _region(claim, spec, settings)
    if np.ptp(series.x) == 0:
        return _result(series, judged, claim, f"every block gave the same change, {region}", level)
    checked = signed_rank_p(series.x, claim, band(spec, settings))
    if checked >= level:
        best = 0.5 ** len(series.x)
        return _result(
            series,
            judged,
            "inconclusive",
            f"the {1 - 2 * level:.1%} t-interval lies {region}, but the signed-rank test does not confirm it "
            f"(p = {checked:.3g}, needs < {level:.3g}; {len(series.x)} blocks reach p = {best:.3g} at best)",
            level,
            checked,
        )
    return _result(
        series,
        judged,
        claim,
        f"the {1 - 2 * level:.1%} interval lies {region} (t-test p = {series.p[claim]:.2g}, "
        f"signed-rank p = {checked:.2g})",
        level,
        checked,
    )


# --------------------------------------------------------------------------- the comparison's verdict


def overall_verdict(
    metrics: Sequence[MetricResult], trials: int, inconclusive_trials: int, settings: CompareSettings
) -> tuple[ComparisonVerdict, list[str]]:
    """The comparison's verdict from its judged metrics, and why.

    Too many inconclusive trials make it inconclusive whatever the figures say; else any judged
    metric that regressed makes it regressed; else any inconclusive one makes it inconclusive;
    else improved when one improved, and no change.
    """
    judged = [metric for metric in metrics if metric.judged]
    if trials and inconclusive_trials / trials > settings.max_inconclusive_share:
        return "inconclusive", [
            f"{inconclusive_trials} of {trials} trials were inconclusive (more than "
            f"max_inconclusive_share {settings.max_inconclusive_share:.0%}): the measurement was not valid"
        ]
    for verdict in ("regressed", "inconclusive", "improved"):
        named = [metric for metric in judged if metric.verdict == verdict]
        if named:
            return verdict, [f"{metric.title}: {metric.verdict}: {metric.reason}" for metric in named]
    return "no change", [f"{', '.join(metric.title for metric in judged)}: no change"]
