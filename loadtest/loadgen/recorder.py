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

Pure: the Locust hooks (`locust_hooks`) feed it, with times on one monotonic clock and that
clock's offset from Unix time for the seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from loadtest.latency import hdr
from loadtest.latency.hdr import record
from loadtest.latency.recording import IntervalDelta
from loadtest.loadgen.pacing import Intended, Schedule, Send

_US = 1_000_000.0
PAUSE_EVERY = 500
"""Schedules counted between two pauses: a Locust process of 10,000 users pauses 20 times a second."""


class _Cell:
    """The running delta of one (second, request name): plain attributes, read on every request."""

    __slots__ = (
        "closed_loop",
        "completed",
        "corrected",
        "failed",
        "failed_corrected",
        "intended",
        "lag_generator",
        "lag_service",
        "sent",
        "uncorrected",
    )

    def __init__(self) -> None:
        self.intended = self.sent = self.completed = self.failed = self.closed_loop = 0
        self.corrected: hdr.Counts = {}
        self.uncorrected: hdr.Counts = {}
        self.lag_service: hdr.Counts = {}
        self.lag_generator: hdr.Counts = {}
        self.failed_corrected: hdr.Counts = {}

    def histograms(self) -> dict[str, hdr.Counts]:
        by_kind = {
            "corrected": self.corrected,
            "uncorrected": self.uncorrected,
            "lag_service": self.lag_service,
            "lag_generator": self.lag_generator,
            "failed": self.failed_corrected,
        }
        return {kind: counts for kind, counts in by_kind.items() if counts}


@dataclass
class Recorder:
    """Counts and histograms of one process, by second of intended send and request name."""

    unix_offset: float
    """Unix time minus the recorder's clock (a monotonic one): the clock's times to Unix seconds."""
    _cells: dict[tuple[int, str], _Cell] = field(default_factory=dict, init=False)
    _last: tuple[tuple[int, str], _Cell] | None = field(default=None, init=False)
    """The cell last used: most requests in a row fall in the same second and name."""
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

    def count_overdue(self, now: float, pause: Callable[[], None] | None = None) -> None:
        """Count every schedule's intended sends before `now` that are not made yet (once a second);
        `pause` is called every PAUSE_EVERY schedules (Locust yields to its users there)."""
        for position, schedule in enumerate(list(self._schedules), start=1):
            self._count_overdue(schedule, now)
            if pause is not None and position % PAUSE_EVERY == 0:
                pause()

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
        uncorrected_us = response_ms * 1000.0
        if send is None:
            cell = self._cell(now - uncorrected_us / _US, name)
            cell.intended += 1
            cell.sent += 1
            cell.closed_loop += 1
            corrected_us = uncorrected_us
        else:
            intended = send.intended
            cell = self._cell(intended.at, intended.name)
            corrected_us = uncorrected_us + (send.service_lag + send.generator_lag) * _US
            record(cell.lag_service, send.service_lag * _US)
            record(cell.lag_generator, send.generator_lag * _US)
        cell.completed += 1
        record(cell.corrected, corrected_us)
        record(cell.uncorrected, uncorrected_us)
        if failed:
            cell.failed += 1
            record(cell.failed_corrected, corrected_us)

    def close(self, now: float) -> None:
        """End the books at `now`: count what was intended before it; nothing after counts."""
        if self.closed:
            return
        self.count_overdue(now)
        self.closed_at = now + self.unix_offset

    def take(self) -> list[IntervalDelta]:
        """What was counted since the last `take`, by second and request name; the running deltas restart."""
        cells, self._cells, self._last = self._cells, {}, None
        return [
            IntervalDelta(
                start=start,
                endpoint=name,
                intended=cell.intended,
                sent=cell.sent,
                completed=cell.completed,
                failed=cell.failed,
                closed_loop=cell.closed_loop,
                histograms=cell.histograms(),
            )
            for (start, name), cell in sorted(cells.items())
        ]

    def _count_overdue(self, schedule: Schedule, now: float) -> None:
        for intended in schedule.overdue(now):
            self._cell(intended.at, intended.name).intended += 1

    def _cell(self, at: float, name: str) -> _Cell:
        key = (int(at + self.unix_offset), name)  # Unix times are positive: int() is floor()
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Cell()
        self._last = (key, cell)
        return cell


def deltas_to_wire(deltas: Iterable[IntervalDelta]) -> list[dict[str, Any]]:
    """Deltas as plain data for Locust's worker-to-master messages (msgpack: lists, not int-keyed maps)."""
    return [delta.to_wire() for delta in deltas]


def deltas_from_wire(data: Iterable[Any]) -> list[IntervalDelta]:
    """The deltas a worker sent (`deltas_to_wire`)."""
    return [IntervalDelta.from_wire(item) for item in data]
