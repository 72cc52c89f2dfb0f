"""The workshop's traffic, as plain functions: what a request carries and what a reply must hold.

Kept free of Locust so that pytest can import it (Locust monkey-patches the process with
gevent); `loadtest/locustfile.py` wires these into Locust's users.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable

IRIS_RANGES: tuple[tuple[float, float], ...] = ((4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5))
"""Min and max of each Iris feature: sepal length, sepal width, petal length, petal width (cm)."""

PREDICTION_KEYS = ("prediction", "probabilities")
"""What a /predict reply must carry to count as a success."""

ORDINARY_WAIT_S = (1.0, 3.0)
"""Ordinary users' pause between tasks (seconds, uniform)."""

HEAVY_WAIT_S = (0.1, 0.5)
"""Heavy users' pause between tasks (seconds, uniform)."""


def offered_rps(users: int, response_s: float = 0.0) -> float:
    """Requests per second that `users` send when every reply takes `response_s` seconds.

    Locust's users are a closed loop: each waits for its reply, pauses, and asks again, so a
    user whose pauses average w sends 1 / (w + response_s) requests per second. Half the users
    are ordinary and half heavy (equal weights). At response_s=0 this is the most the scenario
    can ask; a service that serves less makes the replies slower until the two meet.
    """
    if users < 0 or response_s < 0:
        raise ValueError(f"users ({users}) and response_s ({response_s}) must not be negative")
    heavy = users // 2
    ordinary = users - heavy
    return sum(
        count / ((low + high) / 2 + response_s)
        for count, (low, high) in ((ordinary, ORDINARY_WAIT_S), (heavy, HEAVY_WAIT_S))
    )


def random_features(rng: random.Random | None = None) -> list[float]:
    """Four features drawn uniformly within the Iris ranges, rounded to 0.1 cm."""
    draw = rng or random
    return [round(draw.uniform(low, high), 1) for low, high in IRIS_RANGES]


def predict_payload(rng: random.Random | None = None) -> dict[str, list[float]]:
    """The body of one `POST /predict`: `{"features": [a, b, c, d]}`."""
    return {"features": random_features(rng)}


def reply_problem(status: int, body: bytes | None, required_keys: Iterable[str] = ()) -> str | None:
    """Why a reply does not count as a success, or None when it does.

    A success is HTTP 200 and, when `required_keys` are given, a JSON object holding all of
    them. The messages carry no reply data, so Locust counts each kind of failure as one row.
    """
    if status != 200:
        return f"HTTP {status}, expected 200"
    keys = tuple(required_keys)
    if not keys:
        return None
    try:
        document = json.loads(body or b"")
    except ValueError:
        return "reply is not JSON"
    if not isinstance(document, dict):
        return "reply is not a JSON object"
    missing = [key for key in keys if key not in document]
    if missing:
        return "reply lacks " + " and ".join(repr(key) for key in missing)
    return None
