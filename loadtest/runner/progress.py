"""The live progress line: cell i of N, elapsed/total, users, current req/s and failures.

`ProgressLine` is the terminal's `CellProgress` (see `loadtest.runner.engine`): the engine hands it
the new Aggregated rows of Locust's history as they come, and it shows the newest. On a terminal the
line rewrites itself; elsewhere (CI logs) a line is printed every 10 seconds. `LiveBlock` does that
for any number of lines (`loadtest.runner.live_block`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TextIO

from loadtest.gate.reading import HistoryRow
from loadtest.results import CellResult, result_line
from loadtest.runner.engine import CellRequest, MessageKind
from loadtest.runner.live_block import LiveBlock
from loadtest.util.units import format_clock, format_rate


def format_line(label: str, cell: str, elapsed: float, run_seconds: int, row: HistoryRow | None) -> str:
    """One progress line: `cell 2/4 r2-cpu0.5-mem512m  0:45/2:00  users 1,000  req/s ...`."""
    head = f"{label} {cell}  {format_clock(elapsed)}/{format_clock(run_seconds)}"
    if row is None:
        return f"{head}  starting Locust..."
    return (
        f"{head}  users {row.users:,}  req/s {row.rps:,.1f}  "
        f"requests {row.requests:,}  failures {row.failures:,} "
        f"({format_rate(row.failures, row.requests)})"
    )


class ProgressLine:
    """The terminal's view of the cells that run one after another (a `CellProgress`): their lines, and the
    live line of the one running.

    `numbered` cells show as `cell i/N` on the live line (a run's matrix of `total` cells); else as their
    request's label (`probe 3`). With `verdicts`, each cell's verdict is printed when it ends; a cell
    without one always says why.
    """

    def __init__(self, stream: TextIO, total: int = 1, numbered: bool = True, verdicts: bool = True) -> None:
        self.block = LiveBlock(stream)
        self.total, self.numbered, self.verdicts = total, numbered, verdicts
        self._label = self._cell = ""
        self._run_seconds = 0
        self._started = 0.0
        self._row: HistoryRow | None = None

    @property
    def live(self) -> bool:
        """Whether the line rewrites itself (a terminal)."""
        return self.block.live

    def message(self, text: str, kind: MessageKind = "step") -> None:
        """A line of its own, above the live line (every kind: the terminal shows everything)."""
        self.block.message(text)

    def load_started(self, request: CellRequest) -> None:
        """A new cell's load begins now."""
        self._label = f"cell {request.position}/{self.total}" if self.numbered else request.label
        self._cell, self._run_seconds = request.cell.name, request.load.run_time_seconds
        self._started, self._row = time.monotonic(), None
        self.block.end()

    def history(self, rows: Sequence[HistoryRow]) -> None:
        """Show the line with the newest row (rate-limited when not a terminal)."""
        if rows:
            self._row = rows[-1]
        if self._row is None and not self.live:
            return
        elapsed = time.monotonic() - self._started
        self.block.show([format_line(self._label, self._cell, elapsed, self._run_seconds, self._row)])

    def cell_ended(self, result: CellResult) -> None:
        """Leave the live line as it is and say how the cell ended."""
        self.block.end()
        if self.verdicts or result.failure is not None:
            self.block.message(result_line(result))

    def end_line(self) -> None:
        """Leave the live line as it is, so that other output starts on a fresh one."""
        self.block.end()
