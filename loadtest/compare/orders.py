"""The order of each block's two trials, balanced: as many base-first as head-first blocks.

Drawing each block's order on its own leaves the two orders unequal (in 8 blocks they differ by 4 or more
in about 29% of comparisons), and whatever the side that runs second gains (a warm page cache, a host
that speeds up) becomes a bias. So blocks come in pairs, one of each order, the pair's order drawn at
random (permuted blocks of two, as clinical trials balance their arms): after any even number of blocks
the orders are equal, after an odd number they differ by one.

A dropped block (a trial the gate found invalid) is replaced by a block of the same order, run next, so
that the blocks that count stay balanced too. In a duet trial (base and head at the same time), the order
says which side's trial starts first (its threads, its port), balanced in the same way.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Literal

Order = Literal["base-first", "head-first"]
ORDERS: tuple[Order, Order] = ("base-first", "head-first")


class BlockOrders:
    """The next block's order, on demand: pairs of one of each, and a dropped block's order again."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._queue: deque[Order] = deque()

    def next(self) -> Order:
        """The order of the next block to run."""
        if not self._queue:
            pair = list(ORDERS)
            self._rng.shuffle(pair)
            self._queue.extend(pair)
        return self._queue.popleft()

    def replace(self, order: Order) -> None:
        """A block of `order` was dropped: the next block runs in that order again."""
        self._queue.appendleft(order)


def balanced_orders(blocks: int, seed: int) -> list[Order]:
    """The orders of `blocks` blocks planned in advance (a fixed number of blocks, none replaced)."""
    orders = BlockOrders(seed)
    return [orders.next() for _ in range(blocks)]
