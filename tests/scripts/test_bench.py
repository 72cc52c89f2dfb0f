"""scripts/bench.py without wrk: reading wrk's output, the medians, the ratios and the table."""

from __future__ import annotations

import argparse

import pytest

from scripts.bench import (
    TARGETS,
    BenchError,
    WrkResult,
    cost_split_us,
    cpu_index,
    format_table,
    parse_duration_ms,
    parse_wrk,
    ratios,
    rotated,
    summarize,
)

# wrk 4.2 with --latency, as it prints a run with some errors.
WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:18080/predict
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.21ms  812.00us  12.34ms   80.00%
    Req/Sec    11.89k   345.67    12.40k    70.00%
  Latency Distribution
     50%    4.10ms
     75%    4.50ms
     90%    5.02ms
     99%    7.80ms
  35670 requests in 3.00s, 5.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  11887.45
Transfer/sec:      1.71MB
"""


def test_wrk_output_is_read() -> None:
    assert parse_wrk(WRK_OUTPUT) == WrkResult(
        requests_per_s=11887.45, p50_ms=4.1, p99_ms=7.8, requests=35670, non_2xx=12, socket_errors=3
    )


def test_a_clean_run_has_no_errors() -> None:
    clean = "\n".join(
        line for line in WRK_OUTPUT.splitlines() if not line.lstrip().startswith(("Socket errors", "Non-2xx"))
    )
    result = parse_wrk(clean)
    assert (result.non_2xx, result.socket_errors) == (0, 0)


def test_output_without_the_figures_is_an_error() -> None:
    with pytest.raises(BenchError, match="unexpected wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:18080 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "ms"), [("812.00us", 0.812), ("4.21ms", 4.21), ("1.02s", 1020.0), ("1.50m", 90_000.0)]
)
def test_wrk_durations_in_milliseconds(text: str, ms: float) -> None:
    assert parse_duration_ms(text) == pytest.approx(ms)


def test_an_unknown_duration_is_named() -> None:
    with pytest.raises(BenchError, match=r"cannot read wrk duration '4\.2h'"):
        parse_duration_ms("4.2h")


def test_targets_take_turns_going_first() -> None:
    keys = [target.key for target in TARGETS]
    assert [rotated(keys, by)[0] for by in range(len(keys) + 1)] == [*keys, keys[0]]


def _runs(rps: dict[str, list[float]]) -> dict[str, list[WrkResult]]:
    return {key: [WrkResult(value, 1.0, 2.0, int(value), 0, 0) for value in values] for key, values in rps.items()}


def test_the_summary_the_ratios_and_the_table() -> None:
    summary = summarize(
        _runs(
            {"floor": [9000, 10000, 11000], "predict": [8500, 8000, 9000], "baseline": [400, 500], "validate": [9000]}
        )
    )
    assert summary["floor"] == {
        "rps_median": 10000,
        "rps_min": 9000,
        "rps_max": 11000,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "runs": 3,
    }
    found = ratios(summary)
    assert found == pytest.approx(
        {"predict_vs_floor": 0.85, "predict_vs_baseline": 8500 / 450, "validate_vs_floor": 0.9}
    )
    split = cost_split_us(summary)
    assert split["floor"] + split["json_body"] + split["inference"] == pytest.approx(split["predict"])
    table = format_table(summary, found)
    assert "(target >= 0.8x: met)" in table
    assert "(target >= 15x: met)" in table
    assert "9,000..11,000" in table


def test_a_missed_target_says_so() -> None:
    summary = summarize(_runs({"floor": [10000], "predict": [5000], "baseline": [1000], "validate": [9000]}))
    table = format_table(summary, ratios(summary))
    assert "(target >= 0.8x: NOT met)" in table
    assert "(target >= 15x: NOT met)" in table


def test_a_cpu_that_is_not_ours_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not a CPU number"):
        cpu_index("x")
    with pytest.raises(argparse.ArgumentTypeError, match=r"CPU 4096 is not available \(available: \["):
        cpu_index("4096")
