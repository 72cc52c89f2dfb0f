"""Locust's response-time buckets (loadtest/gate/buckets.py): what a reported percentile stands for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loadtest.gate.buckets import bucket_bounds, reportable_above, reportable_at_most


@pytest.mark.parametrize(
    ("reported", "bounds"),
    [
        (7, (6.5, 7.5)),
        (100, (99.5, 105)),
        (990, (985, 995)),
        (1000, (995, 1050)),
        (1100, (1050, 1150)),
        (10_000, (9950, 10_500)),
        (0, (0, 0.5)),
    ],
)
def test_bucket_bounds(reported: int, bounds: tuple[float, float]) -> None:
    assert bucket_bounds(reported) == bounds


@pytest.mark.parametrize(
    ("limit", "at_most", "above"), [(1000, 1000, 1100), (750, 750, 760), (1234, 1200, 1300), (99.5, 99, 100)]
)
def test_reportable_values_around_a_limit(limit: float, at_most: int, above: int) -> None:
    assert (reportable_at_most(limit), reportable_above(limit)) == (at_most, above)


@pytest.mark.integration
def test_bucket_bounds_agree_with_locusts_own_rounding() -> None:
    # Locust is imported only in a subprocess (it monkey-patches with gevent).
    times = [step / 4 for step in range(48_000)] + [994.999, 995.0, 1049.999, 1050.0, 1050.001, 99.5, 9950.0]
    script = (
        "import json, sys\nfrom locust.stats import bucket_response_time\n"
        "print(json.dumps([bucket_response_time(t) for t in json.load(sys.stdin)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(times), capture_output=True, text=True, timeout=60, check=True
    )
    reported = json.loads(done.stdout)
    outside = [
        (time, value)
        for time, value in zip(times, reported, strict=True)
        if not bucket_bounds(value)[0] <= time <= bucket_bounds(value)[1]
    ]
    assert outside == []
    assert [value for value in set(reported) if reportable_at_most(value) != value] == []  # every bucket is reportable
