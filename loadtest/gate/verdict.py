"""Judging one run: pass, breach, or inconclusive when the measurement says nothing about the service.

The SLO's limits are applied to Locust's own figures of the judged window: error rate = Failure
Count / Request Count, compared exactly (100 failures in 10,000 requests is 1%, and fails at a 1%
limit); P95 = Locust's `95%` column; on the Aggregated row for the SLO's limits and on an
endpoint's row for its own limits. With the cell's run.json the gate also asks whether the run
measured the service (`measurement`):

- inconclusive when the replicas ran without their limits, when Locust's CPU was saturated, or
  when the users fell short of what they should have sent while the API was not CPU-limited;
- breach when a limit is over, or when the service served less than `slo.min_delivered_ratio` of
  what its users should have sent while the API was CPU-limited (a starved service).
"""

from __future__ import annotations

from fractions import Fraction

from loadtest.gate.measurement import LOCUST_BUSY_CPU, delivery, resources
from loadtest.gate.reading import AGGREGATED, GateInputError, LocustStats
from loadtest.records import Check, Delivery, Figures, Outcome, Resources, RunRecord, Verdict
from loadtest.thresholds import Slo
from loadtest.util.text import first_line

API_THROTTLED_SHARE = 0.1
"""The API is CPU-limited when its replicas hit their quota in this share of CFS periods or more..."""
API_CPU_SHARE = 0.9
"""...or used this share of their CPU limit or more."""
LOCUST_BUSY_SHARE = 0.1
"""Locust was the limit when it was busy (90% CPU or more) for this share of the window or more."""


def evaluate(run: LocustStats, slo: Slo, record: RunRecord | None = None) -> Verdict:
    """Judge the run; raise GateInputError when it holds nothing to judge.

    Without `record` (Locust's CSVs alone) only the SLO's limits are applied.
    """
    total = run.aggregated
    if total.requests == 0 or total.error_rate is None or total.p95_ms is None:
        raise GateInputError(
            f"{run.stats_path}: zero requests in the Aggregated row: nothing to judge "
            "(did the API start, and does --host point at it?)"
        )
    if run.exceptions:
        first = first_line(run.exceptions[0].message)
        count = sum(exception.count for exception in run.exceptions)
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
    window = run.judged_window(after_spawn=record is not None and record.warmup == "spawn")
    measured = resources(record, window, record.locust.processes if record.locust else 1) if record else None
    delivered = delivery(run, record.scenario, window) if record and record.scenario else None
    capacity = record.generator_capacity_rps.total_rps if record and record.generator_capacity_rps else None
    doubts = _inconclusive(record, measured, delivered, capacity, slo) if record else []
    breaches = [_describe(check) for check in checks if not check.passed]
    if not doubts and delivered is not None and delivered.ratio < slo.min_delivered_ratio:
        breaches.append(_shortfall(delivered, measured))
    outcome: Outcome = "inconclusive" if doubts else "breach" if breaches else "pass"
    return Verdict(
        outcome=outcome,
        reasons=doubts or breaches,
        passed=outcome == "pass",
        error_rate=total.error_rate,
        p95_ms=total.p95_ms,
        rps=total.rps,
        requests=total.requests,
        checks=checks,
        figures=total,
        slo=slo,
        window=window,
        delivery=delivered,
        resources=measured,
        generator_capacity_rps=capacity,
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


def api_limited(measured: Resources | None) -> bool | None:
    """Whether the API was CPU-limited over the window (None: not measured)."""
    if measured is None or (measured.api_throttled_share is None and measured.api_cpu_share is None):
        return None
    return (measured.api_throttled_share or 0) >= API_THROTTLED_SHARE or (measured.api_cpu_share or 0) >= API_CPU_SHARE


def locust_saturated(measured: Resources | None) -> bool | None:
    """Whether Locust's CPU was the limit over the window (None: not measured)."""
    if measured is None or measured.locust_busy_seconds is None:
        return None
    return measured.locust_busy_seconds >= max(2.0, LOCUST_BUSY_SHARE * measured.seconds)


def _inconclusive(
    record: RunRecord, measured: Resources | None, delivered: Delivery | None, capacity: float | None, slo: Slo
) -> list[str]:
    """Why the run did not measure the service, each reason with its evidence (empty: it did)."""
    reasons = []
    if not record.limits_enforced:
        reasons.append(limits_reason(record))
    saturated = locust_saturated(measured)
    if saturated and measured is not None:
        reasons.append(
            f"Locust CPU {measured.locust_peak_cpu or 0:.0%} (limit {LOCUST_BUSY_CPU:.0%}) for "
            f"{measured.locust_busy_seconds or 0:.0f} s of {measured.seconds:.0f} s: the load generator, "
            "not the service, set the pace" + _capacity_note(delivered, capacity)
        )
    elif saturated is None and record.locust_cpu_warnings:
        reasons.append(
            f"Locust warned that its CPU was above {LOCUST_BUSY_CPU:.0%} ({record.locust_cpu_warnings[0]!r}) and its "
            "CPU was not measured, so its figures may be its own" + _capacity_note(delivered, capacity)
        )
    if (
        not reasons
        and delivered is not None
        and delivered.ratio < slo.min_delivered_ratio
        and measured is not None
        and api_limited(measured) is False
    ):
        reasons.append(
            f"served {delivered.served_rps:,.0f} of ~{delivered.expected_rps:,.0f} req/s expected "
            f"({delivered.ratio:.0%}) while the API was not CPU-limited ({_api_use(measured)}) and "
            f"{_locust_use(measured)}: something else held the load back" + _capacity_note(delivered, capacity)
        )
    return reasons


def limits_reason(record: RunRecord) -> str:
    """Why a run whose replicas ran without their limits judges nothing (the gate's and the report's words)."""
    why = record.limits_not_enforced_reason or "unknown"
    return f"limits were not enforced ({why}): the replicas ran without their CPU and memory limits"


def _locust_use(measured: Resources) -> str:
    """What is known of Locust's CPU when it was not found saturated: measured, or only its silence."""
    if measured.locust_peak_cpu is None:
        return "Locust's CPU was not measured (it gave no CPU warning)"
    return f"Locust was not saturated (at most {measured.locust_peak_cpu:.0%} of its cores)"


def _shortfall(delivered: Delivery, measured: Resources | None) -> str:
    """A starved service: what it served of what its users should have sent, and its CPU."""
    use = _api_use(measured) if measured is not None else "the API's CPU was not measured"
    return (
        f"served {delivered.served_rps:,.0f} of ~{delivered.expected_rps:,.0f} req/s expected "
        f"({delivered.ratio:.0%}, {delivered.basis}); {use}"
    )


def _api_use(measured: Resources) -> str:
    parts = []
    if measured.api_throttled_share is not None:
        parts.append(f"API throttled in {measured.api_throttled_share:.0%} of CFS periods")
    if measured.api_cpu_share is not None:
        parts.append(f"API CPU {measured.api_cpu_share:.0%} of its limit")
    return ", ".join(parts) or "the API's CPU was not measured"


def _capacity_note(delivered: Delivery | None, capacity: float | None) -> str:
    if capacity is None:
        return ""
    asked = f"the users asked ~{delivered.expected_rps:,.0f} req/s, " if delivered is not None else ""
    return f" ({asked}this machine's Locust delivers ~{capacity:,.0f} req/s of this scenario)"


_TITLES = {"max_error_rate": "error rate", "max_p95_ms": "P95", "min_rps": "throughput"}


def _describe(check: Check) -> str:
    """A breached limit, in words."""
    title = _TITLES.get(check.name, check.name)
    scope = "" if check.scope == AGGREGATED else f" of {check.scope}"
    if check.name == "max_error_rate":
        return f"{title}{scope} {check.value:.2%}, limit below {check.limit:.2%}"
    if check.name == "max_p95_ms":
        return f"{title}{scope} {check.value:,.0f} ms, limit {_figure(check.limit)} ms"
    return f"{title}{scope} {check.value:,.1f} req/s, limit {_figure(check.limit)} req/s"


def _figure(value: float) -> str:
    """A limit as people write it: 1,000,000 and 2.5, never 1e+06."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
