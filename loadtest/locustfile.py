"""The load: a scenario file's kinds of users and requests, on Locust's FastHttpUser.

    LOADTEST_SCENARIO_FILE=my-scenario.yaml locust -f loadtest/locustfile.py --headless \
        --host http://127.0.0.1:8000 -u 1000 -r 100 -t 30s --csv results/run/locust --csv-full-history

One Locust user class per kind of user in the scenario (`ordinary` -> `OrdinaryUser`), weighted by
the kinds' shares, on `PacedHttpUser` (loadtest/loadgen): a kind with a `rate` sends on an
open-loop schedule drawn in advance (each send's request drawn by weight with it), one with
`between` waits after each reply (closed loop); its `on_start` requests go first, outside the
schedule. The scenario comes from the runner (`INFERENCE_GATE_SCENARIO`), else from
`LOADTEST_SCENARIO_FILE`, else it is the workshop's. Every request goes through `ScenarioUser.send`:
its Locust name is the request's name (the key of per-endpoint limits), and its reply is checked
against its `expect`; connection errors and unexpected HTTP errors keep Locust's own names
(ConnectionRefusedError(...), LocustBadStatusCode(code=503)) in locust_failures.csv. Latencies are
recorded from each send's intended time into histograms.jsonl beside the CSVs. Reference:
docs/scenario.md.
"""

from __future__ import annotations

import os
from typing import Any

import locust.stats

# `loadtest` is importable because it is installed (the checkout's `make install` installs it
# editable; the Locust image puts /app on PYTHONPATH): no sys.path edit.
from loadtest.loadgen.locust_users import PacedHttpUser
from loadtest.scenario import Scenario, ScenarioError, handed_over
from loadtest.scenario.prepared import PreparedRequest

# The runner reads the history while Locust runs (the progress line, a probe's early stop): flushed every
# second rather than Locust's 5, so a stop can come within a second or two of the rows that call for it.
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

try:
    SCENARIO = handed_over(os.environ)
except ScenarioError as error:
    raise SystemExit(f"locustfile: {error}") from None
REQUESTS = {request.name: PreparedRequest.of(request) for request in SCENARIO.requests}
"""Every request, bodies read and checks compiled once per Locust process."""


class ScenarioUser(PacedHttpUser):
    """What every kind of user does: send a request of the scenario and check its reply."""

    abstract = True
    on_start_requests: tuple[PreparedRequest, ...] = ()

    def send(self, name: str) -> None:
        """One Locust request for the scenario's request called `name`, judged by its `expect`."""
        request = REQUESTS[name]
        with self.client.request(
            request.method,
            request.path,
            name=request.name,
            data=request.body(),  # type: ignore[arg-type]  # bytes: its docstring's "String/bytes", sent as they are
            headers=request.headers,
            catch_response=True,
        ) as reply:
            error = getattr(reply, "error", None)
            problem = request.check.problem(reply.status_code, reply.content)
            if problem is None:
                reply.success()  # also an expected status Locust counts as an error (an `expect: {status: 404}`)
            elif error is not None and reply.status_code != request.check.status:
                reply.failure(error)  # Locust's own name for it: ConnectionRefusedError(...), LocustBadStatusCode(...)
            else:
                reply.failure(problem)

    def on_start(self) -> None:
        for request in self.on_start_requests:  # before the schedule starts: outside it (closed loop)
            self.send(request.name)
        super().on_start()


def class_name(kind: str) -> str:
    """A kind's Locust class name: `ordinary` -> OrdinaryUser, `bulk_reader` -> BulkReaderUser."""
    return "".join(part[:1].upper() + part[1:] for part in kind.split("_")) + "User"


def user_classes(scenario: Scenario) -> dict[str, type[ScenarioUser]]:
    """One Locust user class per kind, by class name."""
    weights = scenario.weights()
    classes: dict[str, type[ScenarioUser]] = {}
    for kind, load in scenario.present().items():  # a kind of share 0 has no users: no class
        name = class_name(kind)
        if name in classes:
            raise SystemExit(f"locustfile: kinds of users {kind!r} and another both make the class name {name}")
        attributes: dict[str, Any] = {
            "__module__": __name__,
            "__doc__": f"The scenario's {kind!r} users.",
            "weight": weights[kind],
            "pacing": load.pacing(),
            "weights": scenario.mix(kind),
            "on_start_requests": tuple(REQUESTS[request] for request in load.on_start),
        }
        classes[name] = type(name, (ScenarioUser,), attributes)
    return classes


# Locust runs the User classes it finds among this module's names.
globals().update(user_classes(SCENARIO))
