"""The load generator's side of a cell: how many Locust processes the machine can give it."""

from __future__ import annotations

import math

from loadtest.runner.linux.processes import usable_cores
from loadtest.runner.matrix import Cell


def worker_processes(cores: int, api_cpus: float) -> int:
    """Locust workers for a cell: the cores the API's CPU limits leave free, at least one."""
    return max(1, cores - math.ceil(api_cpus - 1e-9))


def cell_workers(cell: Cell, override: int | None = None) -> int:
    """The Locust processes a cell gets: `override` (--locust-workers), else what the cores allow."""
    return override or worker_processes(usable_cores(), cell.total_cpus)
