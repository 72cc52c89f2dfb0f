"""A clock the test moves, for every seam that takes one (`clock: Callable[[], float]`): no test waits for real time."""

from __future__ import annotations


class FakeClock:
    """Calling it reads `now`, which the test sets."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
