"""The gate on synthetic runs: boundaries, every can't-judge case, per-endpoint limits, outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.gate import (
    GateInputError,
    endpoint_label,
    evaluate,
    judge_folder,
    read_stats,
    render_console,
    render_summary,
    write_cannot_judge,
)
from loadtest.gate.buckets import bucket_bounds, reportable_above, reportable_at_most
from loadtest.thresholds import EndpointLimits, Slo
from loadtest.util.units import format_rate
from tests.loadtest.locust_csv import (
    HEADERS,
    Entry,
    Failure,
    SyntheticRun,
    aggregate,
    healthy_run,
    replace_cell,
)

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)


def judge(tmp_path: Path, run: SyntheticRun, slo: Slo = SLO):
    return evaluate(read_stats(run.write(tmp_path / "run")), slo)


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("failures", "passed"),
    [(0, True), (99, True), (100, False), (101, False), (8_000, False)],
    ids=["none", "0.99%", "1.00%", "1.01%", "80%"],
)
def test_error_rate_fails_at_one_percent_or_more(tmp_path: Path, failures: int, passed: bool) -> None:
    verdict = judge(tmp_path, healthy_run(requests=10_000, failures=failures))
    assert verdict.passed is passed
    check = next(check for check in verdict.checks if check.name == "max_error_rate")
    assert (check.scope, check.limit, check.passed) == ("Aggregated", 0.01, passed)
    assert check.value == pytest.approx(failures / 10_000)
    assert verdict.error_rate == pytest.approx(failures / 10_000)


def test_error_rate_is_compared_exactly(tmp_path: Path) -> None:
    # 1 in 3 is just under 0.33334 and just over 0.33333: no float rounding decides it.
    run = SyntheticRun(entries=[Entry("GET", "GET /", 3, 1)])
    assert judge(tmp_path / "a", run, Slo(max_error_rate=0.33334, max_p95_ms=1000)).passed
    assert not judge(tmp_path / "b", run, Slo(max_error_rate=0.33333, max_p95_ms=1000)).passed


@pytest.mark.parametrize(("p95", "passed"), [(990, True), (1000, True), (1001, False), (1100, False)], ids=str)
def test_p95_fails_when_over_the_limit(tmp_path: Path, p95: int, passed: bool) -> None:
    verdict = judge(tmp_path, healthy_run(p95=p95))
    assert verdict.passed is passed
    assert verdict.p95_ms == p95
    check = next(check for check in verdict.checks if check.name == "max_p95_ms")
    assert (check.value, check.limit, check.passed) == (p95, 1000, passed)


def test_both_limits_breached_are_both_reported(tmp_path: Path) -> None:
    verdict = judge(tmp_path, healthy_run(failures=500, p95=3000))
    assert not verdict.passed
    assert [check.name for check in verdict.breached] == ["max_error_rate", "max_p95_ms"]


def test_zero_requests_never_pass(tmp_path: Path) -> None:
    run = SyntheticRun(entries=[])
    with pytest.raises(GateInputError, match=r"locust_stats\.csv: zero requests"):
        judge(tmp_path, run)


# --------------------------------------------------------------------------- optional limits


def test_min_rps_when_enabled(tmp_path: Path) -> None:
    run = healthy_run()  # 500 req/s in all
    at_limit = judge(tmp_path / "a", run, Slo(max_error_rate=0.01, max_p95_ms=1000, min_rps=500))
    assert at_limit.passed
    assert at_limit.checks[-1].name == "min_rps"
    below = judge(tmp_path / "b", run, Slo(max_error_rate=0.01, max_p95_ms=1000, min_rps=500.5))
    assert not below.passed
    assert [(c.name, c.value, c.limit) for c in below.breached] == [("min_rps", 500.0, 500.5)]


def test_min_rps_off_by_default(tmp_path: Path) -> None:
    assert [check.name for check in judge(tmp_path, healthy_run()).checks] == ["max_error_rate", "max_p95_ms"]


def test_per_endpoint_limits_are_checked_on_their_row(tmp_path: Path) -> None:
    entries = [Entry("POST", "POST /predict", 1000, 0, p95=600), Entry("GET", "GET /health", 1000, 15, p95=50)]
    run = SyntheticRun(entries=entries)  # Aggregated: 0.75% errors, P95 600: passes the SLO
    slo = Slo(
        max_error_rate=0.01,
        max_p95_ms=1000,
        endpoints={
            "POST /predict": EndpointLimits(max_p95_ms=500),
            "GET /health": EndpointLimits(max_error_rate=0.01, max_p95_ms=100),
        },
    )
    verdict = judge(tmp_path, run, slo)
    assert not verdict.passed
    assert [(c.name, c.scope, c.passed) for c in verdict.checks] == [
        ("max_error_rate", "Aggregated", True),
        ("max_p95_ms", "Aggregated", True),
        ("max_p95_ms", "POST /predict", False),
        ("max_error_rate", "GET /health", False),
        ("max_p95_ms", "GET /health", True),
    ]


def test_per_endpoint_limit_on_an_endpoint_the_run_never_called(tmp_path: Path) -> None:
    slo = Slo(max_error_rate=0.01, max_p95_ms=1000, endpoints={"POST /predit": EndpointLimits(max_p95_ms=5)})
    with pytest.raises(GateInputError, match=r"endpoint 'POST /predit', which the run never requested"):
        judge(tmp_path, healthy_run(), slo)


@pytest.mark.parametrize(
    ("method", "name", "label"),
    [("POST", "POST /predict", "POST /predict"), ("POST", "/predict", "POST /predict"), ("GET", "/", "GET /")],
)
def test_endpoint_labels_match_either_naming_style(method: str, name: str, label: str) -> None:
    assert endpoint_label(method, name) == label


def test_plain_locust_names_match_endpoint_keys(tmp_path: Path) -> None:
    run = SyntheticRun(entries=[Entry("POST", "/predict", 100, 0, p95=700)])
    slo = Slo(max_error_rate=0.01, max_p95_ms=1000, endpoints={"POST /predict": EndpointLimits(max_p95_ms=500)})
    assert [c.scope for c in judge(tmp_path, run, slo).breached] == ["POST /predict"]


# --------------------------------------------------------------------------- cannot judge


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _drop_last_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


CANNOT_JUDGE = [
    ("missing-stats", lambda d: (d / "locust_stats.csv").unlink(), r"locust_stats\.csv: missing"),
    ("missing-failures", lambda d: (d / "locust_failures.csv").unlink(), r"locust_failures\.csv: missing"),
    ("missing-exceptions", lambda d: (d / "locust_exceptions.csv").unlink(), r"locust_exceptions\.csv: missing"),
    ("missing-history", lambda d: (d / "locust_stats_history.csv").unlink(), r"locust_stats_history\.csv: missing"),
    ("empty-stats", lambda d: (d / "locust_stats.csv").write_bytes(b""), r"locust_stats\.csv: empty"),
    ("empty-failures", lambda d: (d / "locust_failures.csv").write_bytes(b""), r"locust_failures\.csv: empty"),
    ("empty-history", lambda d: (d / "locust_stats_history.csv").write_bytes(b""), r"history\.csv: empty"),
    ("header-only-stats", lambda d: _truncate_to_header(d / "locust_stats.csv"), r"no Aggregated row"),
    ("truncated-mid-row", lambda d: _truncate(d / "locust_stats.csv", 0.93), r"is empty \(truncated file\?\)"),
    (
        "truncated-header",
        lambda d: _truncate(d / "locust_stats.csv", 0.05),
        r"header is cut short: lacks .Failure Count.",
    ),
    ("no-aggregated-row", lambda d: _drop_last_line(d / "locust_stats.csv"), r"no Aggregated row"),
    ("binary-garbage", lambda d: (d / "locust_stats.csv").write_bytes(b"\xff\xd8\xff\xe0\x00JFIF"), r"not UTF-8"),
    ("unterminated-quote", lambda d: _append(d / "locust_failures.csv", 'GET,/,"oops\n'), r"corrupt CSV"),
    ("extra-fields", lambda d: _append(d / "locust_stats.csv", "GET,x,1,0" + ",1" * 30 + "\n"), r"corrupt CSV"),
    (
        "rows-after-aggregated",
        lambda d: _append(d / "locust_stats.csv", "GET,/x,1,0" + ",1" * 18 + "\n"),
        r"rows after the Aggregated row",
    ),
    (
        "p95-na",
        lambda d: replace_cell(d / "locust_stats.csv", "Aggregated", "95%", "N/A"),
        r"row 'Aggregated': '95%' is N/A where a figure must be",
    ),
    (
        "endpoint-p99-na",
        lambda d: replace_cell(d / "locust_stats.csv", "POST /predict", "99%", "N/A"),
        r"row 'POST /predict': '99%' is N/A where a figure must be",
    ),
    (
        "requests-not-a-number",
        lambda d: replace_cell(d / "locust_stats.csv", "Aggregated", "Request Count", "lots"),
        r"'Request Count' is 'lots', not a whole number",
    ),
    (
        "rps-negative",
        lambda d: replace_cell(d / "locust_stats.csv", "Aggregated", "Requests/s", "-1"),
        r"'Requests/s' is '-1', not a number",
    ),
    (
        "failures-over-requests",
        lambda d: replace_cell(d / "locust_stats.csv", "GET /", "Failure Count", "99999"),
        r"Failure Count 99999 is more than Request Count",
    ),
    (
        "occurrences-not-a-count",
        lambda d: replace_cell(d / "locust_failures.csv", "POST /predict", "Occurrences", "x"),
        r"locust_failures\.csv: line 2: 'Occurrences' is 'x', not a count",
    ),
    (
        "history-garbage",
        lambda d: _append(d / "locust_stats_history.csv", "soon" + ",1" * 23 + "\n"),
        r"'Timestamp' is 'soon', not a number",
    ),
    (
        "history-behind-stats",
        lambda d: _drop_last_line(d / "locust_stats_history.csv"),
        r"locust_stats_history\.csv: ends at 9,000 requests and 9 failures, but locust_stats\.csv counts 10,000 and 10: "
        r"the files are from different moments",
    ),
    ("not-a-locust-csv", lambda d: (d / "locust_stats.csv").write_text("a,b\n1,2\n"), r"not a Locust CSV"),
    ("run-dir-missing", lambda d: _remove_tree(d), r"run: no such folder"),
]


def _truncate_to_header(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _remove_tree(run_dir: Path) -> None:
    for path in run_dir.iterdir():
        path.unlink()
    run_dir.rmdir()


@pytest.mark.parametrize(
    ("breakage", "message"), [(b, m) for _, b, m in CANNOT_JUDGE], ids=[c[0] for c in CANNOT_JUDGE]
)
def test_broken_runs_cannot_be_judged(tmp_path: Path, breakage, message: str) -> None:
    run_dir = healthy_run(failures=10).write(tmp_path / "run")
    breakage(run_dir)
    with pytest.raises(GateInputError, match=message) as raised:
        evaluate(read_stats(run_dir), SLO)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(str(run_dir))


def test_locustfile_exceptions_mean_the_load_is_broken(tmp_path: Path) -> None:
    run = healthy_run()
    run.exceptions = [(3, "KeyError('features')")]
    with pytest.raises(GateInputError, match=r"locust_exceptions\.csv: the locustfile raised 3 exception"):
        judge(tmp_path, run)


def test_a_prefix_other_than_locust(tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run", prefix="cell1")
    assert evaluate(read_stats(run_dir, prefix="cell1"), SLO).passed
    with pytest.raises(GateInputError, match="locust_stats.csv: missing"):
        read_stats(run_dir)


# --------------------------------------------------------------------------- reading


def test_read_stats_exposes_frames_and_figures(tmp_path: Path) -> None:
    run = read_stats(healthy_run(failures=40, p95=300).write(tmp_path / "run"))
    total = run.aggregated
    assert (total.name, total.requests, total.failures, total.p95_ms) == ("Aggregated", 10_000, 40, 300)
    assert total.error_rate == pytest.approx(0.004)
    assert (total.p50_ms, total.p99_ms, total.rps) == (20, 200, 500.0)
    assert list(run.endpoints) == ["GET /", "GET /health", "POST /predict"]
    assert len(run.stats) == 4
    assert run.failures["Occurrences"].tolist() == [40]
    assert run.exceptions.empty
    assert (run.peak_users, run.duration_s) == (100, 10)


def test_zero_request_endpoint_row_may_hold_na(tmp_path: Path) -> None:
    entries = [Entry("GET", "GET /", 0), Entry("POST", "POST /predict", 100, 0)]
    run = SyntheticRun(entries=entries, aggregated=aggregate(entries))
    figures = read_stats(run.write(tmp_path / "run")).endpoints["GET /"]
    assert (figures.requests, figures.p95_ms, figures.error_rate) == (0, None, None)


REAL_RUNS = Path(__file__).resolve().parents[2] / "data" / "locust"


@pytest.mark.parametrize("scenario", sorted(path.name for path in REAL_RUNS.iterdir() if path.is_dir()))
def test_synthetic_headers_are_locusts_real_ones(scenario: str) -> None:
    for kind, header in HEADERS.items():
        with (REAL_RUNS / scenario / f"locust_{kind}.csv").open(newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == header


def test_real_healthy_run_reads_whole(tmp_path: Path) -> None:
    run = read_stats(REAL_RUNS / "healthy")
    assert list(run.endpoints) == ["GET /", "GET /health", "POST /predict"]
    assert run.aggregated.requests == sum(figures.requests for figures in run.endpoints.values())
    assert run.aggregated.failures == 0
    assert run.failures.empty
    assert run.exceptions.empty
    assert run.peak_users == 200
    verdict = evaluate(run, SLO)
    assert verdict.passed
    assert verdict.requests == run.aggregated.requests


def test_real_run_with_a_dead_api_breaches_on_errors() -> None:
    run = read_stats(REAL_RUNS / "api-down")
    verdict = evaluate(run, SLO)
    assert [check.name for check in verdict.breached] == ["max_error_rate"]
    assert int(run.failures["Occurrences"].sum()) == run.aggregated.failures
    assert set(run.failures["Error"]) >= {"ConnectionRefusedError(111, 'Connection refused')"}


def test_rare_failure_types_never_show_as_zero_percent() -> None:
    run = read_stats(REAL_RUNS / "api-down")
    console = render_console(run, evaluate(run, SLO))
    row = next(line for line in console.splitlines() if line.startswith("HTTPConnectionClosed"))
    assert row.split()[-3:] == ["/predict", "1", "<0.1%"]


def test_real_run_of_a_killed_locust_cannot_be_judged() -> None:
    # Locust SIGKILLed 3 s into a 20 s run: locust_stats.csv looks whole (282 requests, no
    # failures) but the history never got past its first row.
    with pytest.raises(GateInputError, match="different moments"):
        read_stats(REAL_RUNS / "locust-killed")


# --------------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("failures", "requests", "text"),
    [
        (0, 10, "0.00%"),
        (99, 10_000, "0.99%"),
        (100, 10_000, "1.00%"),
        (9_999, 1_000_000, "0.99%"),
        (1, 1_000_000, "<0.01%"),
        (10, 10, "100.00%"),
        (0, 0, "n/a"),
    ],
)
def test_rates_round_down_so_a_pass_never_shows_the_limit(failures: int, requests: int, text: str) -> None:
    assert format_rate(failures, requests) == text


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


def test_summary_puts_the_verdict_first_then_the_tables(tmp_path: Path) -> None:
    run = read_stats(healthy_run(failures=100, p95=1000).write(tmp_path / "run"))
    verdict = evaluate(run, SLO)
    summary = render_summary(run, verdict)
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


def test_summary_of_a_clean_run(tmp_path: Path) -> None:
    run = read_stats(healthy_run().write(tmp_path / "run"))
    summary = render_summary(run, evaluate(run, SLO))
    assert summary.startswith("## ✅ Performance gate PASSED: all 2 checks hold\n")
    assert "No failures." in summary
    assert "100 users at peak, 10 s of history" in summary


def test_failure_types_sorted_by_count_with_shares(tmp_path: Path) -> None:
    run = healthy_run(failures=0)
    run.entries[2].failures = 40
    run.failures = [
        Failure("POST", "POST /predict", "CatchResponseError(\"reply lacks 'probabilities'\")", 10),
        Failure("POST", "POST /predict", "ConnectionRefusedError(111, 'Connection refused')", 30),
    ]
    locust_run = read_stats(run.write(tmp_path / "run"))
    console = render_console(locust_run, evaluate(locust_run, SLO))
    refused, lacks = console.index("ConnectionRefusedError"), console.index("reply lacks")
    assert refused < lacks
    assert "75.0%" in console
    assert "25.0%" in console


def test_console_table_is_aligned(tmp_path: Path) -> None:
    run = read_stats(healthy_run(failures=5).write(tmp_path / "run"))
    console = render_console(run, evaluate(run, SLO))
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


# --------------------------------------------------------------------------- writing


def test_gate_run_dir_writes_verdict_and_summary(tmp_path: Path) -> None:
    run_dir = healthy_run(failures=99, p95=1000).write(tmp_path / "run")
    _, verdict = judge_folder(run_dir, SLO)
    assert verdict.passed
    document = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))
    assert list(document) == [
        "outcome",
        "reasons",
        "passed",
        "error_rate",
        "p95_ms",
        "rps",
        "requests",
        "checks",
        "figures",
        "slo",
        "window",
        "delivery",
        "resources",
        "generator_capacity_rps",
    ]
    assert (document["outcome"], document["reasons"]) == ("pass", [])
    assert document["slo"]["max_p95_ms"] == 1000
    assert document["figures"]["p99_ms"] == 200
    assert document["passed"] is True
    assert document["requests"] == 10_000
    assert document["error_rate"] == pytest.approx(0.0099)
    assert document["checks"][0] == {
        "name": "max_error_rate",
        "scope": "Aggregated",
        "value": 0.0099,
        "limit": 0.01,
        "passed": True,
    }
    assert (run_dir / "summary.md").read_text(encoding="utf-8").startswith("## ✅")
    assert sorted(path.name for path in run_dir.iterdir() if path.name.startswith(".")) == []  # no temp files


def test_gate_run_dir_to_other_paths(tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    judge_folder(run_dir, SLO, json_path=tmp_path / "out" / "v.json", summary_path=tmp_path / "out" / "s.md")
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"v.json", "s.md"}
    assert not (run_dir / "verdict.json").exists()


def test_gate_run_dir_writes_nothing_when_it_cannot_judge(tmp_path: Path) -> None:
    run_dir = SyntheticRun(entries=[]).write(tmp_path / "run")
    with pytest.raises(GateInputError):
        judge_folder(run_dir, SLO)
    assert not (run_dir / "verdict.json").exists()
    assert not (run_dir / "summary.md").exists()


def test_cannot_judge_removes_a_stale_verdict_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "verdict.json").write_text('{"passed": true}', encoding="utf-8")
    write_cannot_judge("x.csv: empty", tmp_path / "verdict.json", tmp_path / "summary.md")
    assert not (tmp_path / "verdict.json").exists()
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## ⚠️ Performance gate CANNOT JUDGE")
    write_cannot_judge("gone", tmp_path / "nowhere" / "verdict.json", tmp_path / "nowhere" / "summary.md")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.integration
def test_bucket_bounds_agree_with_locusts_own_rounding() -> None:
    # Locust is imported only in a subprocess (it monkey-patches with gevent).
    times = [step / 4 for step in range(0, 48_000)] + [994.999, 995.0, 1049.999, 1050.0, 1050.001, 99.5, 9950.0]
    script = (
        "import json, sys\nfrom locust.stats import bucket_response_time\n"
        "print(json.dumps([bucket_response_time(t) for t in json.load(sys.stdin)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(times), capture_output=True, text=True, timeout=60, check=True
    )
    for time, reported in zip(times, json.loads(done.stdout), strict=True):
        low, high = bucket_bounds(reported)
        assert low <= time <= high, (time, reported)
        assert reportable_at_most(reported) == reported  # every bucket is a reportable value
