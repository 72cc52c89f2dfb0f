"""The comparison's statistics on synthetic trial series whose answer is known."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from loadtest.compare.statistics import (
    METRICS,
    Block,
    holm,
    judge_metrics,
    overall_verdict,
)
from loadtest.records import Figures, MetricResult
from loadtest.thresholds import CompareSettings

SETTINGS = CompareSettings()
NOISE = np.array([0.012, -0.008, 0.004, -0.015, 0.009, -0.002, 0.011, -0.006])
"""Eight blocks' worth of small, fixed run-to-run noise on the log scale (about 1%)."""


def figures(throughput: float, p95: float, error_rate: float = 0.0) -> Figures:
    requests = round(throughput * 18)
    return Figures(
        name="Aggregated",
        requests=requests,
        failures=round(error_rate * requests),
        error_rate=error_rate,
        rps=throughput,
        p50_ms=p95 / 2,
        p95_ms=p95,
        p99_ms=p95 * 1.3,
    )


def blocks(
    shift: float, noise: Sequence[float] = NOISE, head_errors: float = 0.0, base_errors: float = 0.0
) -> list[Block]:
    """Blocks whose head throughput is base x exp(shift + noise) and whose latency moves the other way
    (a closed loop at saturation: latency = users / throughput), on a base that drifts block to block."""
    result: list[Block] = []
    for index, wobble in enumerate(noise):
        base_rps = 900.0 * (1 + 0.03 * math.sin(index))
        head_rps = base_rps * math.exp(shift + wobble)
        result.append(
            (figures(base_rps, 32_000 / base_rps, base_errors), figures(head_rps, 32_000 / head_rps, head_errors))
        )
    return result


def by_metric(results: list[MetricResult]) -> dict[str, MetricResult]:
    return {result.metric: result for result in results}


@pytest.mark.parametrize(
    ("shift", "noise", "throughput", "p95", "overall"),
    [
        pytest.param(math.log(0.75), NOISE, "regressed", "regressed", "regressed", id="clear-25%-slowdown"),
        pytest.param(math.log(1.3), NOISE, "improved", "improved", "improved", id="clear-30%-speed-up"),
        pytest.param(0.0, NOISE, "no change", "no change", "no change", id="no-shift"),
        pytest.param(math.log(0.96), NOISE, "no change", "no change", "no change", id="4%-is-within-delta"),
        pytest.param(math.log(0.85), NOISE, "regressed", "regressed", "regressed", id="15%-crosses-delta"),
        pytest.param(0.0, NOISE * 25, "inconclusive", "inconclusive", "inconclusive", id="heavy-noise"),
        pytest.param(math.log(0.91), NOISE, "inconclusive", "inconclusive", "inconclusive", id="on-the-margin"),
    ],
)
def test_known_answers(shift: float, noise: np.ndarray, throughput: str, p95: str, overall: str) -> None:
    results = judge_metrics(blocks(shift, noise), SETTINGS)
    metrics = by_metric(results)
    assert (metrics["throughput"].verdict, metrics["p95"].verdict) == (throughput, p95)
    assert overall_verdict(results, 16, 0, SETTINGS)[0] == overall
    true_change = math.expm1(shift)
    interval = metrics["throughput"].interval
    assert interval is not None
    if np.std(noise) < 0.05:  # the interval covers the change that was made
        assert interval.low < true_change < interval.high


def test_the_change_and_each_sides_figure_are_read_on_their_own_scale() -> None:
    metrics = by_metric(judge_metrics(blocks(math.log(0.75)), SETTINGS))
    throughput, p95 = metrics["throughput"], metrics["p95"]
    assert throughput.change == pytest.approx(math.exp(math.log(0.75) + NOISE.mean()) - 1)
    assert p95.change == pytest.approx(math.exp(-math.log(0.75) - NOISE.mean()) - 1)
    assert throughput.base is not None
    assert throughput.head is not None
    assert throughput.head / throughput.base == pytest.approx(0.75, rel=0.03)
    assert throughput.blocks == p95.blocks == len(NOISE)
    assert "beyond 1.1x on the bad side" in throughput.reason


def test_a_single_outlier_block_cannot_make_a_regression() -> None:
    # No change in seven blocks; in one the head trial lost 60% (a noisy neighbour): the t-interval
    # widens past the margin instead of moving beyond it.
    noise = NOISE.copy()
    noise[3] = math.log(0.4)
    metrics = by_metric(judge_metrics(blocks(0.0, noise), SETTINGS))
    for key in ("throughput", "p95"):
        assert metrics[key].verdict == "inconclusive"
        interval = metrics[key].interval
        assert interval is not None
        assert interval.low < 0 < interval.high


@pytest.mark.parametrize(
    ("base_errors", "head_errors", "verdict"),
    [
        pytest.param(0.0, 0.0, "no change", id="none-either-side"),
        pytest.param(0.0, 0.002, "regressed", id="any-real-rise"),
        pytest.param(0.002, 0.0, "improved", id="a-real-fall"),
        pytest.param(0.0005, 0.0005, "no change", id="the-same-small-rate"),
    ],
)
def test_the_error_rate_is_always_judged_and_any_real_rise_regresses(
    base_errors: float, head_errors: float, verdict: str
) -> None:
    results = judge_metrics(blocks(0.0, head_errors=head_errors, base_errors=base_errors), SETTINGS)
    error_rate = by_metric(results)["error_rate"]
    assert error_rate.judged
    assert not error_rate.relative
    assert error_rate.verdict == verdict
    expected_overall = {"regressed": "regressed", "improved": "improved"}.get(verdict, "no change")
    assert overall_verdict(results, 16, 0, SETTINGS)[0] == expected_overall


def test_a_rise_in_errors_that_varies_between_blocks_is_tested() -> None:
    noisy = [(figures(900, 35, 0.0), figures(900, 35, rate)) for rate in (0.001, 0.003, 0.002, 0.004, 0.001, 0.002)]
    result = by_metric(judge_metrics(noisy, SETTINGS))["error_rate"]
    assert result.verdict == "regressed"
    assert result.interval is not None
    assert result.interval.low > 0
    assert result.change == pytest.approx(np.mean([0.001, 0.003, 0.002, 0.004, 0.001, 0.002]))


def test_too_few_blocks_for_the_signed_rank_check_is_inconclusive() -> None:
    # Five blocks: the t-interval says regressed, but the exact signed-rank test's best p is 1/32.
    metrics = by_metric(judge_metrics(blocks(math.log(0.7), NOISE[:5]), SETTINGS))
    throughput = metrics["throughput"]
    assert throughput.verdict == "inconclusive"
    assert "signed-rank test does not confirm" in throughput.reason
    assert throughput.signed_rank_p == pytest.approx(1 / 32)


def test_invalid_trials_drop_their_block() -> None:
    series = blocks(math.log(0.75))
    series[2] = (None, series[2][1])
    series[5] = (series[5][0], None)
    metrics = by_metric(judge_metrics(series, SETTINGS))
    assert metrics["throughput"].blocks == len(NOISE) - 2
    assert metrics["throughput"].verdict == "regressed"


@pytest.mark.parametrize("count", [0, 1], ids=["no-block", "one-block"])
def test_fewer_than_two_blocks_cannot_be_judged(count: int) -> None:
    metrics = by_metric(judge_metrics(blocks(0.0)[:count], SETTINGS))
    assert metrics["p95"].verdict == "inconclusive"
    assert "at least 2 are needed" in metrics["p95"].reason
    assert metrics["p95"].interval is None


def test_identical_rounded_percentiles_in_every_block_are_no_change() -> None:
    same = [(figures(900 + i, 40), figures(905 + i, 40)) for i in range(8)]
    metrics = by_metric(judge_metrics(same, SETTINGS))
    assert metrics["p95"].verdict == "no change"
    assert metrics["p95"].interval is not None
    assert (metrics["p95"].interval.low, metrics["p95"].interval.high) == (0.0, 0.0)


def test_only_judged_metrics_decide() -> None:
    # P50 alone regresses (not judged by default): the comparison is no change.
    series = [
        (base, head.model_copy(update={"p50_ms": (head.p50_ms or 0) * 1.5}))
        for base, head in blocks(0.0)
        if base is not None and head is not None
    ]
    results = judge_metrics(series, SETTINGS)
    assert by_metric(results)["p50"].verdict == "regressed"
    assert not by_metric(results)["p50"].judged
    assert overall_verdict(results, 16, 0, SETTINGS)[0] == "no change"
    gating_p50 = CompareSettings(gate=["p50"])
    assert overall_verdict(judge_metrics(series, gating_p50), 16, 0, gating_p50)[0] == "regressed"


@pytest.mark.parametrize(
    ("inconclusive", "verdict"),
    [pytest.param(4, "regressed", id="a-quarter-is-tolerated"), pytest.param(5, "inconclusive", id="more-is-not")],
)
def test_too_many_inconclusive_trials_make_the_comparison_inconclusive(inconclusive: int, verdict: str) -> None:
    results = judge_metrics(blocks(math.log(0.75)), SETTINGS)
    decided, reasons = overall_verdict(results, 16, inconclusive, SETTINGS)
    assert decided == verdict
    if verdict == "inconclusive":
        assert reasons == [
            "5 of 16 trials were inconclusive (more than max_inconclusive_share 25%): the measurement was not valid"
        ]


def test_a_regression_outranks_an_inconclusive_metric() -> None:
    series = blocks(0.0, NOISE * 25)
    series = [
        (base, head.model_copy(update={"error_rate": 0.01}))
        for base, head in series
        if base is not None and head is not None
    ]
    results = judge_metrics(series, SETTINGS)
    verdict, reasons = overall_verdict(results, 16, 0, SETTINGS)
    assert verdict == "regressed"
    assert reasons[0].startswith("error rate: regressed:")


@pytest.mark.parametrize(
    ("p_values", "rejected", "levels"),
    [
        pytest.param([0.01, 0.04, 0.03], [True, False, False], [0.05 / 3, 0.025, 0.025], id="stops-at-the-second"),
        pytest.param([0.001, 0.02, 0.04], [True, True, True], [0.05 / 3, 0.025, 0.05], id="all-rejected"),
        pytest.param([0.2, 0.01], [False, True], [0.05, 0.025], id="order-is-by-p"),
        pytest.param([0.03, 0.03], [False, False], [0.025, 0.025], id="none-at-the-first-step"),
        pytest.param([], [], [], id="empty"),
    ],
)
def test_holm_step_down(p_values: list[float], rejected: list[bool], levels: list[float]) -> None:
    got_rejected, got_levels = holm(p_values, 0.05)
    assert got_rejected == rejected
    assert got_levels == pytest.approx(levels)


@pytest.mark.parametrize("seed", range(12))
def test_a_verdict_holds_exactly_when_its_interval_lies_in_its_region(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shift = rng.uniform(-0.3, 0.3)
    results = judge_metrics(blocks(shift, rng.normal(0, rng.uniform(0.005, 0.1), 8)), SETTINGS)
    margin = SETTINGS.delta
    for result in results:
        if not result.relative or result.interval is None or "signed-rank" in result.reason:
            continue
        low, high = result.interval.low, result.interval.high
        spec = METRICS[result.metric]
        worse_low, worse_high = (-high, -low) if spec.higher_is_better else (low, high)
        # On the "worse" ratio scale: beyond 1 + delta, beyond 1 / (1 + delta), or inside.
        region = (
            "regressed"
            if math.log1p(worse_low) > math.log1p(margin)
            else "improved"
            if math.log1p(worse_high) < -math.log1p(margin)
            else "no change"
            if -math.log1p(margin) < math.log1p(worse_low) and math.log1p(worse_high) < math.log1p(margin)
            else "inconclusive"
        )
        assert result.verdict == region, (result.metric, result.verdict, low, high)
