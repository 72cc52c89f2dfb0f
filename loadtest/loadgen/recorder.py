"""One Locust process's record: per second of intended send and per request name, the counts and
the latency histograms, handed on as deltas once a second.

A paced request is counted in the second of its *intended* send (the gate's window is decided
after the run, by time): intended when the schedule meant it (or when it was found overdue),
sent when it went out, completed when its reply (or failure) came. Its latency is recorded from
the intended send (`corrected`) and from the actual one (`uncorrected`), with the lag split
(`lag_service`, `lag_generator`); a failure's corrected latency goes to `failed` as well, so a
reader can count "over the limit or failed" exactly. A request made outside any schedule (a closed
loop, a user's start-up request) is counted as intended and sent when it went out, with equal
corrected and uncorrected latencies, and as `closed_loop`.

`close(now)` ends the books: every schedule's sends intended before `now` are counted, and
nothing after counts, so a request still in flight (or never sent) stays intended but not
completed: unfinished, over every limit.

Pure: the Locust hooks (`locust_hooks`) feed it, with times on one monotonic clock and a function
from that clock to Unix time for the seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from loadtest.latency import hdr
from loadtest.latency.recording import HISTOGRAM_KINDS, IntervalDelta
from loadtest.loadgen.pacing import Intended, Schedule, Send

_US = 1_000_000.0


@dataclass
class _Cell:
    """The running delta of one (second, request name)."""

    intended: int = 0
    sent: int = 0
    completed: int = 0
    failed: int = 0
    closed_loop: int = 0
    histograms: dict[str, hdr.Counts] = field(default_factory=dict)

    def record(self, kind: str, value_us: float) -> None:
        counts = self.histograms.get(kind)
        if counts is None:
            counts = self.histograms[kind] = {}
        hdr.record(counts, value_us)


@dataclass
class Recorder:
    """Counts and histograms of one process, by second of intended send and request name."""

    to_unix: Callable[[float], float]
    """The recorder's clock (a monotonic one) to Unix seconds."""
    _cells: dict[tuple[int, str], _Cell] = field(default_factory=dict, init=False)
    _schedules: set[Schedule] = field(default_factory=set, init=False)
    closed_at: float | None = field(default=None, init=False)
    """Unix time the books were closed; None while they are open."""

    @property
    def closed(self) -> bool:
        """Whether `close` ended the books (nothing counts after)."""
        return self.closed_at is not None

    def reopen(self) -> None:
        """A new test in the same process (Locust's web UI): count again, from the same open seconds."""
        self.closed_at = None

    def add_schedule(self, schedule: Schedule) -> None:
        """A user started: its overdue sends are counted from now on."""
        self._schedules.add(schedule)

    def remove_schedule(self, schedule: Schedule, now: float) -> None:
        """A user stopped at `now`: its sends intended before are counted (never made: unfinished)."""
        if schedule in self._schedules:
            self._count_overdue(schedule, now)
            self._schedules.discard(schedule)

    def count_overdue(self, now: float) -> None:
        """Count every schedule's intended sends before `now` that are not made yet (once a second)."""
        for schedule in self._schedules:
            self._count_overdue(schedule, now)

    def on_send(self, send: Send) -> None:
        """A paced request goes out."""
        if self.closed:
            return
        cell = self._cell(send.intended.at, send.intended.name)
        if not send.counted:
            cell.intended += 1
        cell.sent += 1

    def not_sent(self, intended: Intended, counted: bool) -> None:
        """A task took an intended send and made no request: it stays intended, never sent."""
        if self.closed or counted:
            return
        self._cell(intended.at, intended.name).intended += 1

    def on_reply(self, name: str, send: Send | None, response_ms: float, failed: bool, now: float) -> None:
        """A reply (or a failure) came at `now`, `response_ms` after the actual send.

        `send` is the paced send it answers, or None for a request outside any schedule, which is
        counted here whole (its intended send is its actual one).
        """
        if self.closed:
            return
        uncorrected_us = max(0.0, response_ms) * 1000.0
        if send is None:
            cell = self._cell(now - uncorrected_us / _US, name)
            cell.intended += 1
            cell.sent += 1
            cell.closed_loop += 1
            corrected_us = uncorrected_us
        else:
            cell = self._cell(send.intended.at, send.intended.name)
            corrected_us = uncorrected_us + send.lag * _US
            cell.record("lag_service", send.service_lag * _US)
            cell.record("lag_generator", send.generator_lag * _US)
        cell.completed += 1
        cell.record("corrected", corrected_us)
        cell.record("uncorrected", uncorrected_us)
        if failed:
            cell.failed += 1
            cell.record("failed", corrected_us)

    def close(self, now: float) -> None:
        """End the books at `now`: count what was intended before it; nothing after counts."""
        if self.closed:
            return
        self.count_overdue(now)
        self.closed_at = self.to_unix(now)

    def take(self) -> list[IntervalDelta]:
        """What was counted since the last `take`, by second and request name; the running deltas restart."""
        cells, self._cells = self._cells, {}
        return [
            IntervalDelta(
                start=start,
                endpoint=name,
                intended=cell.intended,
                sent=cell.sent,
                completed=cell.completed,
                failed=cell.failed,
                closed_loop=cell.closed_loop,
                histograms={kind: cell.histograms[kind] for kind in HISTOGRAM_KINDS if kind in cell.histograms},
            )
            for (start, name), cell in sorted(cells.items())
        ]

    def _count_overdue(self, schedule: Schedule, now: float) -> None:
        for intended in schedule.overdue(now):
            self._cell(intended.at, intended.name).intended += 1

    def _cell(self, at: float, name: str) -> _Cell:
        key = (math.floor(self.to_unix(at)), name)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Cell()
        return cell


def deltas_to_wire(deltas: Iterable[IntervalDelta]) -> list[dict[str, Any]]:
    """Deltas as plain data for Locust's worker-to-master messages (msgpack: lists, not int-keyed maps)."""
    return [delta.to_wire() for delta in deltas]


def deltas_from_wire(data: Iterable[Any]) -> list[IntervalDelta]:
    """The deltas a worker sent (`deltas_to_wire`)."""
    return [IntervalDelta.from_wire(item) for item in data]
