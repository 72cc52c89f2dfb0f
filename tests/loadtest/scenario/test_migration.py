"""A profile's inline `scenario:` of before wave 3 is refused with the keys to write instead
(loadtest/scenario/migration.py), so that nothing reads two ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest.scenario import chosen_scenario, workshop_scenario
from loadtest.scenario.migration import inline_scenario_message
from loadtest.thresholds import parse_thresholds

ADVICE = (
    "`scenario:` (inline kinds of users) is replaced by `scenario_file:` (a scenario file, default the workshop's) "
    "and `pace:` (its kinds' paces): see the README's changelog, 'Renamed in wave 3'"
)


@pytest.mark.parametrize(
    ("inline", "message"),
    [
        (
            {
                "ordinary": {"share": 0.5, "wait": {"constant_throughput": 0.1}},
                "heavy": {"share": 0.5, "wait": {"constant_throughput": 0.4}},
            },
            ADVICE + "; for this profile write `pace: {ordinary: {rate: 0.1}, heavy: {rate: 0.4}}`",
        ),
        (
            {"heavy": {"share": 1.0, "wait": {"between": [0.1, 0.5]}}},
            ADVICE + "; for this profile write `pace: {heavy: {between: [0.1, 0.5]}}` and, for shares other than "
            "the workshop's 0.5 each (heavy 1.0), a scenario file of your own (copy loadtest/scenario/workshop.yaml "
            "and set each kind's `share`)",
        ),
        ({}, ADVICE),
        ("ordinary", ADVICE),
        ({"ordinary": 3, "heavy": {"wait": 2}}, ADVICE),
    ],
    ids=["ci", "heavy-alone", "empty", "not-a-mapping", "unreadable"],
)
def test_the_message_spells_out_the_new_keys(inline: Any, message: str) -> None:
    assert inline_scenario_message(inline) == message


def test_what_the_message_says_to_write_gives_the_same_load_as_before(tmp_path: Path) -> None:
    """The ci profile's inline scenario, migrated as the message says: 5,000 + 5,000 users asking 2,500 req/s."""
    text = (
        "slo: {max_error_rate: 0.01, max_p95_ms: 1000}\n"
        "profiles: {ci: {users: 10000, spawn_rate: 500, run_time: 2m, replicas: [1], cpus: 1, memory: 1g, "
        "pace: {ordinary: {rate: 0.1}, heavy: {rate: 0.4}}}}\n"
    )
    profile = parse_thresholds(text).profiles["ci"]
    scenario = chosen_scenario(None, profile.scenario_file, profile.pace, tmp_path / "thresholds.yaml", "ci")
    assert scenario.asked_rps(10_000) == pytest.approx(2_500)
    assert [load.share for load in scenario.users.values()] == [0.5, 0.5]
    assert scenario.requests == workshop_scenario().requests
