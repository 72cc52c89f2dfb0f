"""Which design a comparison runs (loadtest/compare/duet.py): a duet where the machine allows one, else
interleaved blocks, and why."""

from __future__ import annotations

import pytest

from loadtest.compare.duet import DesignError, Pinning, choose_design, duet_placement
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement

CELL = Cell(1, 0.5, "512m")
TWO = Pinning(frozenset({0, 1}))


def test_two_cores_give_a_duet_with_both_sides_replicas_on_one_core_and_both_locusts_on_the_other() -> None:
    design = choose_design("auto", TWO, CELL)
    assert design.name == "duet"
    assert design.placement == Placement(frozenset({1}), frozenset({0}), sharing=2)
    assert design.why == (
        "duet: base and head at the same time on the same cores: both sides' 1 replica(s) of 0.5 CPU on CPU 1, "
        "each side under its own quota, and both Locusts on CPU 0"
    )


@pytest.mark.parametrize(
    ("cores", "cell", "replicas", "locust"),
    [
        pytest.param({0, 1, 2, 3}, CELL, {3}, {0, 1, 2}, id="a-runner-of-4"),
        pytest.param({0, 1, 2, 3}, Cell(1, 1.0, "1g"), {2, 3}, {0, 1}, id="two-whole-cpus"),
        pytest.param({0, 1, 2}, Cell(1, 0.75, "1g"), {1, 2}, {0}, id="a-quota-rounds-up-to-whole-cores"),
        pytest.param({3, 5, 6, 9}, Cell(2, 0.25, "256m"), {9}, {3, 5, 6}, id="cores-by-number-not-position"),
    ],
)
def test_the_replicas_take_the_last_cores_their_two_quotas_fill_and_the_locusts_the_rest(
    cores: set[int], cell: Cell, replicas: set[int], locust: set[int]
) -> None:
    assert duet_placement(frozenset(cores), cell) == Placement(frozenset(replicas), frozenset(locust), sharing=2)


@pytest.mark.parametrize(
    ("pinning", "cell", "why"),
    [
        pytest.param(
            Pinning(frozenset({1})),
            CELL,
            "both sides' 1 replica(s) of 0.5 CPU (1 CPU together) fill 1 core(s) and their Locusts need one more, "
            "but the comparison may use 1 CPU (1)",
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
            "both sides' 1 replica(s) of 1 CPU (2 CPU together) fill 2 core(s) and their Locusts need one more, but "
            "the comparison may use 2 CPU (0-1)",
            id="cells-fill-the-machine",
        ),
        pytest.param(
            Pinning(frozenset({0, 1, 2, 3})),
            Cell(2, 1.0, "512m"),
            "both sides' 2 replica(s) of 1 CPU (4 CPU together) fill 4 core(s) and their Locusts need one more, but "
            "the comparison may use 4 CPU (0-3)",
            id="two-replicas-a-side-on-four-cores",
        ),
    ],
)
def test_where_no_duet_fits_auto_falls_back_to_interleaved_and_duet_refuses(
    pinning: Pinning, cell: Cell, why: str
) -> None:
    design = choose_design("auto", pinning, cell)
    assert (design.name, design.placement) == ("interleaved", None)
    assert design.why == f"interleaved blocks, not a duet: {why}"
    with pytest.raises(DesignError, match=r"^--design duet cannot run here: ") as refused:
        choose_design("duet", pinning, cell)
    assert str(refused.value).endswith(why)


def test_interleaved_runs_when_asked_even_where_a_duet_fits() -> None:
    design = choose_design("interleaved", TWO, CELL)
    assert (design.name, design.why) == ("interleaved", "interleaved blocks, as asked (--design interleaved)")
    assert choose_design("duet", TWO, CELL).name == "duet"
