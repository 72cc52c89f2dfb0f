"""Which test Locust is in: tests are started and stopped from its web UI, and seen through its web API."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loadtest.records import ResourceSample
from loadtest.runner.web_api import WebStatus

TEST_DIR = re.compile(r"test-(\d+)")


@dataclass
class RunningTest:
    """A test started from the UI."""

    number: int
    started: float = field(default_factory=time.monotonic)
    peak_users: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    form: tuple[int, float] | None = None
    """The users and spawn rate it was started with (Locust's start form)."""
    samples: list[ResourceSample] = field(default_factory=list)
    """The API's and Locust's CPU and memory about once a second while it ran, for its run.json."""
    warnings_before: int = 0
    """Locust's CPU warnings of the session before it started."""


def next_test_number(cell_dir: Path) -> int:
    """1 + the highest test-N already in the cell folder (tests of earlier sessions are kept)."""
    numbers = [int(match[1]) for entry in cell_dir.glob("test-*") if (match := TEST_DIR.fullmatch(entry.name))]
    return max(numbers, default=0) + 1


class SessionTests:
    """The tests of a session: which one Locust is in, from its answers to `GET /stats/requests`.

    Those answers may be up to 2 s old (Locust caches them), so a test can start and stop
    between two of them: its figures are still there afterwards, until the next test starts,
    and a stopped Locust showing counts no handled test ended with means such a test.
    """

    def __init__(self, next_number: int = 1) -> None:
        self.next_number = next_number
        self.test: RunningTest | None = None
        self.idle_counts: tuple[int, int] = (0, 0)
        """The (requests, failures) a stopped Locust shows for the tests already handled."""
        self.pending = False
        """A stopped test is being handled: what Locust shows is its figures."""
        self._adopt = False

    def observe(self, status: WebStatus, now: float) -> tuple[RunningTest | None, RunningTest | None]:
        """The test that started and the test that stopped with this answer (either may be None)."""
        counts = (status.requests, status.failures)
        if self._adopt and not status.running:
            self.idle_counts, self._adopt = counts, False
        unseen = not status.running and status.requests > 0 and not self.pending and counts != self.idle_counts
        started = stopped = None
        if self.test is None and (status.running or unseen):
            self.test = started = RunningTest(self.next_number, started=now)
            self.next_number += 1
        if self.test is not None:
            self.test.peak_users = max(self.test.peak_users, status.users)
            if not status.running:
                stopped, self.test, self.pending = self.test, None, True
        return started, stopped

    def settled(self, counts: tuple[int, int] | None) -> None:
        """The stopped test is handled, and it ended with `counts` (None: whatever Locust shows next)."""
        self.pending = False
        if counts is None:
            self._adopt = True
        else:
            self.idle_counts = counts
