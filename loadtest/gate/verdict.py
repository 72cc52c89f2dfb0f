"""Judging one run: pass, breach, or inconclusive when the measurement says nothing about the service.

From the cell's histograms (`histograms.jsonl`, written by our locustfile's pacing and recording), each
latency and error-rate limit is a share of the intended requests of the judged window over it, judged
with its confidence bound look after look (`sequential`): a breach beyond doubt, a pass within it, or
inconclusive, too close to call or not steady; and an outage that alone held back more requests than a
limit allows breaches it whatever the bound says (`outage`: a count of this run, not an estimate).
Percentiles are exact and corrected (from the intended send); requests never answered count over every
latency limit; the delivered ratio is a figure, no longer a rule, for an open loop (a starved open loop
leaves its requests unanswered, and they count).

From Locust's CSVs alone (a locustfile without our recording: a closed loop, uncorrected) the limits are
applied to Locust's own figures: error rate = Failure Count / Request Count, compared exactly (100
failures in 10,000 requests is 1%, and fails at a 1% limit); P95 = Locust's `95%` column; on the
Aggregated row for the SLO's limits and on an endpoint's row for its own limits.

With the cell's run.json the gate also asks whether the run measured the service (`measurement`):

- inconclusive when the replicas ran without their limits, when Locust's CPU was saturated, when Locust
  itself sent late (its share of the schedule lag, from the histograms), or when a closed loop's users
  fell short of what they should have sent while the API was not CPU-limited;
- breach when a closed loop's service served less than `slo.min_delivered_ratio` of what its users
  should have sent while the API was CPU-limited (a starved service).
"""

from __future__ import annotations

import math
from fractions import Fraction

from loadtest.gate import latency, outage, sequential
from loadtest.gate.confidence import ConfidenceError, share_text
from loadtest.gate.measurement import LOCUST_BUSY_CPU, delivery, resources
from loadtest.gate.reading import AGGREGATED, GateInputError, LocustStats
from loadtest.latency.recording import FILE_NAME, Recording
from loadtest.records import (
    Check,
    Delivery,
    Figures,
    Outcome,
    Resources,
    RunRecord,
    ScopeLatency,
    Verdict,
    Window,
)
from loadtest.scenario import Scenario
from loadtest.thresholds import Slo
from loadtest.util.text import first_line

API_THROTTLED_SHARE = 0.1
"""The API is CPU-limited when its replicas hit their quota in this share of CFS periods or more..."""
API_CPU_SHARE = 0.9
"""...or used this share of their CPU limit or more."""
LOCUST_BUSY_SHARE = 0.1
"""Locust was the limit when it was busy (90% CPU or more) for this share of the window or more."""


def evaluate(run: LocustStats, slo: Slo, record: RunRecord | None = None, scenario: Scenario | None = None) -> Verdict:
    """Judge the run; raise GateInputError when it holds nothing to judge.

    Without `record` (Locust's CSVs alone) only the SLO's limits are applied, and the delivery check
    when `scenario` says what the users asked (the scenario in `record`, when it has one, is the one
    that ran and wins).
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
    window = run.judged_window(after_spawn=record is not None and record.warmup == "spawn")
    recording = latency.read_cell_recording(run.run_dir)
    points: str | None = None
    if recording is not None:
        try:
            return _from_histograms(run, recording, slo, record, window, scenario)
        except ConfidenceError as error:
            # Too short for any bound (a 3 s trial of compare, whose own statistics carry the uncertainty
            # across trials): judged from Locust's figures as points, as before, rather than on a window of
            # almost nothing, and labelled so wherever the verdict goes (a trial's, a probe's record).
            points = f"judged from Locust's figures as points, without a confidence bound: {error}"
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
    measured = resources(record, window, record.locust.processes if record.locust else 1) if record else None
    asked = record.scenario if record is not None and record.scenario is not None else scenario
    delivered = delivery(run, asked, window) if asked is not None else None
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
        source="locust",
        loop="closed",
        points=points,
        measured=not doubts,
    )


def _from_histograms(
    run: LocustStats,
    recording: Recording,
    slo: Slo,
    record: RunRecord | None,
    locust_window: Window,
    scenario: Scenario | None,
) -> Verdict:
    """The verdict from the cell's histograms: exact corrected figures, each limit with its bound
    (ConfidenceError: the window is too short for a bound)."""
    where = run.run_dir / FILE_NAME
    closed_at = recording.closed_at
    seconds = recording.seconds()
    if closed_at is None or not seconds:
        raise GateInputError(
            f"{where}: {'no Locust process closed its books' if seconds else 'no request recorded'}: "
            "the load did not end cleanly, or never ran"
        )
    for label in slo.endpoints:
        if label not in recording.endpoints():
            known = ", ".join(repr(name) for name in recording.endpoints()) or "none"
            raise GateInputError(
                f"{where}: thresholds set limits for endpoint {label!r}, which the run never requested "
                f"(its endpoints: {known})"
            )
    after_spawn = locust_window.kind == "after spawn" and locust_window.start is not None
    start = math.ceil(locust_window.start) if after_spawn and locust_window.start is not None else seconds[0]
    end = closed_at - sequential.answer_seconds(slo)
    plan = _plan(record, slo)
    judged = sequential.judge(recording, slo, plan, start, end)
    judged_end = judged.end
    part = recording.window(start, judged_end)
    totals = part.total()
    if not totals.intended:
        # Nothing intended in the window is nothing to judge, never a pass of zero checks (a run
        # shorter than its ramp plus the time its last requests need to be answered).
        raise GateInputError(
            f"{where}: no request was intended in the judged window ({start - seconds[0]} s to "
            f"{judged_end - seconds[0]} s of the recording: after "
            f"{'the ramp' if after_spawn else 'the first request'}, and "
            f"{sequential.answer_seconds(slo)} s before the books closed at {closed_at - seconds[0]:.1f} s, "
            "the longest latency limit, so that its last requests could be answered): nothing to judge; "
            "lengthen run_time"
        )
    window = Window(kind=locust_window.kind, start=float(start), end=float(judged_end), seconds=judged_end - start)
    scopes = latency.latency_by_scope(part, closed_at)
    figures = latency.aggregated_figures(scopes[0], window.seconds)
    loop = latency.loop_of(totals)
    # Sends held back in an outage are the service's: Locust catching up on them at the stall's end is not a
    # saturated generator (outage.without).
    outages = outage.outages(recording, outage.longest_limit_ms(slo), start, judged_end)
    lag = latency.generator_lag(outage.without(part, outages) if outages else totals, slo.max_p95_ms)

    checks = _bounded_checks(judged, scopes)
    if slo.min_rps is not None:
        passed = figures.rps >= slo.min_rps
        checks.append(Check(name="min_rps", scope=AGGREGATED, value=figures.rps, limit=slo.min_rps, passed=passed))
    measured = resources(record, window, record.locust.processes if record.locust else 1) if record else None
    asked = record.scenario if record is not None and record.scenario is not None else scenario
    delivered = delivery(run, asked, window) if asked is not None else None
    capacity = record.generator_capacity_rps.total_rps if record and record.generator_capacity_rps else None
    # An open loop's shortfall is in its counts already (unanswered requests are over every limit): the
    # delivered ratio stays a figure there. A closed loop hides it, so its rules stay.
    ratio_rules = delivered if loop != "open" else None
    doubts = _inconclusive(record, measured, ratio_rules, capacity, slo) if record else []
    if (late := latency.generator_reason(lag)) is not None:
        doubts.append(late + _capacity_note(delivered, capacity))
    if recording.missing:
        doubts.append(
            f"{where}: the final counts of Locust process(es) {', '.join(sorted(recording.missing))} never came, "
            "so requests they sent may read as never answered"
        )
    stopped = record is not None and record.stopped_early is not None
    breaches, undecided = _decided(judged, checks, scopes, part, stopped)
    # An outage is a count of this run, not an estimate of the service: the requests it held back breach the
    # limit whatever the block bound says, which cannot tell one long stall from a spread (outage.py).
    if held := outage.held_back(recording, slo, start, judged_end):
        checks = _held_checks(checks, held)
        breaches = breaches + [_held_text(found, scopes, seconds[0]) for found in held]
        undecided = []
    breaches += [_describe(check) for check in checks if check.name == "min_rps" and not check.passed]
    if not doubts and ratio_rules is not None and ratio_rules.ratio < slo.min_delivered_ratio:
        breaches.append(_shortfall(ratio_rules, measured))
    outcome: Outcome = "inconclusive" if doubts else "breach" if breaches else "inconclusive" if undecided else "pass"
    reasons = doubts if doubts else breaches if breaches else undecided
    steadiness = judged.look.steadiness
    unsteady = outcome == "inconclusive" and steadiness is not None and steadiness.steady is False
    if loop != "open" and outcome != "pass":
        reasons = [*reasons, _closed_loop_note(loop)]
    return Verdict(
        outcome=outcome,
        reasons=reasons,
        passed=outcome == "pass",
        error_rate=figures.error_rate or 0.0,
        p95_ms=figures.p95_ms if figures.p95_ms is not None else 0.0,
        rps=figures.rps,
        requests=figures.requests,
        checks=checks,
        figures=figures,
        slo=slo,
        window=window,
        delivery=delivered,
        resources=measured,
        generator_capacity_rps=capacity,
        source="histograms",
        loop=loop,
        latency=scopes,
        sequential=sequential.sequential_record(judged),
        generator_lag=lag,
        locust_figures=run.aggregated,
        measured=not doubts and not unsteady,
    )


def _decided(
    judged: sequential.Judged, checks: list[Check], scopes: list[ScopeLatency], part: Recording, stopped: bool
) -> tuple[list[str], list[str]]:
    """The bounded limits' reasons: the breaches beyond doubt, or why the run is undecided (empty: a pass).
    `stopped`: the run was stopped by its looks (run.json's `stopped_early`); a breach found at an early look
    of a run that went on is stated without "stopped early"."""
    found, design = judged.look, judged.design
    if found.decision == "breach":
        when = (
            f"stopped early at {found.seconds:g} s of {design.run_blocks * design.block_seconds:g} s: "
            if found.stopped_early and stopped
            else ""
        )
        return [when + _bounded_text(check, scopes, part) for check in checks if check.state == "beyond"], []
    if found.decision == "pass":
        return [], []
    undecided = [
        f"too close to call: {_bounded_text(check, scopes, part)}"
        for check in checks
        if check.state == "too close to call"
    ]
    if found.steadiness is not None and found.steadiness.steady is False:
        undecided.append(found.steadiness.reason)
    if found.decision == "continue":
        undecided.append(
            f"the run ended after {found.seconds:g} s of judged load, before max_run_time's "
            f"{design.max_blocks * design.block_seconds:g} s could settle it"
        )
    return [], undecided


def _held_checks(checks: list[Check], held: list[outage.HeldBack]) -> list[Check]:
    """The checks with each limit the outages breached marked `held back` (its bounds kept as they were)."""
    breached = {(found.spec.check, found.spec.scope) for found in held}
    return [
        check.model_copy(update={"state": "held back", "passed": False})
        if (check.name, check.scope) in breached and check.state != "beyond"
        else check
        for check in checks
    ]


def _held_text(found: outage.HeldBack, scopes: list[ScopeLatency], first_second: int) -> str:
    """The outage's reason, with its scope's corrected P95."""
    scope = next((s for s in scopes if s.scope == found.spec.scope), None)
    p95 = scope.corrected.p95_ms if scope is not None else None
    at_least = scope is not None and "p95_ms" in scope.corrected.at_least
    return outage.reason(found, first_second, p95, at_least)


def _plan(record: RunRecord | None, slo: Slo) -> sequential.RunPlan | None:
    """The looks the cell's run planned, from its run.json (None: none known, one look at the whole window)."""
    if record is None:
        return None
    return sequential.RunPlan.of_load(
        record.run_time_seconds,
        record.max_run_time_seconds,
        sequential.ramp_seconds(record.users, record.spawn_rate, record.warmup),
        slo.confidence,
    )


def _bounded_checks(judged: sequential.Judged, scopes: list[ScopeLatency]) -> list[Check]:
    """One check per limit, its figure, its share over the limit and the bounds at the look that decided."""
    by_scope = {scope.scope: scope for scope in scopes}
    checks = []
    for spec, found in zip(judged.limits, judged.look.limits, strict=True):
        checks.append(
            Check(
                name=spec.check,
                scope=spec.scope,
                value=_figure_of(spec, by_scope.get(spec.scope)),
                limit=spec.limit,
                passed=found.state == "within",
                allowed=spec.allowed,
                estimate=found.estimate,
                lower=found.lower,
                upper=found.upper,
                state=found.state,
                more_seconds=found.more_seconds,
            )
        )
    return checks


def _figure_of(spec: sequential.LimitSpec, scope: ScopeLatency | None) -> float:
    """The limit's own figure in its scope: the corrected P95 (ms), or the failed share of intended requests."""
    if scope is None:
        return 0.0
    if spec.check == "max_p95_ms":
        return scope.corrected.p95_ms or 0.0
    counts = scope.counts
    return counts.failed / counts.intended if counts.intended else 0.0


def _bounded_text(check: Check, scopes: list[ScopeLatency], part: Recording) -> str:
    """`P95 1,012 ms (corrected); 5.3% over 1,000 ms [4.1%, 6.6%], allowed 5%`, and for a latency limit the
    requests held back: how many intended were over it or failed, how many never answered."""
    of = "" if check.scope == AGGREGATED else f" of {check.scope}"
    share = share_text
    bounds = f"[{share(check.lower or 0.0)}, {share(check.upper or 0.0)}]"
    if check.name == "max_p95_ms":
        scope = next((s for s in scopes if s.scope == check.scope), None)
        at_least = "at least " if scope is not None and "p95_ms" in scope.corrected.at_least else ""
        text = (
            f"P95{of} {at_least}{check.value:,.0f} ms (corrected); {share(check.estimate or 0.0)} over "
            f"{check.limit:,g} ms {bounds}, allowed {share(check.allowed or 0.0)}"
        )
        stats = part.total(None if check.scope == AGGREGATED else check.scope)
        if over := stats.over(check.limit):
            text += (
                f": {over:,} of {stats.intended:,} intended requests over {check.limit:,g} ms or failed, "
                f"{stats.unfinished:,} of them never answered"
            )
            if scope is not None and scope.uncorrected.p95_ms is not None:
                text += f" (P95 from the actual send, as a closed loop sees it: {scope.uncorrected.p95_ms:,.0f} ms)"
    else:
        estimate = share(check.estimate or 0.0)
        text = f"error rate{of} {estimate} {bounds} of the intended requests, limit {share(check.limit)}"
    if check.state == "too close to call":
        text += _more_text(check.more_seconds, check.estimate == check.allowed)
    return text


def _more_text(more_seconds: float | None, on_the_limit: bool) -> str:
    """How much longer a run would need to settle a close call: `confidence._more_seconds`' answer, or why
    there is none."""
    if more_seconds is not None:
        return f" (about {more_seconds:,.0f} s more at this spread)"
    if on_the_limit:
        return " (it sits on the limit: no run length settles it)"
    return " (no run length within reach settles it)"


def _closed_loop_note(loop: str) -> str:
    """What a closed loop's figures are, in every report that shows them."""
    which = "some of its users" if loop == "mixed" else "its users"
    return (
        f"closed loop: {which} waited for each reply before the next request, so a slow service slowed them "
        "and their latency is timed from the actual send"
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
