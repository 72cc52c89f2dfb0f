"""A stopped test's part of the session's history (loadtest/ui/capture.py): where it is, and its lines."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from loadtest.gate.reading import HistoryRow
from loadtest.ui.capture import SessionHistory, span_of_test
from tests.loadtest.locust_csv import HISTORY_HEADER, aggregated_row


def rows(*spec: tuple[int, int, int]) -> list[HistoryRow]:
    """Aggregated rows one second apart from 100: (users, requests, failures) each."""
    return [aggregated_row(100 + i, users, requests, failures) for i, (users, requests, failures) in enumerate(spec)]


@pytest.mark.parametrize(
    ("history", "final", "span"),
    [
        pytest.param(
            rows((0, 0, 0), (0, 0, 0), (10, 20, 0), (10, 45, 1), (0, 50, 1), (0, 50, 1)),
            (50, 1),
            (102, 104),
            id="first test: idle rows before it are left out, it ends at the first idle row with the final counts",
        ),
        pytest.param(
            rows((0, 80, 2), (0, 80, 2), (5, 10, 0), (5, 30, 0), (0, 33, 0), (0, 33, 0)),
            (33, 0),
            (102, 104),
            id="after a test: it starts where Locust cleared its figures",
        ),
        pytest.param(
            rows((0, 33, 0), (0, 33, 0), (5, 10, 0), (5, 30, 0), (0, 33, 0)),
            (33, 0),
            (102, 104),
            id="the previous test ended with the same counts: its idle rows are not the end",
        ),
        pytest.param(
            rows((0, 0, 0), (10, 5, 0), (0, 12, 0), (0, 12, 0)),
            (12, 0),
            (101, 102),
            id="a short test",
        ),
        pytest.param(
            rows((0, 0, 0), (10, 20, 0), (10, 40, 0)),
            (50, 0),
            None,
            id="the history does not show the end yet (Locust flushes it every few seconds)",
        ),
        pytest.param(
            rows((0, 0, 0), (10, 20, 0), (10, 50, 0)),
            (50, 0),
            None,
            id="the final counts while users still run are not the end",
        ),
        pytest.param(
            rows((0, 70, 0), (3, 5, 0), (0, 9, 0), (0, 9, 0), (4, 2, 0), (4, 8, 0), (0, 11, 0)),
            (11, 0),
            (104, 106),
            id="a test that was never captured before: this one starts at the last clearing",
        ),
        pytest.param(
            rows((0, 90, 0), (0, 4, 0), (0, 4, 0)),
            (4, 0),
            (101, 101),
            id="cleared and stopped within one second",
        ),
    ],
)
def test_where_one_test_is_in_the_session_history(
    history: list[HistoryRow], final: tuple[int, int], span: tuple[int, int] | None
) -> None:
    assert span_of_test(history, final) == span


def history_line(timestamp: int, users: int, name: str, requests: int, failures: int) -> str:
    """A row as Locust's csv writer writes it (CRLF)."""
    kind = "" if name == "Aggregated" else name.split(maxsplit=1)[0]
    values = {
        "Timestamp": timestamp,
        "User Count": users,
        "Type": kind,
        "Name": name,
        "Requests/s": "0.000000",
        "Failures/s": "0.000000",
        "Total Request Count": requests,
        "Total Failure Count": failures,
    }
    buffer = io.StringIO()
    csv.writer(buffer).writerow([values.get(column, "N/A") for column in HISTORY_HEADER])
    return buffer.getvalue()


HEADER = ",".join(HISTORY_HEADER) + "\r\n"


def test_the_session_history_is_read_line_by_line_from_where_the_last_test_ended(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    first = [
        history_line(100, 0, "Aggregated", 0, 0),
        history_line(101, 5, "POST /predict", 9, 0),
        history_line(101, 5, "Aggregated", 10, 0),
        history_line(102, 0, "POST /predict", 11, 1),
        history_line(102, 0, "Aggregated", 12, 1),
    ]
    path.write_text(HEADER + "".join(first) + "103,0,,Aggreg", newline="")
    history = SessionHistory(path)
    lines = history.lines()
    assert [line.text for line in lines] == first  # the half-written line is left out
    totals = [line.row for line in lines if line.row.aggregated]
    assert [(row.timestamp, row.users, row.requests, row.failures) for row in totals] == [
        (100, 0, 0, 0),
        (101, 5, 10, 0),
        (102, 0, 12, 1),
    ]
    span = span_of_test(totals, (12, 1))
    assert span == (101, 102)
    assert history.cut(*span) == HEADER + "".join(first[1:])

    history.consume(through=span[1])
    second = [history_line(103, 0, "Aggregated", 12, 1), history_line(104, 2, "Aggregated", 3, 0)]
    path.write_text(HEADER + "".join(first) + "".join(second), newline="")
    assert [line.text for line in history.lines()] == second


def test_no_history_yet(tmp_path: Path) -> None:
    assert SessionHistory(tmp_path / "missing.csv").lines() == []
    (tmp_path / "h.csv").write_text("Timestamp,User", newline="")
    assert SessionHistory(tmp_path / "h.csv").lines() == []
