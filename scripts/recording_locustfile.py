"""The locustfile of scripts/recording_bench.py: one kind of user posting a fixed prediction body.

RECORDING_BENCH_MODE picks what Locust runs (the benchmark compares them on one core):
- `plain`: Locust's FastHttpUser, no wait, nothing of ours imported (no recording at all);
- `recorded`: PacedHttpUser as a closed loop with no wait: every request recorded, none paced;
- `paced`: PacedHttpUser on an open-loop schedule of RECORDING_BENCH_RATE requests a second per
  user (exponential gaps): paced, recorded, and its generator lag measured.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

MODE = os.environ.get("RECORDING_BENCH_MODE", "plain")
BODY = {"features": [5.1, 3.5, 1.4, 0.2]}
NAME = "POST /predict"

if MODE == "plain":

    class PlainUser(FastHttpUser):
        wait_time = constant(0)

        @task
        def predict(self) -> None:
            self.client.post("/predict", json=BODY, name=NAME)

else:
    from loadtest.loadgen.locust_users import PacedHttpUser
    from loadtest.loadgen.pacing import ClosedLoop, OpenLoop

    class RecordedUser(PacedHttpUser):
        pacing = OpenLoop(float(os.environ["RECORDING_BENCH_RATE"])) if MODE == "paced" else ClosedLoop(0, 0)
        weights = {NAME: 1}  # noqa: RUF012 - Locust reads class attributes

        def send(self, name: str) -> None:
            self.client.post("/predict", json=BODY, name=name)
