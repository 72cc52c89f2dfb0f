"""The live progress line (loadtest/runner/progress.py), read from a growing stats-history CSV, and its block."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from loadtest.runner.progress import LiveBlock, Progress, Snapshot, format_line, read_latest
from tests.loadtest.locust_csv import HISTORY_HEADER

HEADER = ",".join(HISTORY_HEADER) + "\n"


def row(second: int, users: int, name: str, rps: float, requests: int, failures: int) -> str:
    """One line of the history, as Locust appends it every second."""
    kind = "" if name == "Aggregated" else "POST"
    percentiles = "3,4,4,4,5,6,7,8,8,8,8"
    return (
        f"{second},{users},{kind},{name},{rps:.6f},0.000000,{percentiles},{requests},{failures},3,3.5,1.2,19.2,560.0\n"
    )


def test_no_file_yet(tmp_path: Path) -> None:
    assert read_latest(tmp_path / "locust_stats_history.csv") is None


def test_the_newest_aggregated_row_wins(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        HEADER
        + row(1, 0, "Aggregated", 0, 0, 0)
        + row(2, 50, "/predict", 40, 80, 0)
        + row(2, 50, "Aggregated", 45.5, 90, 1)
        + row(3, 100, "/predict", 90, 200, 2)
    )
    assert read_latest(path) == Snapshot(
        users=50, rps=45.5, failures_per_second=0.0, requests=90, failures=1, timestamp=2, p95_ms=6, mean_ms=3.5
    )


def test_a_half_written_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + row(2, 50, "Aggregated", 45.5, 90, 1) + "3,100,,Aggregated,99.0")
    assert read_latest(path) == Snapshot(
        users=50, rps=45.5, failures_per_second=0.0, requests=90, failures=1, timestamp=2, p95_ms=6, mean_ms=3.5
    )


def test_a_long_history_is_read_from_its_tail(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    lines = [row(second, second, "Aggregated", second * 1.5, second * 10, 0) for second in range(1, 3000)]
    path.write_text(HEADER + "".join(lines))
    assert read_latest(path) == Snapshot(
        users=2999,
        rps=2999 * 1.5,
        failures_per_second=0.0,
        requests=29990,
        failures=0,
        timestamp=2999,
        p95_ms=6,
        mean_ms=3.5,
    )


def test_no_reply_yet_has_no_p95(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        HEADER + "1,10,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0,0,0,0\n"
    )
    latest = read_latest(path)
    assert latest is not None
    assert (latest.users, latest.requests, latest.p95_ms) == (10, 0, None)


def test_the_line() -> None:
    snapshot = Snapshot(users=1000, rps=812.25, failures_per_second=0.5, requests=20_000, failures=50)
    line = format_line(2, 4, "r2-cpu0.5-mem512m", 45.2, 120, snapshot)
    assert line == (
        "cell 2/4 r2-cpu0.5-mem512m  0:45/2:00  users 1,000  req/s 812.2  requests 20,000  failures 50 (0.25%)"
    )
    assert format_line(7, 4, "r1", 0, 30, None, label="probe 7").startswith("probe 7 r1  0:00/0:30")
    assert format_line(1, 1, "r1", 0, 30, None).endswith("starting Locust...")
    # Rounded down like the gate: 0.999% is under the 1% limit and must not read as 1.00%.
    near_limit = Snapshot(users=10, rps=1.0, failures_per_second=0.0, requests=100_000, failures=999)
    assert format_line(1, 1, "r1", 0, 30, near_limit).endswith("failures 999 (0.99%)")


def test_plain_output_prints_lines_not_carriage_returns(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + row(2, 50, "Aggregated", 45.5, 90, 1))
    stream = io.StringIO()
    progress = Progress(stream, total_cells=2)
    progress.start_cell(1, "r1-cpu0.5-mem512m", 30)
    progress.update(path)
    progress.update(path)  # rate-limited: not a terminal
    assert stream.getvalue().count("\n") == 1
    assert "\r" not in stream.getvalue()
    assert "cell 1/2 r1-cpu0.5-mem512m" in stream.getvalue()
    assert "users 50" in stream.getvalue()


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_block_rewrites_itself_in_place_on_a_terminal() -> None:
    stream = Terminal()
    block = LiveBlock(stream)
    block.show(["a", "b"])
    block.show(["c", "d", "e"])
    # Up two lines to the start of the first block, clear to the end, draw the new one.
    assert stream.getvalue() == "a\nb\n\x1b[2F\x1b[Jc\nd\ne\n"


def test_a_message_goes_above_the_block_which_is_drawn_again() -> None:
    stream = Terminal()
    block = LiveBlock(stream)
    block.show(["view"])
    block.message("test 1 started")
    block.end()
    block.show(["next"])
    assert stream.getvalue() == "view\n\x1b[1F\x1b[Jtest 1 started\nview\nnext\n"


def test_lines_are_cut_to_the_terminal_so_the_block_can_be_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    stream = Terminal()
    LiveBlock(stream).show(["x" * 100])
    assert stream.getvalue() == "x" * 28 + "…\n"


def test_elsewhere_a_block_is_printed_at_most_every_interval() -> None:
    stream = io.StringIO()
    block = LiveBlock(stream, interval=3600)
    block.show(["first"])
    block.show(["second"])
    block.message("a message")
    assert stream.getvalue() == "first\na message\n"
    assert "\x1b" not in stream.getvalue()
