"""The live progress line: cell i of N, elapsed/total, users, current req/s and failures.

Figures come from the newest "Aggregated" row of Locust's growing `locust_stats_history.csv`
(written every second); only the file's header and tail are read, however long the run.
On a terminal the line rewrites itself; elsewhere (CI logs) a line is printed every 10 seconds.
`LiveBlock` does that for any number of lines (the resource view of `python -m loadtest ui`).
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from loadtest.util.units import format_clock, format_rate

_TAIL_BYTES = 16_384
PLAIN_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True)
class Snapshot:
    """The newest aggregated figures of a running Locust."""

    users: int
    rps: float
    failures_per_second: float
    requests: int
    failures: int
    timestamp: int | None = None
    """Unix time of the row, whole seconds (Locust writes one a second)."""
    p95_ms: float | None = None
    """P95 of about the last 10 seconds (Locust's "current" percentiles); None before any reply."""
    mean_ms: float | None = None
    """Mean reply time since Locust's statistics started (or were reset); None before any reply."""


def read_latest(history_csv: Path) -> Snapshot | None:
    """The last complete Aggregated row of a stats-history CSV, or None if there is none yet."""
    rows = read_recent(history_csv)
    return rows[-1] if rows else None


def read_recent(history_csv: Path) -> list[Snapshot]:
    """The complete Aggregated rows at the end of a stats-history CSV (its last 16 KiB), oldest first.

    Locust writes a row a second but flushes the file every few seconds: a reader that must see every
    second (a probe's early stop) takes them all, not only the last.
    """
    try:
        with history_csv.open("rb") as handle:
            header = handle.readline().decode("utf-8", errors="replace")
            size = handle.seek(0, io.SEEK_END)
            start = max(len(header), size - _TAIL_BYTES)
            handle.seek(start)
            tail = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = tail.splitlines()
    if start > len(header) and lines:
        lines = lines[1:]  # the first line of the tail may be cut
    if tail and not tail.endswith("\n") and lines:
        lines = lines[:-1]  # the last line may still be being written
    found: list[Snapshot] = []
    for row in csv.DictReader([header, *lines]):
        if row.get("Name") != "Aggregated":
            continue
        try:
            found.append(
                Snapshot(
                    users=int(row["User Count"]),
                    rps=float(row["Requests/s"]),
                    failures_per_second=float(row["Failures/s"]),
                    requests=int(row["Total Request Count"]),
                    failures=int(row["Total Failure Count"]),
                    timestamp=int(row["Timestamp"]),
                    p95_ms=None if row["95%"] in ("N/A", "") else float(row["95%"]),
                    mean_ms=float(row["Total Average Response Time"]) if int(row["Total Request Count"]) else None,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return found


def format_line(
    position: int,
    total: int,
    cell: str,
    elapsed: float,
    run_seconds: int,
    snapshot: Snapshot | None,
    label: str | None = None,
) -> str:
    """One progress line (`label` in place of "cell i/N")."""
    head = f"{label or f'cell {position}/{total}'} {cell}  {format_clock(elapsed)}/{format_clock(run_seconds)}"
    if snapshot is None:
        return f"{head}  starting Locust..."
    return (
        f"{head}  users {snapshot.users:,}  req/s {snapshot.rps:,.1f}  "
        f"requests {snapshot.requests:,}  failures {snapshot.failures:,} "
        f"({format_rate(snapshot.failures, snapshot.requests)})"
    )


class LiveBlock:
    """Lines that rewrite themselves in place on a terminal; elsewhere printed at most every `interval` s.

    A message goes above the block, which is drawn again under it. Lines are cut to the terminal's
    width, so the block is always as many rows as it has lines, and can be erased exactly.
    """

    def __init__(self, stream: TextIO, interval: float = PLAIN_INTERVAL_SECONDS) -> None:
        self.stream = stream
        self.interval = interval
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self._shown: list[str] = []
        self._last_plain = -math.inf

    def show(self, lines: list[str]) -> None:
        """Draw `lines` in place of the block (rate-limited when not a terminal)."""
        if self.live:
            self._erase()
            self._draw(lines)
        else:
            now = time.monotonic()
            if now - self._last_plain < self.interval:
                return
            self._last_plain = now
            self.stream.write("".join(line + "\n" for line in lines))
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own, above the block."""
        shown = self._shown
        self._erase()
        self.stream.write(text + "\n")
        self._draw(shown)
        self.stream.flush()

    def end(self) -> None:
        """Leave the block on the screen as it is; the next `show` starts a new one below it."""
        self._shown = []

    def _erase(self) -> None:
        if self._shown:
            # To the start of the block's first line, then clear to the end of the screen.
            self.stream.write(f"\x1b[{len(self._shown)}F\x1b[J")
            self._shown = []

    def _draw(self, lines: list[str]) -> None:
        if not lines:
            return
        width = max(20, shutil.get_terminal_size().columns - 1)
        cut = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
        self.stream.write("".join(line + "\n" for line in cut))
        self._shown = cut


class Progress:
    """Prints the progress of the cell that is running to `stream`."""

    def __init__(self, stream: TextIO, total_cells: int) -> None:
        self.block = LiveBlock(stream)
        self.total = total_cells
        self._cell = ""
        self._label: str | None = None
        self._position = 0
        self._run_seconds = 0
        self._started = 0.0

    @property
    def live(self) -> bool:
        """Whether the line rewrites itself (a terminal)."""
        return self.block.live

    def start_cell(self, position: int, cell: str, run_seconds: int, label: str | None = None) -> None:
        """A new cell's load begins now (`label`: what to show in place of "cell i/N")."""
        self._position, self._cell, self._run_seconds, self._label = position, cell, run_seconds, label
        self._started = time.monotonic()
        self.block.end()

    def update(self, history_csv: Path) -> None:
        """Re-read the history and show the line (rate-limited when not a terminal)."""
        snapshot = read_latest(history_csv)
        if snapshot is None and not self.live:
            return
        elapsed = time.monotonic() - self._started
        self.block.show(
            [format_line(self._position, self.total, self._cell, elapsed, self._run_seconds, snapshot, self._label)]
        )

    def message(self, text: str) -> None:
        """A line of its own, above the live line."""
        self.block.message(text)

    def end_line(self) -> None:
        """Leave the live line as it is, so that other output starts on a fresh one."""
        self.block.end()
