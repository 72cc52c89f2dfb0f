"""Question 3, the largest load: per configuration that holds, a bounded bisection over the number of users.

From the users it held at, the load doubles until a probe fails, then the gap is halved, in at most
`steps` probes and never past what Locust can send (a probe Locust cannot serve says nothing about the
service). The answer is the most users that held, with the req/s they were served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GROWTH = 2.0
"""How much the load grows while nothing has failed yet."""
RESOLUTION = 0.1
"""The bisection ends once the users that held and those that did not are this close (share of the former)."""


@dataclass
class Bisection:
    """The bracket of one configuration's capacity, in users."""

    held: int
    """The most users known to hold."""
    steps: int
    failed: int | None = None
    """The fewest users known not to hold."""
    taken: int = 0

    @property
    def settled(self) -> bool:
        """Whether the bracket is as narrow as it needs to be."""
        return self.failed is not None and self.failed - self.held <= max(1, math.ceil(RESOLUTION * self.held))

    def next_users(self) -> int | None:
        """The users of the next probe (None: settled, or out of steps)."""
        if self.taken >= self.steps or self.settled:
            return None
        if self.failed is None:
            return math.ceil(self.held * GROWTH)
        return (self.held + self.failed) // 2

    def record(self, users: int, held: bool) -> None:
        """What a probe at `users` found."""
        self.taken += 1
        if held:
            self.held = max(self.held, users)
        else:
            self.failed = users if self.failed is None else min(self.failed, users)
