"""A stopped test's part of the session's history.

Locust's `--csv-full-history` file covers the whole session, every test started from the UI in
turn; each test's folder gets the rows of that test alone. The file is read as it grows by the
gate's `HistoryFollower` (the one reader of Locust's files); the lines since the previous test are
kept until the rows of the test that ended with the final counts show in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loadtest.gate.reading import HistoryFollower, HistoryLine, HistoryRow, is_reset


def span_of_test(rows: Sequence[HistoryRow], final: tuple[int, int]) -> tuple[int, int] | None:
    """The first and last timestamps of the test that ended with `final` (requests, failures).

    `rows` are the Aggregated rows since the previous test. The test ends at the first row
    with no users left that shows the final counts, after the counts or the users were
    something else; it starts at the last reset before that (Locust clears its figures when a
    test starts), or else after the idle rows that precede it. None while the history does not
    show the end yet.
    """
    end = None
    moved = False
    for index, row in enumerate(rows):
        counts = (row.requests, row.failures)
        if moved and row.users == 0 and counts == final:
            end = index
            break
        moved = moved or row.users > 0 or counts != final
    if end is None:
        return None
    resets = [index for index in range(1, end + 1) if is_reset(rows[index - 1], rows[index])]
    if resets:
        return rows[resets[-1]].timestamp, rows[end].timestamp
    start, idle = 0, (rows[0].requests, rows[0].failures)
    while start < end and rows[start].users == 0 and (rows[start].requests, rows[start].failures) == idle:
        start += 1
    return rows[start].timestamp, rows[end].timestamp


class SessionHistory:
    """The session's history file, from where the previous test ended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._follower = HistoryFollower(path)
        self._lines: list[HistoryLine] = []

    def lines(self) -> list[HistoryLine]:
        """The complete lines after the previous test (a line still being written is left out)."""
        self._lines += self._follower.new_lines()
        return list(self._lines)

    def cut(self, first: int, last: int) -> str:
        """The history file of one test: the header and every line from `first` to `last` (timestamps)."""
        return self._follower.header + "".join(line.text for line in self._lines if first <= line.row.timestamp <= last)

    def consume(self, through: int) -> None:
        """The next test starts after the lines of timestamp `through`."""
        self._lines = [line for line in self._lines if line.row.timestamp > through]
