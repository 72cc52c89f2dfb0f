"""The load generator's side of a cell: how many Locust processes the machine can give it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from loadtest.runner.linux.processes import usable_cores
from loadtest.runner.matrix import Cell

if TYPE_CHECKING:  # a placement counts its cores with `whole_cores`
    from loadtest.runner.placement import Placement


def whole_cores(cpus: float) -> int:
    """The whole cores a CPU quota of `cpus` fills (0.5 -> 1, 2.0 -> 2; float sums such as 3 x 0.1 count as
    the quota they mean)."""
    return math.ceil(cpus - 1e-9)


def worker_processes(cores: int, api_cpus: float) -> int:
    """Locust workers for a cell: the cores the API's CPU limits leave free, at least one."""
    return max(1, cores - whole_cores(api_cpus))


def cell_workers(cell: Cell, override: int | None = None, placement: Placement | None = None) -> int:
    """The Locust processes a cell gets: `override` (--locust-workers), else its share of its placement's Locust
    cores when pinned (a duet), else what the machine's cores allow."""
    if override:
        return override
    if placement is not None:
        return placement.locust_processes(cell.total_cpus)
    return worker_processes(usable_cores(), cell.total_cpus)
