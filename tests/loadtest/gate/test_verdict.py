"""Judging a run (loadtest/gate/verdict.py): every limit's boundary, optional and per-endpoint limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from loadtest.gate import GateInputError, evaluate, read_stats
from loadtest.thresholds import EndpointLimits, Slo
from tests.loadtest.locust_csv import REAL_RUNS, Entry, SyntheticRun, healthy_run

if TYPE_CHECKING:
    from tests.conftest import Judge


@pytest.mark.parametrize(
    ("failures", "passed"),
    [(0, True), (99, True), (100, False), (101, False), (8_000, False)],
    ids=["none", "0.99%", "1.00%", "1.01%", "80%"],
)
def test_error_rate_fails_at_one_percent_or_more(judged: Judge, failures: int, passed: bool) -> None:
    _, verdict = judged(healthy_run(requests=10_000, failures=failures))
    assert verdict.passed is passed
    check = next(check for check in verdict.checks if check.name == "max_error_rate")
    assert (check.scope, check.limit, check.passed) == ("Aggregated", 0.01, passed)
    assert check.value == pytest.approx(failures / 10_000)
    assert verdict.error_rate == pytest.approx(failures / 10_000)


@pytest.mark.parametrize(("limit", "passed"), [(0.33334, True), (0.33333, False)])
def test_error_rate_is_compared_exactly(judged: Judge, limit: float, passed: bool) -> None:
    # 1 in 3 is just under 0.33334 and just over 0.33333: no float rounding decides it.
    _, verdict = judged(SyntheticRun(entries=[Entry("GET", "GET /", 3, 1)]), Slo(max_error_rate=limit, max_p95_ms=1000))
    assert verdict.passed is passed


@pytest.mark.parametrize(("p95", "passed"), [(990, True), (1000, True), (1001, False), (1100, False)], ids=str)
def test_p95_fails_when_over_the_limit(judged: Judge, p95: int, passed: bool) -> None:
    _, verdict = judged(healthy_run(p95=p95))
    assert verdict.passed is passed
    assert verdict.p95_ms == p95
    check = next(check for check in verdict.checks if check.name == "max_p95_ms")
    assert (check.value, check.limit, check.passed) == (p95, 1000, passed)


def test_both_limits_breached_are_both_reported(judged: Judge) -> None:
    _, verdict = judged(healthy_run(failures=500, p95=3000))
    assert not verdict.passed
    assert [check.name for check in verdict.breached] == ["max_error_rate", "max_p95_ms"]


def test_the_verdict_carries_the_figures_and_the_slo_it_was_made_on(judged: Judge, slo: Slo) -> None:
    stats, verdict = judged(healthy_run(failures=40, p95=300))
    assert verdict.figures == stats.aggregated
    assert verdict.slo == slo
    assert (verdict.requests, verdict.rps) == (10_000, 500.0)


def test_zero_requests_never_pass(judged: Judge) -> None:
    with pytest.raises(GateInputError, match=r"locust_stats\.csv: zero requests"):
        judged(SyntheticRun(entries=[]))


def test_locustfile_exceptions_mean_the_load_is_broken(judged: Judge) -> None:
    run = healthy_run()
    run.exceptions = [(3, "KeyError('features')")]
    with pytest.raises(GateInputError, match=r"locust_exceptions\.csv: the locustfile raised 3 exception"):
        judged(run)


# --------------------------------------------------------------------------- optional limits


@pytest.mark.parametrize(("min_rps", "passed"), [(500, True), (500.5, False)])
def test_min_rps_when_enabled(judged: Judge, min_rps: float, passed: bool) -> None:
    _, verdict = judged(healthy_run(), Slo(max_error_rate=0.01, max_p95_ms=1000, min_rps=min_rps))  # 500 req/s
    assert verdict.passed is passed
    assert (verdict.checks[-1].name, verdict.checks[-1].value, verdict.checks[-1].limit) == ("min_rps", 500.0, min_rps)


def test_min_rps_off_by_default(judged: Judge) -> None:
    _, verdict = judged(healthy_run())
    assert [check.name for check in verdict.checks] == ["max_error_rate", "max_p95_ms"]


def test_per_endpoint_limits_are_checked_on_their_row(judged: Judge) -> None:
    entries = [Entry("POST", "POST /predict", 1000, 0, p95=600), Entry("GET", "GET /health", 1000, 15, p95=50)]
    slo = Slo(
        max_error_rate=0.01,
        max_p95_ms=1000,
        endpoints={
            "POST /predict": EndpointLimits(max_p95_ms=500),
            "GET /health": EndpointLimits(max_error_rate=0.01, max_p95_ms=100),
        },
    )
    _, verdict = judged(SyntheticRun(entries=entries), slo)  # Aggregated: 0.75% errors, P95 600: within the SLO
    assert not verdict.passed
    assert [(c.name, c.scope, c.passed) for c in verdict.checks] == [
        ("max_error_rate", "Aggregated", True),
        ("max_p95_ms", "Aggregated", True),
        ("max_p95_ms", "POST /predict", False),
        ("max_error_rate", "GET /health", False),
        ("max_p95_ms", "GET /health", True),
    ]


def test_a_per_endpoint_limit_on_an_endpoint_the_run_never_called(judged: Judge) -> None:
    slo = Slo(max_error_rate=0.01, max_p95_ms=1000, endpoints={"POST /predit": EndpointLimits(max_p95_ms=5)})
    with pytest.raises(GateInputError, match=r"endpoint 'POST /predit', which the run never requested"):
        judged(healthy_run(), slo)


def test_plain_locust_names_match_endpoint_keys(judged: Judge) -> None:
    slo = Slo(max_error_rate=0.01, max_p95_ms=1000, endpoints={"POST /predict": EndpointLimits(max_p95_ms=500)})
    _, verdict = judged(SyntheticRun(entries=[Entry("POST", "/predict", 100, 0, p95=700)]), slo)
    assert [check.scope for check in verdict.breached] == ["POST /predict"]


# --------------------------------------------------------------------------- Locust's real output


def test_a_real_healthy_run_passes(slo: Slo) -> None:
    run = read_stats(REAL_RUNS / "healthy")
    verdict = evaluate(run, slo)
    assert verdict.passed
    assert verdict.requests == run.aggregated.requests


def test_a_real_run_against_a_dead_api_breaches_on_errors(slo: Slo) -> None:
    verdict = evaluate(read_stats(REAL_RUNS / "api-down"), slo)
    assert [check.name for check in verdict.breached] == ["max_error_rate"]
