"""The load: the workshop's two kinds of users, on PacedHttpUser (Locust's FastHttpUser, paced and recorded).

    locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000 \
        -u 10000 -r 500 -t 2m --csv results/run/locust --csv-full-history

Ordinary users mostly predict and sometimes read /health and /; heavy users only predict. Their
shares and waits come from the scenario in LOADTEST_SCENARIO (a profile's `scenario`, set by the
runner), the workshop's when it is unset: equally many of each, waiting 1-3 s and 0.1-0.5 s.
A `constant_throughput` wait is the open-loop rate (loadtest/loadgen/pacing.py: exponential gaps,
sends kept on schedule, latency timed from the intended send); `between` stays a closed loop.
Every request is recorded into histograms.jsonl beside the CSVs (loadtest/loadgen/locust_hooks.py).
Request names are "METHOD /path", the endpoint keys of
thresholds.yaml. A reply fails unless it is HTTP 200 and, for /predict, a JSON object with
`prediction` and `probabilities`; connection errors and HTTP errors keep Locust's own names
(ConnectionRefusedError(...), LocustBadStatusCode(code=503)) in locust_failures.csv.
"""

from __future__ import annotations

import os

import locust.stats

# `loadtest` is importable because it is installed (the checkout's `make install` installs it
# editable; the Locust image puts /app on PYTHONPATH): no sys.path edit.
from loadtest.loadgen.locust_users import PacedHttpUser
from loadtest.loadgen.pacing import ClosedLoop, OpenLoop, Pacing
from loadtest.scenario import (
    PREDICTION_KEYS,
    TASKS,
    Scenario,
    Wait,
    predict_payload,
    reply_problem,
)

# The runner reads the history while Locust runs (the progress line, a probe's early stop): flushed every
# second rather than Locust's 5, so a stop can come within a second or two of the rows that call for it.
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

SCENARIO = Scenario.from_env(os.environ)
WEIGHTS = SCENARIO.weights()


class _ApiUser(PacedHttpUser):
    """Requests and reply checks shared by both kinds of users."""

    abstract = True

    def send(self, name: str) -> None:
        """The request named `name` (PacedHttpUser draws which, by the kind's weights)."""
        {"POST /predict": self.predict, "GET /health": self.get_health, "GET /": self.get_root}[name]()

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


def pacing_of(wait: Wait) -> Pacing:
    """A scenario's wait as a user's pacing: `constant_throughput` is the open-loop rate."""
    if wait.constant_throughput is not None:
        return OpenLoop(wait.constant_throughput)
    assert wait.between is not None  # a Wait holds exactly one of the two
    return ClosedLoop(*wait.between)


class OrdinaryUser(_ApiUser):
    """Checks the service once, then mostly predicts, sometimes reads /health and /."""

    weight = WEIGHTS["ordinary"]
    pacing = pacing_of(SCENARIO.ordinary.wait)
    weights = TASKS["ordinary"]

    def on_start(self) -> None:
        self.get_health()  # once, before the schedule starts: outside it (closed-loop)
        super().on_start()


class HeavyUser(_ApiUser):
    """Only predicts."""

    weight = WEIGHTS["heavy"]
    pacing = pacing_of(SCENARIO.heavy.wait)
    weights = TASKS["heavy"]
