"""A minimal locustfile on PacedHttpUser, for the recording's integration tests (Locust runs it in a subprocess).

One kind of user asking PACED_RATE requests a second each (PACED_ARRIVALS: exponential or
constant), three POST /predict to one GET /.
"""

from __future__ import annotations

import os

from loadtest.loadgen.locust_users import PacedHttpUser
from loadtest.loadgen.pacing import OpenLoop

BODY = {"features": [5.1, 3.5, 1.4, 0.2]}


class Paced(PacedHttpUser):
    pacing = OpenLoop(float(os.environ.get("PACED_RATE", "0.4")), os.environ.get("PACED_ARRIVALS", "exponential"))  # type: ignore[arg-type]
    weights = {"POST /predict": 3, "GET /": 1}  # noqa: RUF012 - Locust reads class attributes

    def send(self, name: str) -> None:
        method, path = name.split(" ", 1)
        self.client.request(method, path, name=name, json=BODY if method == "POST" else None)
