"""scripts/compare_bench.py's sizing: the cost per /predict that cuts throughput by a given share."""

from __future__ import annotations

import pytest

from scripts.compare_bench import cost_for_cut


@pytest.mark.parametrize(
    ("probe_us", "probe_change", "cut", "expected_us"),
    [
        (82.5, -0.333, 0.25, 55.08),  # the probe cut too much: a smaller cost
        (80.0, -0.25, 0.25, 80.0),  # the probe was right
        (40.0, -0.20, 0.3333, 40.0 * 0.5 / 0.25),  # linear in the extra CPU per request, not in the change
        (100.0, -0.5, 0.5, 100.0),
    ],
)
def test_the_cost_scales_the_extra_cpu_per_request(
    probe_us: float, probe_change: float, cut: float, expected_us: float
) -> None:
    assert cost_for_cut(probe_us, probe_change, cut) == pytest.approx(expected_us, rel=1e-3)


def test_halving_the_extra_cpu_halves_the_cost() -> None:
    full = cost_for_cut(82.5, -0.33, 0.25)
    assert cost_for_cut(full, -0.25, 1 - 1 / (1 + (1 / 0.75 - 1) / 2)) == pytest.approx(full / 2)


@pytest.mark.parametrize(
    ("probe_change", "cut", "message"),
    [
        (0.02, 0.25, r"changed throughput by \+2\.0%: it must cut it"),
        (0.0, 0.25, "it must cut it"),
        (-1.0, 0.25, "it must cut it"),
        (-0.3, 0.0, "cut must lie between 0 and 1, got 0"),
        (-0.3, 1.0, "cut must lie between 0 and 1, got 1"),
    ],
)
def test_a_probe_that_did_not_cut_or_a_cut_out_of_range_is_an_error(
    probe_change: float, cut: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cost_for_cut(82.5, probe_change, cut)
