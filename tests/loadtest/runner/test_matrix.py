"""Matrix planning: which cells a run is made of and what they are called."""

from __future__ import annotations

import pytest

from loadtest.runner.matrix import Cell, plan_cells


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        (Cell(replicas=1, cpus=0.5, memory="512m"), "r1-cpu0.5-mem512m"),
        (Cell(replicas=2, cpus=1.0, memory="1g"), "r2-cpu1.0-mem1g"),
        (Cell(replicas=10, cpus=0.25, memory="256m"), "r10-cpu0.25-mem256m"),
        (Cell(replicas=1, cpus=2, memory="1g"), "r1-cpu2.0-mem1g"),
    ],
)
def test_cell_names(cell: Cell, name: str) -> None:
    assert cell.name == name


def test_cell_figures() -> None:
    cell = Cell(replicas=2, cpus=0.5, memory="512m")
    assert cell.memory_bytes == 512 * 1024**2
    assert cell.total_cpus == 1.0


def test_plan_is_cpu_outer_memory_middle_replicas_inner_in_given_order() -> None:
    cells = plan_cells([2, 1], [0.5, 1.0], ["512m", "1g"])
    assert [cell.name for cell in cells] == [
        "r2-cpu0.5-mem512m",
        "r1-cpu0.5-mem512m",
        "r2-cpu0.5-mem1g",
        "r1-cpu0.5-mem1g",
        "r2-cpu1.0-mem512m",
        "r1-cpu1.0-mem512m",
        "r2-cpu1.0-mem1g",
        "r1-cpu1.0-mem1g",
    ]


def test_plan_of_the_workshop_profile() -> None:
    assert [cell.name for cell in plan_cells([1, 2], [1.0], ["1g"])] == ["r1-cpu1.0-mem1g", "r2-cpu1.0-mem1g"]


def test_memory_is_normalised_in_names() -> None:
    assert plan_cells([1], [0.5], [" 1G "])[0].name == "r1-cpu0.5-mem1g"


@pytest.mark.parametrize(
    ("replicas", "cpus", "memory", "message"),
    [
        ([1, 1], [0.5], ["512m"], "replica count 1 is listed twice"),
        ([1], [0.5, 0.50], ["512m"], "CPU limit 0.5 is listed twice"),
        ([1], [0.5], ["1g", "1024m"], "memory limits 1g and 1024m are the same"),
        ([], [0.5], ["512m"], "no replica count given"),
        ([1], [], ["512m"], "no CPU limit given"),
        ([1], [0.5], [], "no memory limit given"),
        ([1], [0.5], ["lots"], "not a Docker memory size"),
    ],
)
def test_plan_rejects_bad_matrices(replicas: list[int], cpus: list[float], memory: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_cells(replicas, cpus, memory)
