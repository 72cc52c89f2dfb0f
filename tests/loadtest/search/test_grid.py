"""The grid: what a configuration costs, the order of the configurations, which covers which."""

from __future__ import annotations

import pytest

from loadtest.runner.matrix import Cell
from loadtest.search.grid import Grid, cost_unit, covers
from loadtest.thresholds import CostWeights

GRID = Grid.of([2, 1], [0.5, 0.05, 0.1, 0.25], ["512m"])


def names(cells: list[Cell]) -> list[str]:
    return [cell.name for cell in cells]


def test_configurations_cheapest_first_with_memory_breaking_ties() -> None:
    assert names(GRID.configurations()) == [
        "r1-cpu0.05-mem512m",
        "r1-cpu0.1-mem512m",  # 0.1 CPU with 512m in all ranks before...
        "r2-cpu0.05-mem512m",  # ...0.1 CPU with 1g in all
        "r2-cpu0.1-mem512m",
        "r1-cpu0.25-mem512m",
        "r1-cpu0.5-mem512m",
        "r2-cpu0.25-mem512m",
        "r2-cpu0.5-mem512m",
    ]
    assert GRID.size == 8


@pytest.mark.parametrize(
    ("weights", "cell", "cost"),
    [
        pytest.param(CostWeights(), Cell(2, 0.25, "512m"), 0.5, id="cpus-only"),
        pytest.param(CostWeights(), Cell(3, 0.1, "1g"), 0.3, id="no-float-noise"),
        pytest.param(CostWeights(cpu=1.0, memory_gib=0.5), Cell(2, 0.25, "512m"), 1.0, id="with-memory"),
        pytest.param(CostWeights(cpu=0.0, memory_gib=1.0), Cell(4, 1.0, "256m"), 1.0, id="memory-only"),
    ],
)
def test_cost(weights: CostWeights, cell: Cell, cost: float) -> None:
    assert Grid.of([1], [1.0], ["1g"], weights).cost(cell) == cost


def test_a_memory_weight_can_put_fewer_replicas_first() -> None:
    grid = Grid.of([1, 2], [0.25, 0.5], ["2g"], CostWeights(cpu=1.0, memory_gib=1.0))
    # 1 x 0.5 CPU costs 0.5 + 2 = 2.5; 2 x 0.25 costs 0.5 + 4 = 4.5
    assert names(grid.configurations())[:3] == ["r1-cpu0.25-mem2g", "r1-cpu0.5-mem2g", "r2-cpu0.25-mem2g"]


def test_memory_variants_and_the_largest_memory() -> None:
    grid = Grid.of([1], [0.5], ["1g", "256m", "512M"])
    assert grid.memory == ("256m", "512m", "1g")
    assert grid.largest_memory == "1g"
    assert names(grid.configurations()) == ["r1-cpu0.5-mem1g"]
    assert names(grid.memory_variants(Cell(1, 0.5, "1g"))) == [
        "r1-cpu0.5-mem256m",
        "r1-cpu0.5-mem512m",
        "r1-cpu0.5-mem1g",
    ]


@pytest.mark.parametrize(
    ("cell", "below"),
    [
        pytest.param(Cell(1, 0.05, "512m"), None, id="the-cheapest"),
        pytest.param(Cell(2, 0.05, "512m"), "r1-cpu0.1-mem512m", id="same-cost-less-memory"),
        pytest.param(Cell(1, 0.25, "512m"), "r2-cpu0.1-mem512m", id="two-replicas-below-one"),
        pytest.param(Cell(1, 0.25, "256m"), "r2-cpu0.1-mem256m", id="at-its-own-memory"),
    ],
)
def test_next_cheaper(cell: Cell, below: str | None) -> None:
    grid = Grid.of([1, 2], [0.05, 0.1, 0.25, 0.5], ["256m", "512m"])
    found = grid.next_cheaper(cell)
    assert (found.name if found else None) == below


@pytest.mark.parametrize(
    ("big", "small", "expected"),
    [
        pytest.param(Cell(2, 0.5, "1g"), Cell(1, 0.25, "512m"), True, id="more-of-everything"),
        pytest.param(Cell(2, 0.5, "1g"), Cell(2, 0.5, "1g"), True, id="itself"),
        pytest.param(Cell(2, 0.25, "1g"), Cell(1, 0.5, "512m"), False, id="less-cpu"),
        pytest.param(Cell(1, 0.5, "1g"), Cell(2, 0.25, "512m"), False, id="fewer-replicas"),
        pytest.param(Cell(2, 0.5, "256m"), Cell(1, 0.25, "512m"), False, id="less-memory"),
    ],
)
def test_covers(big: Cell, small: Cell, expected: bool) -> None:
    assert covers(big, small) is expected


def test_grid_refuses_repeats_and_empty_lists() -> None:
    with pytest.raises(ValueError, match=r"CPU limit 0\.5 is listed twice"):
        Grid.of([1], [0.5, 0.5], ["1g"])
    with pytest.raises(ValueError, match=r"memory limits 512m and 0\.5g are the same"):
        Grid.of([1], [0.5], ["512m", "0.5g"])
    with pytest.raises(ValueError, match="no replica count given"):
        Grid.of([], [0.5], ["1g"])


def test_cost_unit() -> None:
    assert cost_unit(CostWeights()) == "CPU"
    assert cost_unit(CostWeights(cpu=2.0)) == "cost units"
    assert cost_unit(CostWeights(memory_gib=0.1)) == "cost units"
