"""Where a pinned cell runs (loadtest/runner/placement.py): its replicas' and its Locust's CPUs."""

from __future__ import annotations

import pytest

from loadtest.runner.placement import Placement


def test_a_placement_says_where_each_part_runs() -> None:
    placement = Placement(frozenset({2, 3}), frozenset({0, 1}))
    assert placement.describe() == "replicas on CPU 2-3, Locust on CPU 0-1"


@pytest.mark.parametrize(
    ("replicas", "locust", "sharing", "error"),
    [
        pytest.param(set(), {0}, 1, r"^placement replicas: \[\] is not a set of CPUs", id="no-replica-cores"),
        pytest.param({1}, {-1}, 1, r"^placement locust: \[-1\] is not a set of CPUs", id="a-negative-cpu"),
        pytest.param({1}, {0}, 0, r"^placement sharing: 0 cells; at least 1", id="shared-by-nobody"),
    ],
)
def test_a_placement_refuses_what_is_not_one(replicas: set[int], locust: set[int], sharing: int, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Placement(frozenset(replicas), frozenset(locust), sharing)


@pytest.mark.parametrize(
    ("replicas", "locust", "sharing", "replica_cpus", "processes"),
    [
        pytest.param({1}, {0}, 2, 0.5, 1, id="a-duet-on-two-cores"),
        pytest.param({3}, {0, 1, 2}, 2, 0.5, 1, id="a-duet-on-four-cores"),
        pytest.param({6, 7}, {0, 1, 2, 3, 4, 5}, 2, 1.0, 3, id="a-duet-on-eight-cores"),
        pytest.param({0, 1}, {0, 1}, 1, 0.5, 1, id="one-cell-sharing-its-cores-with-its-replica"),
        pytest.param({0, 1, 2, 3}, {0, 1, 2, 3}, 1, 1.5, 2, id="the-quota-takes-whole-cores"),
    ],
)
def test_each_cell_gets_its_share_of_the_locust_cores_no_quota_takes(
    replicas: set[int], locust: set[int], sharing: int, replica_cpus: float, processes: int
) -> None:
    assert Placement(frozenset(replicas), frozenset(locust), sharing).locust_processes(replica_cpus) == processes
