"""The walk along the pass/fail boundary: which configurations it probes, what it rules out, what it finds.

`walk` plays the search against a known truth (which configurations hold), as the probes would find it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from loadtest.runner.matrix import Cell
from loadtest.search.grid import Grid, covers
from loadtest.search.walk import (
    Finding,
    cheapest_pass,
    most_probes,
    next_probe,
    open_cells,
    probes_to_reach,
    resolve,
    ruled_out_by,
)

GRID = Grid.of([1, 2], [0.05, 0.1, 0.25, 0.5], ["512m"])
CELLS = GRID.configurations()
Truth = Callable[[Cell], Finding]


def walk(grid: Grid, truth: Truth) -> tuple[list[Cell], dict[Cell, Finding]]:
    """The probes in order, and what they found."""
    findings: dict[Cell, Finding] = {}
    cells = grid.configurations()
    probed = []
    while (cell := next_probe(cells, findings, grid)) is not None:
        assert cell not in findings, "a configuration is never probed twice"
        probed.append(cell)
        findings[cell] = truth(cell)
    return probed, findings


def total_at_least(cpus: float) -> Truth:
    return lambda cell: "pass" if cell.replicas * cell.cpus >= cpus - 1e-9 else "breach"


def holding_in(holding: frozenset[Cell]) -> Truth:
    return lambda cell: "pass" if cell in holding else "breach"


def names(cells: list[Cell]) -> list[str]:
    return [cell.name.removesuffix("-mem512m") for cell in cells]


def test_a_failure_at_the_most_replicas_rules_out_fewer() -> None:
    probed, findings = walk(GRID, total_at_least(0.2))
    assert names(probed) == ["r2-cpu0.05", "r2-cpu0.1", "r1-cpu0.1"]
    assert cheapest_pass(findings, GRID) == Cell(2, 0.1, "512m")
    resolved = resolve(CELLS, findings, GRID)
    assert resolved[Cell(1, 0.05, "512m")].state == "ruled out"
    assert resolved[Cell(1, 0.05, "512m")].by == Cell(2, 0.05, "512m")
    assert {cell.name for cell, found in resolved.items() if found.state == "not needed"} == {
        "r1-cpu0.25-mem512m",
        "r1-cpu0.5-mem512m",
        "r2-cpu0.25-mem512m",
        "r2-cpu0.5-mem512m",
    }


def test_when_everything_holds_each_replica_count_is_probed_once() -> None:
    probed, findings = walk(GRID, lambda _cell: "pass")
    assert names(probed) == ["r2-cpu0.05", "r1-cpu0.05"]
    assert cheapest_pass(findings, GRID) == Cell(1, 0.05, "512m")


def test_when_nothing_holds_the_top_row_rules_out_everything_below() -> None:
    probed, findings = walk(GRID, lambda _cell: "breach")
    assert names(probed) == ["r2-cpu0.05", "r2-cpu0.1", "r2-cpu0.25", "r2-cpu0.5"]
    assert cheapest_pass(findings, GRID) is None
    assert {found.state for found in resolve(CELLS, findings, GRID).values()} == {"breach", "ruled out"}


def test_an_inconclusive_probe_rules_out_nothing() -> None:
    def truth(cell: Cell) -> Finding:
        return "inconclusive" if cell == Cell(2, 0.05, "512m") else total_at_least(0.2)(cell)

    probed, findings = walk(GRID, truth)
    assert names(probed) == ["r2-cpu0.05", "r2-cpu0.1", "r1-cpu0.05", "r1-cpu0.1"]
    assert resolve(CELLS, findings, GRID)[Cell(2, 0.05, "512m")].state == "inconclusive"
    assert ruled_out_by(Cell(1, 0.05, "512m"), {Cell(2, 0.05, "512m"): "inconclusive"}) is None


def test_the_first_failure_that_covers_it_is_named() -> None:
    findings: dict[Cell, Finding] = {Cell(2, 0.5, "512m"): "breach", Cell(2, 0.1, "512m"): "breach"}
    assert ruled_out_by(Cell(1, 0.05, "512m"), findings) == Cell(2, 0.5, "512m")
    assert ruled_out_by(Cell(2, 0.1, "512m"), findings) == Cell(2, 0.5, "512m")
    assert ruled_out_by(Cell(2, 0.5, "512m"), findings) is None


def test_open_cells_are_cheaper_than_the_best_pass() -> None:
    findings: dict[Cell, Finding] = {Cell(2, 0.1, "512m"): "pass"}
    assert names(open_cells(CELLS, findings, GRID)) == ["r1-cpu0.05", "r1-cpu0.1", "r2-cpu0.05"]


def test_nothing_left_to_try_is_not_tried() -> None:
    findings: dict[Cell, Finding] = {Cell(2, 0.05, "512m"): "breach"}
    resolved = resolve(CELLS, findings, GRID)
    assert resolved[Cell(1, 0.1, "512m")].state == "not tried"


@pytest.mark.parametrize(
    ("cell", "probes"),
    [
        pytest.param(Cell(2, 0.05, "512m"), 1, id="the-start"),
        pytest.param(Cell(2, 0.5, "512m"), 4, id="three-failures-along-the-top"),
        pytest.param(Cell(1, 0.05, "512m"), 2, id="one-pass-down"),
        pytest.param(Cell(1, 0.5, "512m"), 5, id="the-far-corner"),
    ],
)
def test_probes_to_reach(cell: Cell, probes: int) -> None:
    assert probes_to_reach(cell, GRID) == probes
    assert most_probes(GRID) == 5


def monotone_truths(grid: Grid) -> list[frozenset[Cell]]:
    """Every set of holding configurations that a configuration covering a holding one also holds in."""
    cells = grid.configurations()
    truths = []
    for bits in itertools.product([False, True], repeat=len(cells)):
        holding = frozenset(cell for cell, holds in zip(cells, bits, strict=True) if holds)
        if all(big in holding for small in holding for big in cells if covers(big, small)):
            truths.append(holding)
    return truths


@pytest.mark.parametrize(
    "grid",
    [
        pytest.param(Grid.of([1, 2, 3], [0.25, 0.5, 1.0], ["1g"]), id="3x3"),
        pytest.param(Grid.of([1, 2], [0.05, 0.1, 0.25, 0.5], ["512m"]), id="2x4"),
    ],
)
def test_for_every_monotone_truth_the_walk_finds_the_cheapest_and_skips_only_failures(grid: Grid) -> None:
    truths = monotone_truths(grid)
    assert len(truths) > 10
    cells = grid.configurations()
    for holding in truths:
        probed, findings = walk(grid, holding_in(holding))
        best = next((cell for cell in cells if cell in holding), None)
        assert cheapest_pass(findings, grid) == best
        assert len(probed) <= most_probes(grid)
        for cell, resolution in resolve(cells, findings, grid).items():
            if resolution.state == "ruled out":
                assert cell not in holding
            assert resolution.state != "not tried"
