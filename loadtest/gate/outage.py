"""Outages: seconds in which the service held back (nearly) every request, judged as a fact of the run.

The confidence bound (`loadtest.gate.confidence`) estimates the share of requests a service puts over a
limit from the spread of its time blocks. One outage defeats it: an 8 s stall in a 90 s run puts ~8% of the
intended requests over 1,000 ms, all of them in one or two blocks beside blocks with none, and blocks that
uneven leave the service's share anywhere between 1% and 15% ("too close to call"). Yet nothing about that
run is uncertain: those requests were held back, and they alone are more than a P95 allows. So an outage is
judged as what it is, a count of this run, not an estimate of the service:

- a second of intended sends is **out** when at least `OUT_SHARE` of its intended requests went over the
  longest latency limit, failed, or were never answered (`IntervalStats.over`: over every limit at once);
- an **outage** is a run of at least `MIN_SECONDS` consecutive out seconds holding at least
  `MIN_REQUESTS` intended requests, that **began abruptly**: one of the `ONSET_SECONDS` seconds before it
  (the one just before may be the second the stall began in, partly held) had a corrected P95 within
  `ONSET_SHARE` of the limit, or the recording starts with it. A service that crept up to the limit
  (a leak) did not fail at once: its blocks show the trend, and the bound and the steady-state test judge it;
- when the requests held back in a scope's outages are more than its latency limit allows of the judged
  window's intended requests (5% for a P95), the limit is breached whatever the bound says.

Evenly spread slow replies never make an out second (12 of every 100 at 1,500 ms is 12% over, not 90%), so
issue 21's cases stay the bound's. Pure: a `Recording` in, `HeldBack` out. docs/measurement.md justifies
the thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtest.gate.reading import AGGREGATED
from loadtest.gate.sequential import LimitSpec, slo_limits
from loadtest.latency.recording import IntervalStats, Recording, merge_stats
from loadtest.thresholds import Slo

OUT_SHARE = 0.9
"""A second is out when at least this share of its intended requests were over the longest limit: 18 times
what a P95 allows, which no evenly spread tail of a service near its limit reaches."""
MIN_SECONDS = 2
"""An outage lasts at least this many consecutive out seconds: one second is within a single GC pause or a
CFS period's reach, and the block bound weighs it."""
MIN_REQUESTS = 30
"""...and holds at least this many intended requests: at a few requests a second, "nearly every one over"
can be chance (27 of 30 over when each has even odds: 4 in a million)."""
ONSET_SECONDS = 2
"""An outage began abruptly when one of this many seconds before its first out second was healthy: the second
just before may be the one the stall began in, part of it held."""
ONSET_SHARE = 0.5
"""Healthy: a corrected P95 within this share of the longest limit (500 ms of 1,000 ms). A leak's seconds
before it crosses the limit are just under it (990 ms), a stalled service's were fast."""


@dataclass(frozen=True)
class Outage:
    """Consecutive out seconds [start, end) of one scope (Unix seconds of intended send)."""

    start: int
    end: int
    held: int
    """Intended requests of those seconds over the longest limit, failed or never answered."""
    intended: int


@dataclass(frozen=True)
class HeldBack:
    """One latency limit whose scope's outages alone hold back more requests than the limit allows."""

    spec: LimitSpec
    longest_ms: float
    """The longest latency limit: every request held back was over it, so over every limit."""
    outages: tuple[Outage, ...]
    window_intended: int
    """The scope's intended requests in the judged window."""

    @property
    def held(self) -> int:
        return sum(outage.held for outage in self.outages)

    @property
    def share(self) -> float:
        """The held-back requests' share of the judged window's intended requests."""
        return self.held / self.window_intended if self.window_intended else 0.0


def longest_limit_ms(slo: Slo) -> float:
    """The longest latency limit of the SLO, aggregate or endpoint (ms)."""
    return max([slo.max_p95_ms, *(e.max_p95_ms for e in slo.endpoints.values() if e.max_p95_ms is not None)])


def outages(recording: Recording, longest_ms: float, start: int, end: int, endpoint: str | None = None) -> list[Outage]:
    """The outages of one scope (None: all requests) in the judged window [start, end), each cut to it.

    `recording` is the whole run: an outage is found, and its onset read, on every second recorded, so one
    that began in the ramp is still an outage where it reaches into the window."""
    seconds = {second: stats for second, stats in recording.per_second(endpoint) if stats.intended}
    if not seconds:
        return []
    first, last = min(seconds), max(seconds)
    found: list[Outage] = []
    run: list[int] = []
    for second in range(first, last + 2):  # one past the last closes a run that reaches the end
        stats = seconds.get(second)
        if stats is not None and _out(stats, longest_ms):
            run.append(second)
            continue
        if stats is None and second <= last and run:
            continue  # nothing intended that second (a slow rate): it neither breaks an outage nor counts
        if run:
            lasted = len(run) >= MIN_SECONDS and sum(seconds[s].intended for s in run) >= MIN_REQUESTS
            judged = [s for s in run if start <= s < end]
            if lasted and judged and _abrupt(seconds, run[0], first, longest_ms):
                found.append(
                    Outage(
                        start=judged[0],
                        end=judged[-1] + 1,
                        held=sum(seconds[s].over(longest_ms) for s in judged),
                        intended=sum(seconds[s].intended for s in judged),
                    )
                )
            run = []
    return found


def _out(stats: IntervalStats, longest_ms: float) -> bool:
    """Whether the service held back nearly every request of the second. Sends Locust itself made later than
    the limit (a frozen generator) are over it whatever the service did: they do not count."""
    return stats.over(longest_ms) - stats.late_sends(longest_ms) >= OUT_SHARE * stats.intended


def without(recording: Recording, found: Sequence[Outage]) -> IntervalStats:
    """All the requests of the recording but those intended in the outages' seconds.

    The generator-lag rule reads this: when a stall ends, each user sends the requests it missed at once, and
    one Locust process sending a few thousand in a second sends some late; those requests were held back by
    the service (their fate is the outage's), not delayed by a saturated generator."""
    held = {second for outage in found for second in range(outage.start, outage.end)}
    return merge_stats(stats for second, stats in recording.per_second() if second not in held)


def _abrupt(seconds: dict[int, IntervalStats], begin: int, first: int, longest_ms: float) -> bool:
    """Whether the service was healthy in one of the `ONSET_SECONDS` seconds before `begin`, or the recording
    starts there (nothing to have crept from)."""
    if begin - ONSET_SECONDS < first:
        return True
    return any(_healthy(seconds[s], longest_ms) for s in range(begin - ONSET_SECONDS, begin) if s in seconds)


def _healthy(stats: IntervalStats, longest_ms: float) -> bool:
    p95 = stats.corrected_percentiles().p95_ms
    return math.isfinite(p95) and p95 <= ONSET_SHARE * longest_ms


def held_back(recording: Recording, slo: Slo, start: int, end: int) -> list[HeldBack]:
    """Every latency limit whose scope's outages in the judged window [start, end) hold back more than the
    limit allows of that scope's intended requests (empty: none does)."""
    longest = longest_limit_ms(slo)
    judged = recording.window(start, end)
    found = []
    for spec in slo_limits(slo):
        if spec.check != "max_p95_ms":
            continue
        endpoint = None if spec.scope == AGGREGATED else spec.scope
        scope_outages = outages(recording, longest, start, end, endpoint)
        held = HeldBack(spec, longest, tuple(scope_outages), judged.total(endpoint).intended)
        if scope_outages and held.share > spec.allowed:
            found.append(held)
    return found


def reason(held: HeldBack, first_second: int, p95_ms: float | None, p95_at_least: bool) -> str:
    """Why the run breached: `held back: from 20 s to 28 s every intended request waited over 1,000 ms, failed
    or was never answered (1,312 of 1,320): 1,312 of 14,190 intended in the judged window (9.2%), more than
    the 5% the P95 limit of 1,000 ms allows; corrected P95 6,900 ms`. Seconds count from `first_second`, the
    recording's first."""
    spec = held.spec
    of = "" if spec.scope == AGGREGATED else f" of {spec.scope}"
    spans = _join([f"from {o.start - first_second} s to {o.end - first_second} s" for o in held.outages])
    intended_in = sum(o.intended for o in held.outages)
    every = "every" if held.held == intended_in else "nearly every"
    p95 = "" if p95_ms is None else f"; corrected P95{of} {'at least ' if p95_at_least else ''}{p95_ms:,.0f} ms"
    return (
        f"held back: {spans} {every} intended request{of} waited over {held.longest_ms:,g} ms, failed or was "
        f"never answered ({held.held:,} of {intended_in:,}): {held.held:,} of {held.window_intended:,} intended "
        f"in the judged window ({held.share:.1%}), more than the {held.spec.allowed:.0%} the P95 limit{of} of "
        f"{spec.limit:,g} ms allows{p95}"
    )


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
