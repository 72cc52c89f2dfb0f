"""The load generator's share of the machine (loadtest/runner/generator.py): Locust's worker count."""

from __future__ import annotations

import pytest

from loadtest.runner.generator import worker_processes


@pytest.mark.parametrize(
    ("cores", "api_cpus", "workers"),
    [(2, 0.5, 1), (2, 1.0, 1), (2, 2.0, 1), (4, 1.0, 3), (4, 2.0, 2), (8, 1.5, 6), (1, 0.5, 1), (16, 4.0, 12)],
)
def test_workers_use_the_cores_the_api_leaves(cores: int, api_cpus: float, workers: int) -> None:
    assert worker_processes(cores, api_cpus) == workers
