"""The live progress line (loadtest/runner/progress.py), fed the engine's history rows."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from loadtest.gate.reading import HistoryRow
from loadtest.locust_contract import LoadSettings
from loadtest.results import CellResult, NotReady
from loadtest.runner.engine import CellRequest
from loadtest.runner.matrix import Cell
from loadtest.runner.progress import ProgressLine, format_line
from tests.loadtest.cell_folders import run_record
from tests.loadtest.locust_csv import aggregated_row

CELL = Cell(1, 0.5, "512m")


def snapshot(users: int, rps: float, requests: int, failures: int) -> HistoryRow:
    return aggregated_row(1_795_841_427, users, requests, failures, rps=rps)


def request(position: int = 1, label: str = "[1/2]") -> CellRequest:
    return CellRequest(
        cell=CELL, load=LoadSettings(50, 10.0, 30), folder=Path("unused"), label=label, position=position
    )


def test_the_line() -> None:
    line = format_line("cell 2/4", "r2-cpu0.5-mem512m", 45.2, 120, snapshot(1000, 812.25, 20_000, 50))
    assert line == (
        "cell 2/4 r2-cpu0.5-mem512m  0:45/2:00  users 1,000  req/s 812.2  requests 20,000  failures 50 (0.25%)"
    )
    assert format_line("probe 7", "r1", 0, 30, None).startswith("probe 7 r1  0:00/0:30")
    assert format_line("cell 1/1", "r1", 0, 30, None).endswith("starting Locust...")
    # Rounded down like the gate: 0.999% is under the 1% limit and must not read as 1.00%.
    near_limit = snapshot(10, 1.0, 100_000, 999)
    assert format_line("cell 1/1", "r1", 0, 30, near_limit).endswith("failures 999 (0.99%)")


def test_plain_output_prints_lines_not_carriage_returns() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream, total=2)
    progress.load_started(request())
    progress.history([])  # no row yet: nothing to say in a log
    progress.history([snapshot(10, 5.0, 10, 0), snapshot(50, 45.5, 90, 1)])
    progress.history([])  # rate-limited: not a terminal
    assert stream.getvalue().count("\n") == 1
    assert "\r" not in stream.getvalue()
    assert "cell 1/2 r1-cpu0.5-mem512m" in stream.getvalue()
    assert "users 50" in stream.getvalue()


def test_unnumbered_cells_show_their_label() -> None:
    stream = io.StringIO()
    progress = ProgressLine(stream, numbered=False)
    progress.load_started(request(position=3, label="probe 3"))
    progress.history([snapshot(50, 45.5, 90, 1)])
    assert stream.getvalue().startswith("probe 3 r1-cpu0.5-mem512m  0:00/0:30  users 50")


def ended(failure: NotReady) -> CellResult:
    now = datetime.now(UTC)
    record = run_record(CELL, status="failed", started_at=now, ended_at=now)
    return CellResult(Path("unused"), record, None, None, failure)


def test_a_cell_without_a_verdict_always_says_why() -> None:
    stream = io.StringIO()
    ProgressLine(stream, verdicts=False).cell_ended(ended(NotReady("the API was not ready within 60 s\nlog...")))
    assert stream.getvalue() == "r1-cpu0.5-mem512m: FAILED — not judged: the API was not ready within 60 s\n"
