"""The load generator's side of a cell: how many Locust processes the machine can give it."""

from __future__ import annotations

import math


def worker_processes(cores: int, api_cpus: float) -> int:
    """Locust workers for a cell: the cores the API's CPU limits leave free, at least one."""
    return max(1, cores - math.ceil(api_cpus - 1e-9))
