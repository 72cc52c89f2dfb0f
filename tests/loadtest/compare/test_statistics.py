"""The comparison's statistics on synthetic trial series whose answer is known."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pytest
import scipy.stats

from loadtest.compare.statistics import (
    METRICS,
    Band,
    Block,
    ComparisonPlan,
    Measures,
    claim_p_values,
    exact_signed_rank_p,
    judge_metrics,
    overall_verdict,
    regression_power,
)
from loadtest.records import MetricResult
from loadtest.thresholds import CompareSettings

SETTINGS = CompareSettings(gate=["p95", "capacity"])
"""The gate before the two phases: the statistics are the same whichever metrics decide, and these series move
the capacity and the latency together (a closed loop at saturation)."""
NOISE = np.array([0.012, -0.008, 0.004, -0.015, 0.009, -0.002, 0.011, -0.006])
"""Eight blocks' worth of small, fixed run-to-run noise on the log scale (about 1%)."""


def figures(throughput: float, p95: float, error_rate: float = 0.0) -> Measures:
    """One side's measures in a block of a CPU-bound service: half a CPU over its throughput per request."""
    return {
        "capacity": throughput,
        "cpu_per_request": 500.0 / throughput,
        "p50": p95 / 2,
        "p95": p95,
        "p99": p95 * 1.3,
        "error_rate": error_rate,
    }


def blocks(
    shift: float, noise: Iterable[float] = NOISE, head_errors: float = 0.0, base_errors: float = 0.0
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
    assert (metrics["capacity"].verdict, metrics["p95"].verdict) == (throughput, p95)
    assert overall_verdict(results, 16, 0, SETTINGS)[0] == overall
    true_change = math.expm1(shift)
    interval = metrics["capacity"].interval
    assert interval is not None
    if np.std(noise) < 0.05:  # the interval covers the change that was made
        assert interval.low < true_change < interval.high


def test_the_change_and_each_sides_figure_are_read_on_their_own_scale() -> None:
    metrics = by_metric(judge_metrics(blocks(math.log(0.75)), SETTINGS))
    throughput, p95 = metrics["capacity"], metrics["p95"]
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
    for key in ("capacity", "p95"):
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
    throughput = metrics["capacity"]
    assert throughput.verdict == "inconclusive"
    assert "signed-rank test does not confirm" in throughput.reason
    assert throughput.signed_rank_p == pytest.approx(1 / 32)


def test_invalid_trials_drop_their_block() -> None:
    series = blocks(math.log(0.75))
    series[2] = (None, series[2][1])
    series[5] = (series[5][0], None)
    metrics = by_metric(judge_metrics(series, SETTINGS))
    assert metrics["capacity"].blocks == len(NOISE) - 2
    assert metrics["capacity"].verdict == "regressed"


@pytest.mark.parametrize("count", [0, 1], ids=["no-block", "one-block"])
def test_fewer_than_two_blocks_cannot_be_judged(count: int) -> None:
    metrics = by_metric(judge_metrics(blocks(0.0)[:count], SETTINGS))
    assert metrics["p95"].verdict == "inconclusive"
    assert "at least 2 are needed" in metrics["p95"].reason
    assert metrics["p95"].interval is None


def test_identical_rounded_percentiles_are_no_change_within_their_rounding() -> None:
    # P95 40 ms on both sides in every block: Locust's 40 stands for 39.5-40.5 ms, so the interval is the
    # rounding's (about +-2.5%), not a point; inside +-10%, and 8 blocks all on one side confirm it.
    same = [(figures(900 + i, 40), figures(905 + i, 40)) for i in range(8)]
    p95 = by_metric(judge_metrics(same, SETTINGS))["p95"]
    assert p95.verdict == "no change"
    assert p95.interval is not None
    rounding = 2 * math.log(40 / 39.5)
    assert (p95.interval.low, p95.interval.high) == pytest.approx((math.expm1(-rounding), math.expm1(rounding)))
    assert p95.signed_rank_p == pytest.approx(0.5**8)
    assert p95.reason.startswith("no change larger than 2.5%")


def test_only_judged_metrics_decide() -> None:
    # P50 alone regresses (not judged by default): the comparison is no change.
    series = [
        (base, {**head, "p50": (head["p50"] or 0) * 1.5})
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
            "5 trials were inconclusive, more than max_inconclusive_share 25% of the 16 a full comparison runs: the "
            "measurement was not valid"
        ]


def test_a_regression_outranks_an_inconclusive_metric() -> None:
    series = blocks(0.0, NOISE * 25)
    series = [(base, {**head, "error_rate": 0.01}) for base, head in series if base is not None and head is not None]
    results = judge_metrics(series, SETTINGS)
    verdict, reasons = overall_verdict(results, 16, 0, SETTINGS)
    assert verdict == "regressed"
    assert reasons[0].startswith("error rate: regressed:")


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


# --------------------------------------------------------------------------- issue 22's cases and the design

DELTA5 = CompareSettings(delta=0.05, gate=["p95", "capacity"])


def p95_blocks(count: int, base: float, head: float) -> list[Block]:
    """Blocks whose P95 reads `base` and `head` ms in every block, with a little throughput noise."""
    return [(figures(900 + 3 * i, base), figures(897 + 3 * i, head)) for i in range(count)]


def test_two_identical_blocks_of_one_rounding_step_do_not_read_regressed() -> None:
    # Issue 22: P95 100 -> 110 ms in 2 blocks was "regressed" (exit 1) by the every-block-identical shortcut.
    results = judge_metrics(p95_blocks(2, 100, 110), DELTA5, ComparisonPlan.fixed(2, DELTA5))
    p95 = by_metric(results)["p95"]
    assert p95.verdict == "inconclusive"
    assert overall_verdict(results, 4, 0, DELTA5)[0] == "inconclusive"


def test_one_rounding_step_stays_inconclusive_however_many_blocks_repeat_it() -> None:
    # Locust's 100 and 110 stand for 95-105 and 105-115 ms: a true change of a fraction of a percent reads
    # the same, so no number of identical blocks makes it a regression beyond 5%...
    p95 = by_metric(judge_metrics(p95_blocks(12, 100, 110), DELTA5, ComparisonPlan.fixed(12, DELTA5)))["p95"]
    assert p95.verdict == "inconclusive"
    assert p95.interval is not None
    assert p95.interval.low < 0.05 < p95.interval.high
    # ... while the same figures from histograms (3 significant digits) are a 10% rise.
    exact = judge_metrics(p95_blocks(12, 100, 110), DELTA5, ComparisonPlan.fixed(12, DELTA5), exact_percentiles=True)
    assert by_metric(exact)["p95"].verdict == "regressed"


def halved(count: int, seed: int) -> list[Block]:
    """Blocks where the head serves half the base's throughput, with 3% noise."""
    rng = np.random.default_rng(seed)
    return [(figures(900.0, 35.0), figures(450.0 * math.exp(float(rng.normal(0, 0.03))), 70.0)) for _ in range(count)]


def test_three_dropped_blocks_of_eight_leave_a_halved_throughput_inconclusive_without_replacement() -> None:
    # Issue 22: 5 valid blocks; their best signed-rank p, 1/32, is above 0.05 / 3.
    series = halved(8, seed=1)
    for dropped in (1, 4, 6):
        series[dropped] = (series[dropped][0], None)
    throughput = by_metric(judge_metrics(series, SETTINGS))["capacity"]
    assert throughput.verdict == "inconclusive"
    assert "5 blocks reach p = 0.0312 at best" in throughput.reason


def test_with_replacement_and_looks_a_halved_throughput_is_regressed_at_the_first_look() -> None:
    # The sequential design replaces the dropped blocks and looks after each valid one: the regression is
    # decided at the first look whose level the signed-rank test can reach. Regressed is tested at
    # 5% / 3 over 16 blocks; Pocock-type spending gives the first look of block 6 about 0.83% (1/64 is
    # above it) and of block 7 about 0.94% (1/128 is below): block 7 of 16.
    plan = ComparisonPlan.sequential_plan(16, SETTINGS)
    first = plan.first_look("regressed")
    assert first == 7
    assert 0.5**first < (plan.level("regressed", first) or 0.0) < 0.5 ** (first - 1)
    series = halved(16, seed=1)
    before = judge_metrics(series[: first - 1], SETTINGS, plan, final=False)
    assert overall_verdict(before, 2 * (first - 1), 0, SETTINGS)[0] == "inconclusive"
    at_first = judge_metrics(series[:first], SETTINGS, plan, final=False)
    assert by_metric(at_first)["capacity"].verdict == "regressed"
    assert overall_verdict(at_first, 2 * first, 0, SETTINGS)[0] == "regressed"


def test_no_change_is_tested_at_the_full_level_and_a_regression_at_its_share() -> None:
    # Intersection-union: each metric's no change at (1 - 0.90) / 2 = 5%; regressed at 5% over 3 metrics.
    steady = by_metric(judge_metrics(blocks(0.0), SETTINGS))
    assert steady["capacity"].verdict == "no change"
    assert steady["capacity"].interval is not None
    assert steady["capacity"].interval.level == pytest.approx(0.90)
    slower = by_metric(judge_metrics(blocks(math.log(0.75)), SETTINGS))
    assert slower["capacity"].interval is not None
    assert slower["capacity"].interval.level == pytest.approx(1 - 2 * 0.05 / 3)


def test_a_no_change_reads_as_the_largest_change_it_leaves_possible() -> None:
    results = judge_metrics(blocks(0.0), SETTINGS)
    throughput = by_metric(results)["capacity"]
    assert throughput.interval is not None
    largest = max(abs(throughput.interval.low), abs(throughput.interval.high))
    assert throughput.reason.startswith(f"no change larger than {largest:.1%}: the 90.0% interval")
    verdict, reasons = overall_verdict(results, 16, 0, SETTINGS)
    assert verdict == "no change"
    assert any(reason.startswith("capacity: no change: no change larger than") for reason in reasons)


def test_a_sequential_plan_looks_later_at_each_claim_and_spends_what_is_left_at_the_end() -> None:
    plan = ComparisonPlan.sequential_plan(16, SETTINGS)
    assert plan.level("regressed", plan.first_look("regressed") - 1) is None
    assert plan.first_look("no change") < plan.first_look("regressed")  # no change spends all of 5%
    level = plan.level("regressed", 10)
    assert level is not None
    assert 0.5**10 < level < 0.05 / 3
    # The budget ran out after 12 valid blocks (4 dropped and not replaced): the last look spends the rest.
    last = plan.level("regressed", 12, final=True)
    assert last is not None
    assert last > (plan.level("regressed", 12) or 1.0)
    fixed = ComparisonPlan.fixed(8, SETTINGS)
    assert fixed.level("regressed", 7) is None
    assert fixed.level("regressed", 8) == pytest.approx(0.05 / 3)


def test_repeated_looks_keep_the_false_regression_rate_of_a_no_change_at_its_level() -> None:
    # A/A comparisons with 3% noise per block, looked at after every block up to 16: the share that reads
    # regressed at some look stays under 5% / 3 per metric, 5% overall. Looking at the fixed design's
    # level at every block instead would about double it.
    settings = CompareSettings(gate=["capacity"])
    plan = ComparisonPlan.sequential_plan(16, settings)
    rng = np.random.default_rng(5)
    runs, false = 150, 0
    for _ in range(runs):
        series = [
            (figures(900.0, 35.0), figures(900.0 * math.exp(float(rng.normal(0.0, 0.03)) - math.log(1.1)), 35.0))
            for _ in range(16)
        ]
        for count in range(plan.first_look("regressed"), 17):
            results = judge_metrics(series[:count], settings, plan, final=count == 16)
            if by_metric(results)["capacity"].verdict == "regressed":
                false += 1
                break
    assert false / runs <= 0.05 / 2 + 3 * math.sqrt(0.025 * 0.975 / runs)


def test_the_design_states_what_it_can_detect_and_its_power() -> None:
    plan = ComparisonPlan.sequential_plan(16, SETTINGS)
    noise = np.random.default_rng(2).normal(0, 0.03, 8)
    throughput = by_metric(judge_metrics(blocks(0.0, noise), SETTINGS, plan, final=False))["capacity"]
    assert throughput.detectable is not None
    assert 0.10 < throughput.detectable < 0.20
    spread = float(np.std(noise, ddof=1))  # what the blocks showed: throughput's change is the noise
    # `detectable` is on the worse side (for throughput: base / head - 1). At it the design finds the
    # regression in about 80% of comparisons (the power uses known-spread boundaries, the detectable
    # change t-bounds: a little above 80%).
    assert 0.78 < regression_power(throughput.detectable, spread, plan, SETTINGS) < 0.95
    # At delta itself it errs no more than its level over the judged metrics; a halving it always finds.
    assert regression_power(SETTINGS.delta, spread, plan, SETTINGS) <= 0.05 / 3 * 1.001
    assert regression_power(1.0, spread, plan, SETTINGS) > 0.999


@pytest.mark.parametrize("seed", range(4))
def test_the_counted_signed_rank_p_is_scipy_s_exact_one_with_ties_and_zeros(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in range(1, 9):
        d = np.round(rng.normal(0.3, 1.0, n), 1)  # one decimal: ties and zeros
        if not np.any(d):
            continue
        for alternative in ("greater", "less"):
            expected = scipy.stats.wilcoxon(d, alternative=alternative).pvalue
            assert exact_signed_rank_p(d, alternative) == pytest.approx(expected, abs=1e-12), (d, alternative)


@pytest.mark.parametrize("seed", range(4))
def test_the_claims_p_values_are_scipy_s_one_sample_t_tests(seed: int) -> None:
    rng = np.random.default_rng(seed)
    limits = Band(worse_above=0.05, better_below=-0.05, same_within=0.05)
    for n in range(2, 17):
        x = rng.normal(rng.uniform(-0.1, 0.1), 0.03, n)
        p = claim_p_values(x, limits)

        def scipy_p(popmean: float, alternative: str, x: np.ndarray = x) -> float:
            return float(scipy.stats.ttest_1samp(x, popmean, alternative=alternative).pvalue)

        assert p["regressed"] == pytest.approx(scipy_p(0.05, "greater"), rel=1e-9)
        assert p["improved"] == pytest.approx(scipy_p(-0.05, "less"), rel=1e-9)
        assert p["no change"] == pytest.approx(max(scipy_p(0.05, "less"), scipy_p(-0.05, "greater")), rel=1e-9)
