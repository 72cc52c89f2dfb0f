"""The scenario: which requests the users make, what a reply must hold, and how often they ask.

`model` is a scenario file's schema, `loading` reads one (`load_scenario`) and hands it to Locust,
`bodies` reads a JSON Lines file of bodies, `prepared` turns a request into what a Locust user
sends and checks. The workshop's scenario ships here as `workshop.yaml` (`WORKSHOP_SCENARIO`).
`migration` says what to write instead of a profile's inline `scenario:` of before wave 3.
"""

from loadtest.scenario.loading import (
    FILE_ENV,
    HANDOVER_ENV,
    WORKSHOP_SCENARIO,
    ScenarioError,
    chosen_scenario,
    handed_over,
    handover,
    load_scenario,
    parse_scenario,
    workshop_scenario,
)
from loadtest.scenario.model import Expect, Pace, RequestSpec, Scenario, UserKind

__all__ = [
    "FILE_ENV",
    "HANDOVER_ENV",
    "WORKSHOP_SCENARIO",
    "Expect",
    "Pace",
    "RequestSpec",
    "Scenario",
    "ScenarioError",
    "UserKind",
    "chosen_scenario",
    "handed_over",
    "handover",
    "load_scenario",
    "parse_scenario",
    "workshop_scenario",
]
