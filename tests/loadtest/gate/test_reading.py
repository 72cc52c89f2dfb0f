"""Reading a run's four CSVs (loadtest/gate/reading.py): the figures, and every way a run cannot be judged."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from loadtest.gate.reading import GateInputError, HistoryFollower, HistoryRow, endpoint_label, read_stats, stats_totals
from tests.loadtest.locust_csv import (
    HEADERS,
    HISTORY_HEADER,
    REAL_RUNS,
    Entry,
    SyntheticRun,
    aggregate,
    aggregated_row,
    healthy_run,
    replace_cell,
)


def test_figures_of_every_row_and_the_frames(tmp_path: Path) -> None:
    run = read_stats(healthy_run(failures=40, p95=300).write(tmp_path / "run"))
    total = run.aggregated
    assert (total.name, total.requests, total.failures, total.p95_ms) == ("Aggregated", 10_000, 40, 300)
    assert total.error_rate == pytest.approx(0.004)
    assert (total.p50_ms, total.p99_ms, total.rps) == (20, 200, 500.0)
    assert list(run.endpoints) == ["GET /", "GET /health", "POST /predict"]
    assert run.endpoints["POST /predict"].failures == 40
    assert [(row.endpoint, row.occurrences) for row in run.failures] == [("POST /predict", 40)]
    assert run.exceptions == ()
    assert len(run.history) == 11
    assert [row.aggregated for row in run.aggregated_history] == [True] * 11
    assert (run.peak_users, run.duration_s) == (100, 10)


def test_a_zero_request_endpoint_row_may_hold_na(tmp_path: Path) -> None:
    entries = [Entry("GET", "GET /", 0), Entry("POST", "POST /predict", 100, 0)]
    run = SyntheticRun(entries=entries, aggregated=aggregate(entries))
    figures = read_stats(run.write(tmp_path / "run")).endpoints["GET /"]
    assert (figures.requests, figures.p95_ms, figures.error_rate) == (0, None, None)


@pytest.mark.parametrize(
    ("method", "name", "label"),
    [
        ("POST", "POST /predict", "POST /predict"),
        ("POST", "/predict", "POST /predict"),
        ("GET", "/", "GET /"),
        ("POST", "classify", "classify"),  # a scenario's own name is the key of its limits, as written
        ("GET", "GET /other", "GET /other"),
    ],
)
def test_endpoint_labels_match_either_naming_style(method: str, name: str, label: str) -> None:
    assert endpoint_label(method, name) == label


def test_plain_locust_names_are_read_as_method_and_path(tmp_path: Path) -> None:
    run = SyntheticRun(entries=[Entry("POST", "/predict", 100, 0, p95=700)])
    assert list(read_stats(run.write(tmp_path / "run")).endpoints) == ["POST /predict"]


def test_a_prefix_other_than_locust(tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run", prefix="cell1")
    assert read_stats(run_dir, prefix="cell1").aggregated.requests == 10_000
    with pytest.raises(GateInputError, match=r"locust_stats\.csv: missing"):
        read_stats(run_dir)


# --------------------------------------------------------------------------- cannot judge


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _drop_last_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


def _truncate_to_header(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


def _remove_tree(run_dir: Path) -> None:
    for path in run_dir.iterdir():
        path.unlink()
    run_dir.rmdir()


def _replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _replace_run_with_file(run_dir: Path) -> None:
    _remove_tree(run_dir)
    run_dir.write_text("not a folder", encoding="utf-8")


STATS = "locust_stats.csv"
FAILURES = "locust_failures.csv"
HISTORY = "locust_stats_history.csv"
Breakage = Callable[[Path], object]

CANNOT_JUDGE: list[tuple[str, Breakage, str]] = [
    ("missing-stats", lambda d: (d / STATS).unlink(), r"locust_stats\.csv: missing"),
    ("missing-failures", lambda d: (d / FAILURES).unlink(), r"locust_failures\.csv: missing"),
    ("missing-exceptions", lambda d: (d / "locust_exceptions.csv").unlink(), r"locust_exceptions\.csv: missing"),
    ("missing-history", lambda d: (d / HISTORY).unlink(), r"locust_stats_history\.csv: missing"),
    ("stats-is-a-folder", lambda d: _replace_with_folder(d / STATS), r"locust_stats\.csv: is not a file"),
    ("empty-stats", lambda d: (d / STATS).write_bytes(b""), r"locust_stats\.csv: empty"),
    ("empty-failures", lambda d: (d / FAILURES).write_bytes(b""), r"locust_failures\.csv: empty"),
    ("empty-history", lambda d: (d / HISTORY).write_bytes(b""), r"history\.csv: empty"),
    ("header-only-stats", lambda d: _truncate_to_header(d / STATS), r"no Aggregated row"),
    ("truncated-mid-row", lambda d: _truncate(d / STATS, 0.93), r"is empty \(truncated file\?\)"),
    ("truncated-header", lambda d: _truncate(d / STATS, 0.05), r"header is cut short: lacks .Failure Count."),
    ("no-aggregated-row", lambda d: _drop_last_line(d / STATS), r"no Aggregated row"),
    ("two-aggregated-rows", lambda d: _append(d / STATS, ",Aggregated,1,0" + ",1" * 18 + "\n"), r"2 Aggregated rows"),
    ("binary-garbage", lambda d: (d / STATS).write_bytes(b"\xff\xd8\xff\xe0\x00JFIF"), r"not UTF-8"),
    ("unterminated-quote", lambda d: _append(d / FAILURES, 'GET,/,"oops\n'), r"corrupt CSV"),
    ("extra-fields", lambda d: _append(d / STATS, "GET,x,1,0" + ",1" * 30 + "\n"), r"corrupt CSV"),
    (
        "rows-after-aggregated",
        lambda d: _append(d / STATS, "GET,/x,1,0" + ",1" * 18 + "\n"),
        r"rows after the Aggregated row",
    ),
    (
        "p95-na",
        lambda d: replace_cell(d / STATS, "Aggregated", "95%", "N/A"),
        r"row 'Aggregated': '95%' is N/A where a figure must be",
    ),
    (
        "endpoint-p99-na",
        lambda d: replace_cell(d / STATS, "POST /predict", "99%", "N/A"),
        r"row 'POST /predict': '99%' is N/A where a figure must be",
    ),
    (
        "requests-not-a-number",
        lambda d: replace_cell(d / STATS, "Aggregated", "Request Count", "lots"),
        r"'Request Count' is 'lots', not a whole number",
    ),
    (
        "rps-negative",
        lambda d: replace_cell(d / STATS, "Aggregated", "Requests/s", "-1"),
        r"'Requests/s' is '-1', not a number",
    ),
    (
        "failures-over-requests",
        lambda d: replace_cell(d / STATS, "GET /", "Failure Count", "99999"),
        r"Failure Count 99999 is more than Request Count",
    ),
    (
        "occurrences-not-a-count",
        lambda d: replace_cell(d / FAILURES, "POST /predict", "Occurrences", "x"),
        r"locust_failures\.csv: line 2: 'Occurrences' is 'x', not a count",
    ),
    (
        "history-garbage",
        lambda d: _append(d / HISTORY, "soon" + ",1" * 23 + "\n"),
        r"'Timestamp' is 'soon', not a number",
    ),
    (
        "history-behind-stats",
        lambda d: _drop_last_line(d / HISTORY),
        r"locust_stats_history\.csv: ends at 9,000 requests and 9 failures, but locust_stats\.csv counts 10,000 "
        r"and 10: the files are from different moments",
    ),
    ("not-a-locust-csv", lambda d: (d / STATS).write_text("a,b\n1,2\n"), r"not a Locust CSV"),
    ("run-dir-missing", _remove_tree, r"run: no such folder"),
    ("run-dir-is-a-file", _replace_run_with_file, r"run: is not a folder"),
]


@pytest.mark.parametrize(("breakage", "message"), [case[1:] for case in CANNOT_JUDGE], ids=[c[0] for c in CANNOT_JUDGE])
def test_broken_runs_cannot_be_judged_and_say_why_in_one_line(tmp_path: Path, breakage: Breakage, message: str) -> None:
    run_dir = healthy_run(failures=10).write(tmp_path / "run")
    breakage(run_dir)
    with pytest.raises(GateInputError, match=message) as raised:
        read_stats(run_dir)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(str(run_dir))


def test_an_endpoint_listed_twice_is_corrupt(tmp_path: Path) -> None:
    run = SyntheticRun(entries=[Entry("GET", "GET /", 10), Entry("GET", "GET /", 10)])
    with pytest.raises(GateInputError, match="an endpoint appears twice"):
        read_stats(run.write(tmp_path / "run"))


# --------------------------------------------------------------------------- Locust's real output


@pytest.mark.parametrize("scenario", sorted(path.name for path in REAL_RUNS.iterdir() if path.is_dir()))
def test_synthetic_headers_are_locusts_real_ones(scenario: str) -> None:
    for kind, header in HEADERS.items():
        with (REAL_RUNS / scenario / f"locust_{kind}.csv").open(newline="", encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == header


def test_a_real_healthy_run_reads_whole() -> None:
    run = read_stats(REAL_RUNS / "healthy")
    assert list(run.endpoints) == ["GET /", "GET /health", "POST /predict"]
    assert run.aggregated.requests == sum(figures.requests for figures in run.endpoints.values())
    assert run.aggregated.failures == 0
    assert run.failures == ()
    assert run.exceptions == ()
    assert run.peak_users == 200


def test_a_real_run_against_a_dead_api_counts_its_failures() -> None:
    run = read_stats(REAL_RUNS / "api-down")
    assert sum(row.occurrences for row in run.failures) == run.aggregated.failures
    assert {row.error for row in run.failures} >= {"ConnectionRefusedError(111, 'Connection refused')"}


def test_a_real_run_of_a_killed_locust_cannot_be_judged() -> None:
    # Locust SIGKILLed 3 s into a 20 s run: locust_stats.csv looks whole (282 requests, no
    # failures) but the history never got past its first row.
    with pytest.raises(GateInputError, match="different moments"):
        read_stats(REAL_RUNS / "locust-killed")


# --------------------------------------------------------------------------- the history, as it grows

HISTORY_START = ",".join(HISTORY_HEADER) + "\r\n"


def history_line(second: int, users: int, name: str, rps: float, requests: int, failures: int) -> str:
    """One line of the history, as Locust appends it every second (CRLF, like its csv writer)."""
    kind = "" if name == "Aggregated" else "POST"
    percentiles = "3,4,4,4,5,6,7,8,8,8,8"
    totals = f"{requests},{failures},3,3.5,1.2,19.2,560.0"
    return f"{second},{users},{kind},{name},{rps:.6f},0.000000,{percentiles},{totals}\r\n"


def aggregated(second: int, users: int, rps: float, requests: int, failures: int) -> HistoryRow:
    return aggregated_row(second, users, requests, failures, rps=rps, p95_ms=6, mean_ms=3.5)


def test_no_history_yet(tmp_path: Path) -> None:
    assert HistoryFollower(tmp_path / "locust_stats_history.csv").new_rows() == []


def test_each_row_once_as_the_history_grows(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    follower = HistoryFollower(path)
    path.write_text(HISTORY_START + history_line(1, 0, "Aggregated", 0, 0, 0), newline="")
    assert [row.timestamp for row in follower.new_rows()] == [1]
    with path.open("a", newline="") as handle:
        handle.write(history_line(2, 50, "/predict", 40, 80, 0) + history_line(2, 50, "Aggregated", 45.5, 90, 1))
    rows = follower.new_rows()
    assert [(row.name, row.aggregated) for row in rows] == [("POST /predict", False), ("Aggregated", True)]
    assert rows[1] == aggregated(2, 50, 45.5, 90, 1)
    assert follower.new_rows() == []


def test_a_half_written_line_waits_for_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    follower = HistoryFollower(path)
    line = history_line(2, 50, "Aggregated", 45.5, 90, 1)
    path.write_text(HISTORY_START + line[:20], newline="")
    assert follower.new_rows() == []
    with path.open("a", newline="") as handle:
        handle.write(line[20:])
    assert follower.new_rows() == [aggregated(2, 50, 45.5, 90, 1)]


def test_an_endpoint_named_aggregated_is_not_the_aggregated_row(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    path.write_text(
        HISTORY_START + history_line(2, 50, "Aggregated", 1, 2, 0).replace(",,Aggregated", ",GET,Aggregated")
    )
    (row,) = HistoryFollower(path).new_rows()
    assert (row.name, row.aggregated) == ("GET Aggregated", False)


def test_no_reply_yet_has_no_p95_and_no_mean(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    path.write_text(
        HISTORY_START
        + "1,10,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0,0,0,0\r\n"
    )
    (row,) = HistoryFollower(path).new_rows()
    assert (row.users, row.requests, row.p95_ms, row.mean_ms) == (10, 0, None, None)


def test_a_line_that_is_not_locusts_is_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    path.write_text(HISTORY_START + "not,a,row\r\n" + history_line(3, 5, "Aggregated", 1.0, 3, 0))
    assert [row.timestamp for row in HistoryFollower(path).new_rows()] == [3]


def test_the_totals_of_a_stats_file_are_its_aggregated_row() -> None:
    assert stats_totals((REAL_RUNS / "healthy" / "locust_stats.csv").read_text()) == (5344, 0)
    assert stats_totals((REAL_RUNS / "api-down" / "locust_stats.csv").read_text())[1] > 0
    with pytest.raises(ValueError, match="no Aggregated row"):
        stats_totals("Type,Name,Request Count,Failure Count\r\nPOST,POST /predict,3,0\r\n")
