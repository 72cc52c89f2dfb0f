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
