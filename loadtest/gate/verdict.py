"""Judging one run: every limit of the SLO applied to Locust's own figures.

Error rate = Failure Count / Request Count, compared exactly (100 failures in 10,000 requests is
1%, and fails at a 1% limit); P95 = Locust's `95%` column; on the Aggregated row for the SLO's
limits and on an endpoint's row for its own limits.
"""

from __future__ import annotations

from fractions import Fraction

from loadtest.gate.reading import AGGREGATED, GateInputError, LocustStats
from loadtest.records import Check, Figures, Verdict
from loadtest.thresholds import Slo
from loadtest.util.text import first_line


def evaluate(run: LocustStats, slo: Slo) -> Verdict:
    """Apply every limit of `slo`; raise GateInputError when the run holds nothing to judge."""
    total = run.aggregated
    if total.requests == 0 or total.error_rate is None or total.p95_ms is None:
        raise GateInputError(
            f"{run.stats_path}: zero requests in the Aggregated row: nothing to judge "
            "(did the API start, and does --host point at it?)"
        )
    if len(run.exceptions):
        first = first_line(run.exceptions["Message"].iloc[0])
        count = int(run.exceptions["Count"].sum())
        raise GateInputError(
            f"{run.paths['exceptions']}: "
            f"the locustfile raised {count} exception(s), first {first!r}: the load itself is broken"
        )
    checks = _checks(total, slo.max_error_rate, slo.max_p95_ms)
    if slo.min_rps is not None:
        checks.append(
            Check(name="min_rps", scope=AGGREGATED, value=total.rps, limit=slo.min_rps, passed=total.rps >= slo.min_rps)
        )
    for label, limits in slo.endpoints.items():
        figures = run.endpoints.get(label)
        if figures is None or figures.requests == 0:
            known = ", ".join(repr(name) for name in run.endpoints) or "none"
            raise GateInputError(
                f"{run.stats_path}: thresholds set limits for endpoint {label!r}, which the run "
                f"never requested (its endpoints: {known})"
            )
        checks.extend(_checks(figures, limits.max_error_rate, limits.max_p95_ms))
    return Verdict(
        passed=all(check.passed for check in checks),
        error_rate=total.error_rate,
        p95_ms=total.p95_ms,
        rps=total.rps,
        requests=total.requests,
        checks=checks,
        figures=total,
        slo=slo,
    )


def _checks(figures: Figures, max_error_rate: float | None, max_p95_ms: float | None) -> list[Check]:
    """The error-rate and P95 checks of one row; a limit of None is not checked."""
    if figures.error_rate is None or figures.p95_ms is None:  # zero requests: `evaluate` refused them already
        raise GateInputError(f"row {figures.name!r}: zero requests")
    checks = []
    if max_error_rate is not None:
        # Exact rational comparison: 100 failures in 10,000 requests is 1%, and fails at 1%.
        passed = Fraction(figures.failures, figures.requests) < Fraction(repr(max_error_rate))
        checks.append(
            Check(
                name="max_error_rate", scope=figures.name, value=figures.error_rate, limit=max_error_rate, passed=passed
            )
        )
    if max_p95_ms is not None:
        passed = figures.p95_ms <= max_p95_ms
        checks.append(
            Check(name="max_p95_ms", scope=figures.name, value=figures.p95_ms, limit=max_p95_ms, passed=passed)
        )
    return checks
