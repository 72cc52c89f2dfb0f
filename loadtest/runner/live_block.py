"""Lines that rewrite themselves on a terminal: the progress line and the resource view of
`python -m loadtest ui` and `stats`.

Apart from `progress` (which follows the engine's cells) so that `stats` draws its view without
importing the engine and the gate.
"""

from __future__ import annotations

import math
import shutil
import time
from typing import TextIO

PLAIN_INTERVAL_SECONDS = 10.0


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
