"""The load: the workshop's two kinds of users, on Locust's FastHttpUser.

    locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000 \
        -u 10000 -r 500 -t 2m --csv results/run/locust --csv-full-history

Ordinary users read and predict at human pace; heavy users only predict, five times faster.
Both kinds are equally likely. Request names are "METHOD /path", the endpoint keys of
thresholds.yaml. A reply fails unless it is HTTP 200 and, for /predict, a JSON object with
`prediction` and `probabilities`; connection errors and HTTP errors keep Locust's own names
(ConnectionRefusedError(...), LocustBadStatusCode(code=503)) in locust_failures.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

from locust import FastHttpUser, between, task

# Locust puts the working directory and this file's folder on sys.path; the repository root
# is what `loadtest.scenario` needs, wherever Locust is started from.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from loadtest.scenario import HEAVY_WAIT_S, ORDINARY_WAIT_S, PREDICTION_KEYS, predict_payload, reply_problem  # noqa: E402 - after sys.path


class _ApiUser(FastHttpUser):
    """Requests and reply checks shared by both kinds of users."""

    abstract = True

    def predict(self) -> None:
        """POST /predict with random Iris features; the reply must hold the prediction."""
        self._request("POST", "/predict", json=predict_payload(), required_keys=PREDICTION_KEYS)

    def get_health(self) -> None:
        """GET /health: 200 when the model is loaded and answering."""
        self._request("GET", "/health")

    def get_root(self) -> None:
        """GET /: the service's landing reply."""
        self._request("GET", "/")

    def _request(self, method: str, path: str, required_keys: tuple[str, ...] = (), json: object | None = None) -> None:
        with self.client.request(method, path, name=f"{method} {path}", catch_response=True, json=json) as reply:
            error = getattr(reply, "error", None)
            problem = reply_problem(reply.status_code, reply.content, required_keys)
            if error is not None:
                reply.failure(error)
            elif problem is not None:
                reply.failure(problem)
            else:
                reply.success()


class OrdinaryUser(_ApiUser):
    """Checks the service once, then mostly predicts, sometimes reads /health and /."""

    weight = 1
    wait_time = between(*ORDINARY_WAIT_S)

    def on_start(self) -> None:
        self.get_health()

    @task(10)
    def predict_task(self) -> None:
        self.predict()

    @task(2)
    def health_task(self) -> None:
        self.get_health()

    @task(1)
    def root_task(self) -> None:
        self.get_root()


class HeavyUser(_ApiUser):
    """Only predicts, with short pauses."""

    weight = 1
    wait_time = between(*HEAVY_WAIT_S)

    @task
    def predict_task(self) -> None:
        self.predict()
