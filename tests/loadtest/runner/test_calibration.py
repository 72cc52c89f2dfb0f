"""What the runner says before the cells when the users ask more than Locust can deliver
(loadtest/runner/calibration.py: `capacity_notes`; the calibration itself runs in test_run_integration.py)."""

from __future__ import annotations

import pytest

from loadtest.runner.calibration import Calibration, calibration_users, capacity_notes
from loadtest.scenario import Pace, Scenario, workshop_scenario

ONE_CORE = Calibration(per_worker_rps=2_800.0, users=1000, seconds=8.0)
HEADROOM = 0.6


def each_user_asks(rate: float) -> Scenario:
    return workshop_scenario().with_paces({"ordinary": Pace(rate=rate), "heavy": Pace(rate=rate)})


@pytest.mark.parametrize(
    ("users", "workers", "expected"),
    [
        (1_000, 1, []),  # 1,000 req/s: 36% of one core
        (
            2_000,
            1,
            [(False, "r1: the users ask up to ~2,000 req/s, 71% of what its Locust delivers here (~2,800 req/s)")],
        ),
        (
            3_000,
            1,
            [
                (
                    True,
                    "r1: the users ask up to ~3,000 req/s, but its 1 Locust process(es) deliver ~2,800 req/s here: "
                    "expect an inconclusive cell (Locust, not the service, would set the pace). Ask less (the "
                    "scenario's rates, or the profile's pace) or give Locust more cores.",
                )
            ],
        ),
        (3_000, 2, []),  # two processes: 5,600 req/s, 54%
    ],
    ids=["within-headroom", "beyond-headroom", "beyond-capacity", "two-workers"],
)
def test_a_cell_that_asks_too_much_of_locust_is_named_before_it_runs(
    users: int, workers: int, expected: list[tuple[bool, str]]
) -> None:
    notes = capacity_notes(ONE_CORE, each_user_asks(1.0), users, {"r1": workers}, HEADROOM)
    assert [(note.over, note.text) for note in notes] == expected
    assert all(note.cell == "r1" for note in notes)


def test_each_cell_is_judged_against_its_own_locust_processes() -> None:
    notes = capacity_notes(ONE_CORE, each_user_asks(1.0), 4_000, {"r1": 1, "r2": 2, "r3": 3}, HEADROOM)
    assert [(note.cell, note.over) for note in notes] == [("r1", True), ("r2", False)]


@pytest.mark.parametrize(
    "heavy",
    [Pace(between=[0.0, 0.0]), Pace(rate=1.0)],
    ids=["every-user-eager", "ordinary-users-eager"],
)
def test_users_that_ask_as_fast_as_replies_come_get_no_false_warning(heavy: Pace) -> None:
    """With no wait they ask without bound at instant replies (the compare profile): the ask depends
    on the service, so nothing can be said before it answers."""
    eager = workshop_scenario().with_paces({"ordinary": Pace(between=[0.0, 0.0]), "heavy": heavy})
    assert capacity_notes(ONE_CORE, eager, 32, {"r1": 1}, HEADROOM) == []


def test_for_workers_scales_the_ceiling_by_the_cells_processes() -> None:
    capacity = ONE_CORE.for_workers(3)
    assert (capacity.per_worker_rps, capacity.workers, capacity.total_rps) == (2_800.0, 3, 8_400.0)
    assert (capacity.users, capacity.seconds) == (1000, 8.0)


@pytest.mark.parametrize(
    ("per_worker", "users"),
    [(40, 100), (1_000, 1_000), (5_000, 5_000), (10_000, 10_000), (50_000, 10_000)],
)
def test_the_calibration_runs_a_cells_users_per_locust_process_within_bounds(per_worker: int, users: int) -> None:
    """A Locust process delivers less the more users it carries: ci's 5,000 per process are measured at 5,000."""
    assert calibration_users(per_worker) == users
