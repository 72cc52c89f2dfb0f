"""Locust's response-time buckets: what a reported percentile can stand for.

Locust rounds every response time before it counts it (`bucket_response_time` in
`locust/stats.py`) and reads percentiles from the rounded values.
"""

from __future__ import annotations


def bucket_step(ms: float) -> int:
    """The rounding Locust's `bucket_response_time` applies to a response time of `ms`."""
    return 1 if ms < 100 else 10 if ms < 1000 else 100 if ms < 10_000 else 1000


def bucket_bounds(reported_ms: float) -> tuple[float, float]:
    """The true response times Locust reports as `reported_ms` (ties round half to even)."""
    below = bucket_step(reported_ms - 0.001) if reported_ms > 0 else 1
    return max(0.0, reported_ms - below / 2), reported_ms + bucket_step(reported_ms) / 2


def reportable_at_most(limit_ms: float) -> int:
    """The largest response time Locust can report that is not over `limit_ms`."""
    step = bucket_step(limit_ms)
    return int(limit_ms // step * step)


def reportable_above(limit_ms: float) -> int:
    """The smallest response time Locust can report that is over `limit_ms`."""
    highest = reportable_at_most(limit_ms)
    return highest + bucket_step(highest)
