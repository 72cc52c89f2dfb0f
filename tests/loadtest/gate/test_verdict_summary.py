"""The verdict for people (loadtest/gate/verdict_summary.py): the Markdown summary and the terminal view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loadtest.gate import evaluate, read_stats, render_console, render_summary
from loadtest.thresholds import EndpointLimits, Slo
from tests.loadtest.locust_csv import REAL_RUNS, Entry, Failure, SyntheticRun, healthy_run

if TYPE_CHECKING:
    from tests.conftest import Judge


def test_the_summary_puts_the_verdict_first_then_the_tables(judged: Judge) -> None:
    stats, verdict = judged(healthy_run(failures=100, p95=1000))
    summary = render_summary(stats, verdict)
    lines = summary.splitlines()
    assert lines[0] == "## ❌ Performance gate FAILED: 1 of 2 checks breached"
    assert "| Error rate | Aggregated | 1.00% (100/10,000) | < 1% | ❌ **breached** |" in lines
    assert "| P95 | Aggregated | 1,000 ms | ≤ 1,000 ms | ✅ pass |" in lines
    assert "| Endpoint | Requests | Failures | Failure % | req/s | P50 (ms) | P95 (ms) | P99 (ms) |" in lines
    assert "| POST /predict | 8,000 | 100 | 1.25% | 400.0 | 20 | 1,000 | 200 |" in lines
    assert "| **Aggregated** | **10,000** | **100** | **1.00%** | **500.0** | **20** | **1,000** | **200** |" in lines
    assert "| ConnectionResetError(104, 'Connection reset by peer') | POST /predict | 100 | 100.0% |" in lines
    assert "true P95 between about 995 and 1,050 ms" in summary
    assert "the next value Locust can report is 1,100 ms" in summary
    assert summary.index("Performance gate") < summary.index("Requests by endpoint") < summary.index("Failures")


def test_the_summary_of_a_clean_run(judged: Judge) -> None:
    stats, verdict = judged(healthy_run())
    summary = render_summary(stats, verdict)
    assert summary.startswith("## ✅ Performance gate PASSED: all 2 checks hold\n")
    assert "No failures." in summary
    assert "100 users at peak, 10 s of history" in summary


def test_endpoint_and_throughput_checks_show_their_own_figures(judged: Judge) -> None:
    entries = [Entry("POST", "POST /predict", 1000, 0), Entry("GET", "GET /health", 1000, 15)]
    slo = Slo(
        max_error_rate=0.05, max_p95_ms=1000, min_rps=50, endpoints={"GET /health": EndpointLimits(max_error_rate=0.01)}
    )
    stats, verdict = judged(SyntheticRun(entries=entries), slo)
    lines = render_summary(stats, verdict).splitlines()
    assert "| Throughput | Aggregated | 100.0 req/s | ≥ 50 req/s | ✅ pass |" in lines
    assert "| Error rate | GET /health | 1.50% (15/1,000) | < 1% | ❌ **breached** |" in lines


def test_failure_types_are_sorted_by_count_with_their_shares(judged: Judge) -> None:
    run = healthy_run(failures=0)
    run.entries[2].failures = 40
    run.failures = [
        Failure("POST", "POST /predict", "CatchResponseError(\"reply lacks 'probabilities'\")", 10),
        Failure("POST", "POST /predict", "ConnectionRefusedError(111, 'Connection refused')", 30),
    ]
    console = render_console(*judged(run))
    rows = [line.split() for line in console.splitlines() if "POST /predict" in line and "Error(" in line]
    assert [row[0] for row in rows] == ["ConnectionRefusedError(111,", 'CatchResponseError("reply']
    assert [row[-1] for row in rows] == ["75.0%", "25.0%"]


def test_rare_failure_types_never_show_as_zero_percent(slo: Slo) -> None:
    run = read_stats(REAL_RUNS / "api-down")
    console = render_console(run, evaluate(run, slo))
    row = next(line for line in console.splitlines() if line.startswith("HTTPConnectionClosed"))
    assert row.split()[-3:] == ["/predict", "1", "<0.1%"]


def test_the_console_table_is_aligned(judged: Judge) -> None:
    console = render_console(*judged(healthy_run(failures=5)))
    assert console.startswith("Performance gate PASSED: all 2 checks hold")
    table = next(block for block in console.split("\n\n") if block.startswith("Endpoint")).splitlines()
    assert table[0].split() == [
        "Endpoint",
        "Requests",
        "Failures",
        "Failure",
        "%",
        "req/s",
        "P50",
        "(ms)",
        "P95",
        "(ms)",
        "P99",
        "(ms)",
    ]
    assert len({len(line) for line in table[2:]}) == 1  # right-aligned numbers end in one column


def test_the_console_lists_failures_only_when_there_are_some(judged: Judge) -> None:
    assert "Occurrences" not in render_console(*judged(healthy_run()))
    assert "Occurrences" in render_console(*judged(healthy_run(failures=5)))
