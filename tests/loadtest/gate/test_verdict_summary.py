"""The verdict for people (loadtest/gate/verdict_summary.py): the Markdown summary and the terminal view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.gate.confidence import share_text
from loadtest.gate.reading import LocustStats, read_stats
from loadtest.gate.verdict import evaluate
from loadtest.gate.verdict_summary import HISTOGRAM_NOTE, render_console, render_summary
from loadtest.records import Verdict
from loadtest.thresholds import EndpointLimits, Slo
from tests.loadtest import histogram_files as hist
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


# --------------------------------------------------------------------------- from the histograms (issues 20, 21)


def _histogram_cell(tmp_path: Path, run: hist.Run, slo: Slo) -> tuple[LocustStats, Verdict]:
    folder = tmp_path / "cell"
    healthy_run().write(folder)
    run.write(folder)
    stats = read_stats(folder)
    return stats, evaluate(stats, slo)


def test_a_bounded_check_states_its_share_over_the_limit_and_the_interval(tmp_path: Path, slo: Slo) -> None:
    stats, verdict = _histogram_cell(tmp_path, hist.steady(30, hist.n_in_100(200, 12)), slo)
    summary = render_summary(stats, verdict)
    lines = summary.splitlines()

    p95 = next(check for check in verdict.checks if check.name == "max_p95_ms")
    assert p95.lower is not None
    assert p95.upper is not None
    interval = f"[{share_text(p95.lower)}, {share_text(p95.upper)}]"
    assert lines[0] == "## ❌ Performance gate FAILED: 1 of 2 checks breached"
    row = f"| P95 | Aggregated | {verdict.p95_ms:,.0f} ms; 12.0% over 1,000 ms {interval} | ≤ 1,000 ms (≤ 5.0% over) |"
    assert f"{row} ❌ **breached** |" in lines
    assert "**5,600 intended requests**" in lines[2]  # 28 s judged in blocks of 4 s
    assert "(corrected)" in lines[2]
    assert "| Scope | Timed from | P50 (ms) | P95 (ms) | P99 (ms) | P99.9 (ms) | Max (ms) |" in lines
    assert any(line.startswith("| Aggregated | intended send | 5 | 1,50") for line in lines)
    assert any(line.startswith("| Aggregated | actual send | 5 | 1,50") for line in lines)
    assert "| Aggregated | 5,600 | 5,600 | 5,600 | 0 | 0 |" in lines
    assert "| loop | open: every request on its user's schedule, timed from its intended send |" in lines
    assert HISTOGRAM_NOTE in summary
    assert "true P95 between" not in summary  # Locust's bucketing note belongs to Locust's figures


def test_a_run_too_close_to_call_says_so_in_its_headline(tmp_path: Path, slo: Slo) -> None:
    stats, verdict = _histogram_cell(tmp_path, hist.steady(30, hist.n_in_100(200, 5)), slo)
    summary = render_summary(stats, verdict)

    assert summary.startswith("## ⚠️ Performance gate INCONCLUSIVE: too close to call\n")
    assert "| ⚠️ too close to call |" in summary
    assert "INCONCLUSIVE: too close to call" in render_console(stats, verdict)


def test_a_limit_breached_by_an_outage_says_held_back_beside_its_bound(tmp_path: Path, slo: Slo) -> None:
    # 8 s of every request held in 90 s: the bound is too close to call, the outage breaches (gate/outage.py).
    def second(i: int) -> list[hist.Second]:
        return [hist.Second([(28 - i) * 1000.0 if 20 <= i < 28 else 5.0] * 100)]

    stats, verdict = _histogram_cell(tmp_path, hist.Run(90, second), slo)
    summary = render_summary(stats, verdict)

    assert summary.startswith("## ❌ Performance gate FAILED: 1 of 2 checks breached\n")
    assert "- held back: from 20 s to 28 s every intended request waited over 1,000 ms" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| P95 | Aggregated |"))
    assert row.endswith("| ❌ **breached** (held back) |")
    assert "BREACHED (held back)" in render_console(stats, verdict)


def test_unanswered_requests_make_their_percentiles_lower_bounds(tmp_path: Path, slo: Slo) -> None:
    held = hist.Second([5.0] * 80, unanswered=20, unsent=15)
    stats, verdict = _histogram_cell(tmp_path, hist.steady(30, held), slo)
    console = render_console(stats, verdict)

    corrected = next(line for line in console.splitlines() if line.startswith("Aggregated") and "intended" in line)
    assert corrected.count("≥") == 4  # P95, P99, P99.9 and the max fall among the unanswered
    assert "Unfinished" in console


def test_a_run_without_histograms_is_labelled_closed_loop(judged: Judge) -> None:
    stats, verdict = judged(healthy_run())
    summary = render_summary(stats, verdict)

    assert (
        "| loop | closed: each user waited for its reply before the next request, timed from the actual send |"
        in summary
    )
    assert "### Latency" not in summary
