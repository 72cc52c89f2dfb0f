"""The ui session's pure parts: which test Locust is in, finding it in the session's history, numbering tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from loadtest.runner.interactive import (
    SessionHistory,
    SessionTests,
    Totals,
    cut_history,
    final_counts,
    next_test_number,
    span_of_test,
)
from loadtest.runner.web_api import WebStatus
from tests.loadtest.locust_csv import HISTORY_HEADER

DATA = Path(__file__).resolve().parents[2] / "data" / "locust"


def rows(*spec: tuple[int, int, int]) -> list[Totals]:
    """Aggregated rows one second apart from 100: (users, requests, failures) each."""
    return [Totals(100 + i, users, requests, failures) for i, (users, requests, failures) in enumerate(spec)]


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
            id="the history does not show the end yet (Locust flushes it every 5 s)",
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
    history: list[Totals], final: tuple[int, int], span: tuple[int, int] | None
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
    assert history.header == HEADER
    assert [line.text for line in lines] == first  # the half-written line is left out
    totals = [line.totals for line in lines if line.totals is not None]
    assert totals == [Totals(100, 0, 0, 0), Totals(101, 5, 10, 0), Totals(102, 0, 12, 1)]
    span = span_of_test(totals, (12, 1))
    assert span == (101, 102)
    assert cut_history(history.header, lines, *span) == HEADER + "".join(first[1:])

    history.consume(lines, through=span[1])
    second = [history_line(103, 0, "Aggregated", 12, 1), history_line(104, 2, "Aggregated", 3, 0)]
    path.write_text(HEADER + "".join(first) + "".join(second), newline="")
    assert [line.text for line in history.lines()] == second


def test_no_history_yet(tmp_path: Path) -> None:
    assert SessionHistory(tmp_path / "missing.csv").lines() == []
    (tmp_path / "h.csv").write_text("Timestamp,User", newline="")
    assert SessionHistory(tmp_path / "h.csv").lines() == []


def test_final_counts_are_the_aggregated_row_of_locusts_stats() -> None:
    assert final_counts((DATA / "healthy" / "locust_stats.csv").read_text()) == (5344, 0)
    assert final_counts((DATA / "api-down" / "locust_stats.csv").read_text())[1] > 0
    with pytest.raises(ValueError, match="no Aggregated row"):
        final_counts("Type,Name,Request Count,Failure Count\r\nPOST,POST /predict,3,0\r\n")


def test_tests_are_numbered_after_those_already_in_the_cell_folder(tmp_path: Path) -> None:
    assert next_test_number(tmp_path) == 1
    for name in ("test-1", "test-3", "test-x", "other"):
        (tmp_path / name).mkdir()
    (tmp_path / "test-9").write_text("a file, not a test folder, still taken")
    assert next_test_number(tmp_path) == 10


def answer(state: str, users: int = 0, requests: int = 0, failures: int = 0) -> WebStatus:
    return WebStatus(state, users=users, rps=0.0, requests=requests, failures=failures, workers=None)


def test_a_test_starts_when_locust_runs_and_stops_when_it_stops() -> None:
    tests = SessionTests(next_number=3)
    assert tests.observe(answer("ready"), now=0.0) == (None, None)
    started, stopped = tests.observe(answer("spawning", users=5, requests=2), now=1.0)
    assert started is not None
    assert stopped is None
    assert (started.number, started.started, started.peak_users) == (3, 1.0, 5)
    assert tests.observe(answer("running", users=20, requests=90), now=2.0) == (None, None)
    assert tests.observe(answer("running", users=10, requests=150), now=3.0) == (None, None)
    again, stopped = tests.observe(answer("stopped", requests=160), now=4.0)
    assert again is None
    assert stopped is started
    assert stopped.peak_users == 20
    assert tests.test is None
    assert tests.next_number == 4


def test_a_test_between_two_answers_is_found_from_the_figures_it_leaves() -> None:
    tests = SessionTests()
    tests.observe(answer("ready"), now=0.0)
    started, stopped = tests.observe(answer("stopped", requests=12, failures=1), now=1.0)
    assert started is not None
    assert stopped is started
    # While it is being judged, and once it is, the same figures are not another test.
    assert tests.observe(answer("stopped", requests=12, failures=1), now=2.0) == (None, None)
    tests.settled((12, 1))
    assert tests.observe(answer("stopped", requests=12, failures=1), now=3.0) == (None, None)
    # Reset stats while nothing runs: no figures, no test.
    assert tests.observe(answer("stopped"), now=4.0) == (None, None)


def test_an_old_answer_after_a_stop_is_not_a_new_test() -> None:
    tests = SessionTests()
    tests.observe(answer("running", users=10, requests=50), now=0.0)
    tests.observe(answer("stopped", requests=60), now=1.0)
    assert tests.observe(answer("stopped", requests=58), now=2.0) == (None, None)  # cached, from before the end
    tests.settled((60, 0))
    assert tests.observe(answer("stopped", requests=60), now=3.0) == (None, None)
    started, _ = tests.observe(answer("running", users=4, requests=1), now=4.0)
    assert started is not None
    assert started.number == 2


def test_a_test_given_up_without_its_figures_adopts_what_locust_shows_next() -> None:
    tests = SessionTests()
    tests.observe(answer("running", users=3, requests=5), now=0.0)
    tests.observe(answer("stopped", requests=7), now=1.0)
    tests.settled(None)
    assert tests.observe(answer("stopped", requests=7), now=2.0) == (None, None)
    started, stopped = tests.observe(answer("stopped", requests=30), now=3.0)
    assert started is not None
    assert stopped is started
