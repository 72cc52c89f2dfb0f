"""The load generator's share of the machine (loadtest/runner/generator.py): Locust's worker count."""

from __future__ import annotations

import pytest

from loadtest.runner.generator import cell_workers, whole_cores, worker_processes
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement


@pytest.mark.parametrize(
    ("cores", "api_cpus", "workers"),
    [(2, 0.5, 1), (2, 1.0, 1), (2, 2.0, 1), (4, 1.0, 3), (4, 2.0, 2), (8, 1.5, 6), (1, 0.5, 1), (16, 4.0, 12)],
)
def test_workers_use_the_cores_the_api_leaves(cores: int, api_cpus: float, workers: int) -> None:
    assert worker_processes(cores, api_cpus) == workers


@pytest.mark.parametrize(
    ("cpus", "cores"), [(0.5, 1), (1.0, 1), (1.5, 2), (2.0, 2), (0.1 + 0.2 + 0.7, 1), (3 * 0.1 * 10, 3)]
)
def test_a_quota_fills_the_whole_cores_it_means(cpus: float, cores: int) -> None:
    assert whole_cores(cpus) == cores


def test_a_pinned_cell_gets_its_share_of_its_placements_locust_cores_unless_told() -> None:
    duet = Placement(frozenset({3}), frozenset({0, 1, 2}), sharing=2)
    cell = Cell(1, 0.5, "512m")
    assert cell_workers(cell, None, duet) == 1
    assert cell_workers(Cell(1, 0.5, "512m"), None, Placement(frozenset({6, 7}), frozenset(range(6)), 2)) == 3
    assert cell_workers(cell, 4, duet) == 4  # --locust-workers wins, as it does unpinned
