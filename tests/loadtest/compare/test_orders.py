"""The balanced order of each block's two trials, and a dropped block's order run again."""

from __future__ import annotations

import itertools

import pytest

from loadtest.compare.orders import ORDERS, BlockOrders, balanced_orders


@pytest.mark.parametrize("seed", range(20))
def test_after_every_pair_of_blocks_the_orders_are_equal(seed: int) -> None:
    orders = balanced_orders(24, seed)
    for end in range(2, 25, 2):
        assert orders[:end].count("base-first") == end // 2, (seed, end)
    assert all({orders[i], orders[i + 1]} == set(ORDERS) for i in range(0, 24, 2))  # one of each per pair


def test_each_pair_s_order_is_drawn_and_the_draw_repeats_with_its_seed() -> None:
    firsts = [balanced_orders(2, seed)[0] for seed in range(200)]
    assert 70 < firsts.count("base-first") < 130  # a coin, not a fixed alternation
    assert balanced_orders(16, 7) == balanced_orders(16, 7)
    assert any(balanced_orders(16, 7) != balanced_orders(16, seed) for seed in range(8, 12))


def test_a_dropped_block_runs_again_in_its_order_and_the_counted_blocks_stay_balanced() -> None:
    orders = BlockOrders(seed=3)
    counted: list[str] = []
    dropped = {1, 4, 5}  # the 2nd, 5th and 6th blocks run are dropped (the 6th is the 5th run again)
    for run in itertools.count():
        order = orders.next()
        if run in dropped:
            orders.replace(order)
            continue
        counted.append(order)
        if len(counted) == 10:
            break
    for end in range(2, 11, 2):
        assert counted[:end].count("base-first") == end // 2


def test_a_replaced_order_comes_next_even_at_a_pair_s_boundary() -> None:
    orders = BlockOrders(seed=0)
    first, second = orders.next(), orders.next()
    assert {first, second} == set(ORDERS)
    orders.replace(second)
    assert orders.next() == second
