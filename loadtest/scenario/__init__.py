"""The scenario: which requests the users make, what a reply must hold, and how often they ask.

`model` is a scenario file's schema, `loading` reads one (`load_scenario`), `bodies` reads a
JSON Lines file of bodies, `prepared` turns a request into what a Locust user sends and checks.
The workshop's scenario ships here as `workshop.yaml` (`WORKSHOP_SCENARIO`).

`legacy` holds the fixed two kinds of users the runner still hands Locust, until the profiles
point at scenario files.
"""

from loadtest.scenario.legacy import (
    DEFAULT_LOADS,
    ENV_VAR,
    IRIS_RANGES,
    PREDICTION_KEYS,
    QUICK_REPLY_MS,
    TASKS,
    Scenario,
    UserKind,
    UserLoad,
    Wait,
    kind_response_ms,
    predict_payload,
    random_features,
    reply_problem,
)

__all__ = [
    "DEFAULT_LOADS",
    "ENV_VAR",
    "IRIS_RANGES",
    "PREDICTION_KEYS",
    "QUICK_REPLY_MS",
    "TASKS",
    "Scenario",
    "UserKind",
    "UserLoad",
    "Wait",
    "kind_response_ms",
    "predict_payload",
    "random_features",
    "reply_problem",
]
