"""Whether a run measured the service: what its users should have sent, and who used the CPU.

Pure functions over the run's statistics and its run.json. A closed loop hides a starved service
(its users stop asking while they wait, and requests still queued at the end are never counted),
so what the service served is compared with what its users should have sent over the judged
window: for kinds of users with a `rate` (open loop) the target itself, for those with `between`
waits Little's law at the response times measured. Locust's own CPU, read back like the API's, says when the load
generator rather than the service set the pace.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from loadtest.gate.reading import LocustStats
from loadtest.records import Delivery, Resources, ResourceSample, RunRecord, Window
from loadtest.scenario import Scenario

LOCUST_BUSY_CPU = 0.9
"""Locust is busy in an interval when it used this share of its cores or more (Locust's own warning is at 90%)."""
SAMPLE_MARGIN_S = 1.0
"""Samples this close outside the window still count (the history is written once a second)."""


def delivery(stats: LocustStats, scenario: Scenario, window: Window) -> Delivery | None:
    """Served against expected over `window` (None when the run holds nothing to compare)."""
    users = stats.users_in(window)
    served = stats.aggregated.rps
    if users is None or users <= 0:
        return None
    response_ms = {name: figures.mean_ms for name, figures in stats.endpoints.items() if figures.mean_ms is not None}
    expected = scenario.asked_rps(users, response_ms)
    if expected <= 0:
        return None
    constant = [kind for kind, load in scenario.present().items() if load.open_loop]
    basis = (
        "the constant-throughput target"
        if len(constant) == len(scenario.present())
        else "Little's law at the measured response times"
        if not constant
        else "the constant-throughput target and Little's law at the measured response times"
    )
    return Delivery(served_rps=served, expected_rps=expected, ratio=served / expected, basis=basis, users=users)


def resources(record: RunRecord, window: Window, workers: int) -> Resources | None:
    """The API's and Locust's CPU over `window` from run.json's samples (None with fewer than two)."""
    if window.start is None or window.end is None:
        return None
    inside = [
        sample
        for sample in record.samples
        if window.start - SAMPLE_MARGIN_S <= sample.t <= window.end + SAMPLE_MARGIN_S
    ]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    seconds = last.t - first.t
    if seconds <= 0:
        return None
    api_cpu = _delta(first.api_cpu_seconds, last.api_cpu_seconds)
    periods = _delta(first.api_cpu_periods, last.api_cpu_periods)
    throttled = _delta(first.api_cpu_throttled_periods, last.api_cpu_throttled_periods)
    peak, busy = _locust_busy(inside, max(1, workers))
    return Resources(
        seconds=seconds,
        api_cpu_share=api_cpu / (seconds * record.api_cpus) if api_cpu is not None else None,
        api_throttled_share=throttled / periods if throttled is not None and periods else None,
        locust_peak_cpu=peak,
        locust_busy_seconds=busy,
    )


def _delta(before: float | None, after: float | None) -> float | None:
    """A counter's growth (a restarted replica's counters can only make it smaller: never below 0)."""
    if before is None or after is None:
        return None
    return max(0.0, after - before)


def _locust_busy(samples: Sequence[ResourceSample], workers: int) -> tuple[float | None, float | None]:
    """Locust's busiest interval (CPU per core it has) and the seconds it spent at 90% or more."""
    peak: float | None = None
    busy = 0.0
    for before, after in itertools.pairwise(samples):
        used = _delta(before.locust_cpu_seconds, after.locust_cpu_seconds)
        interval = after.t - before.t
        if used is None or interval <= 0:
            continue
        share = used / (interval * workers)
        peak = share if peak is None else max(peak, share)
        if share >= LOCUST_BUSY_CPU:
            busy += interval
    return peak, (busy if peak is not None else None)


def cpu_seconds_per_request(resources: Resources | None, api_cpus: float, served_rps: float) -> float | None:
    """The replicas' CPU time per request answered over the judged window, in seconds: the CPU seconds they
    used per second (the share of their limit, times the limit) over the requests answered per second.

    Unlike throughput or latency it holds no queueing: a CPU cost added to every request shows in it at any
    load below saturation. None without CPU samples over the window, or with no request answered.
    """
    if resources is None or resources.api_cpu_share is None or served_rps <= 0:
        return None
    return resources.api_cpu_share * api_cpus / served_rps
