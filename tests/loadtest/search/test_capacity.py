"""The capacity bisection: double until a load fails, then halve the gap, within its steps."""

from __future__ import annotations

from loadtest.search.capacity import Bisection


def play(start: int, steps: int, capacity: int) -> tuple[list[int], Bisection]:
    """The users probed when the configuration holds up to `capacity` users."""
    bisection = Bisection(held=start, steps=steps)
    tried = []
    while (users := bisection.next_users()) is not None:
        tried.append(users)
        bisection.record(users, users <= capacity)
    return tried, bisection


def test_doubles_then_bisects_until_close() -> None:
    tried, bisection = play(1000, steps=10, capacity=2600)
    assert tried == [2000, 4000, 3000, 2500, 2750]  # 2,500 to 2,750 is within 10% of 2,500
    assert (bisection.held, bisection.failed, bisection.settled) == (2500, 2750, True)


def test_out_of_steps_keeps_the_bracket() -> None:
    tried, bisection = play(1000, steps=2, capacity=2600)
    assert tried == [2000, 4000]
    assert (bisection.held, bisection.failed, bisection.settled) == (2000, 4000, False)


def test_never_failing_within_the_steps() -> None:
    tried, bisection = play(100, steps=3, capacity=10**6)
    assert tried == [200, 400, 800]
    assert (bisection.held, bisection.failed) == (800, None)


def test_no_steps_no_probes() -> None:
    assert play(100, steps=0, capacity=1) == ([], Bisection(held=100, steps=0))


def test_a_small_bracket_is_settled_at_one_user() -> None:
    tried, bisection = play(1, steps=10, capacity=2)
    assert tried == [2, 4, 3]
    assert (bisection.held, bisection.failed, bisection.settled) == (2, 3, True)
