"""Which design a comparison runs (loadtest/compare/duet.py): a duet where the machine allows one, else
interleaved blocks, and why."""

from __future__ import annotations

import pytest

from loadtest.compare.duet import DesignError, Pinning, choose_design, halves
from loadtest.runner.matrix import Cell

CELL = Cell(1, 0.5, "512m")
TWO = Pinning(frozenset({0, 1}))


def test_two_cores_give_a_duet_with_a_core_a_side_that_the_sides_swap() -> None:
    design = choose_design("auto", TWO, CELL)
    assert design.name == "duet"
    assert design.halves == (frozenset({0}), frozenset({1}))
    zero, one = frozenset({0}), frozenset({1})
    assert (design.cores("base", "base-first"), design.cores("head", "base-first")) == (zero, one)
    assert (design.cores("base", "head-first"), design.cores("head", "head-first")) == (one, zero)
    assert design.why == (
        "duet: base and head at the same time, one on CPU 0 and the other on CPU 1, swapping every block; each "
        "side's 1 replica(s) of 0.5 CPU and its Locust (1 process) on its own CPU"
    )


@pytest.mark.parametrize(
    ("cores", "first", "second"),
    [({0, 1, 2, 3}, {0, 1}, {2, 3}), ({0, 1, 2}, {0}, {1}), ({3, 5, 6, 9}, {3, 5}, {6, 9})],
)
def test_the_halves_are_equal_and_an_odd_core_is_left_out(cores: set[int], first: set[int], second: set[int]) -> None:
    assert halves(frozenset(cores)) == (frozenset(first), frozenset(second))


@pytest.mark.parametrize(
    ("pinning", "cell", "why"),
    [
        pytest.param(
            Pinning(frozenset({1})),
            CELL,
            "the comparison may use 1 CPU (1): a duet needs 2 or more, half a side",
            id="one-core",
        ),
        pytest.param(
            Pinning(frozenset({0, 1}), "the cpuset controller is not delegated to us"),
            CELL,
            "the sides cannot be pinned to cores: the cpuset controller is not delegated to us",
            id="no-cpuset",
        ),
        pytest.param(
            TWO,
            Cell(1, 1.0, "512m"),
            "a side's 1 replica(s) of 1 CPU (1 CPU) would leave its Locust less than a quarter of its 1 core(s); a "
            "duet needs at most 0.75 CPU a side",
            id="cell-fills-its-core",
        ),
        pytest.param(
            Pinning(frozenset({0, 1, 2, 3})),
            Cell(2, 1.0, "512m"),
            "a side's 2 replica(s) of 1 CPU (2 CPU) would leave its Locust less than a quarter of its 2 core(s); a "
            "duet needs at most 1.75 CPU a side",
            id="two-replicas-fill-two-cores",
        ),
    ],
)
def test_where_no_duet_fits_auto_falls_back_to_interleaved_and_duet_refuses(
    pinning: Pinning, cell: Cell, why: str
) -> None:
    design = choose_design("auto", pinning, cell)
    assert (design.name, design.halves) == ("interleaved", None)
    assert design.why == f"interleaved blocks, not a duet: {why}"
    assert design.cores("base", "base-first") is None
    with pytest.raises(DesignError, match=r"^--design duet cannot run here: ") as refused:
        choose_design("duet", pinning, cell)
    assert str(refused.value).endswith(why)


def test_interleaved_runs_when_asked_even_where_a_duet_fits() -> None:
    design = choose_design("interleaved", TWO, CELL)
    assert (design.name, design.why) == ("interleaved", "interleaved blocks, as asked (--design interleaved)")
    assert choose_design("duet", TWO, CELL).name == "duet"
