"""`PacedHttpUser`: a FastHttpUser that sends on its kind's schedule and tags each request for the recorder.

Imported by Locust only (a locustfile): gevent patches the process. A locustfile's user class
sets two class attributes and one method:

    class Heavy(PacedHttpUser):
        pacing = OpenLoop(rate=0.4)                  # or ClosedLoop(0.1, 0.5), Locust's between
        weights = {"POST /predict": 1}               # request name -> weight
        def send(self, name: str) -> None:           # make exactly that one request, named `name`
            self.client.post("/predict", json=..., name=name)

PacedHttpUser runs one Locust task, which takes the next intended send from the schedule (when,
and which request), and `send`s it; Locust's `wait_time` is the time until the next intended
send (0 when the user is behind: it catches up). The request's `context()` carries the send's
timing to the recorder, so `send` passes nothing. One request per task: a second request in the
same task is recorded outside the schedule (closed-loop). Requests made in `on_start` before
`super().on_start()` (a user's start-up request) are outside the schedule too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from locust import FastHttpUser, task
from locust.env import Environment

from loadtest.loadgen.locust_hooks import CONTEXT_KEY, RECORDER
from loadtest.loadgen.pacing import ClosedLoop, Intended, OpenLoop, Pacing, RequestMix, Schedule

_RNG = random.Random()


class PacedHttpUser(FastHttpUser):
    """A user whose sends follow `pacing` (open loop) or wait after replies (closed loop)."""

    abstract = True
    pacing: ClassVar[Pacing] = ClosedLoop(1.0, 1.0)
    """Each concrete class sets its own."""
    weights: ClassVar[Mapping[str, float]] = {}
    """Request name -> weight; `send` is called with these names."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._mix = RequestMix(self.weights)
        self._schedule: Schedule | None = None
        self._slot: tuple[Intended, bool] | None = None

    def send(self, name: str) -> None:
        """Make the request named `name` (one Locust request, with `name=name`)."""
        raise NotImplementedError(f"{type(self).__name__} must define send(name) to make its requests")

    def on_start(self) -> None:
        """Start the schedule (open loop) and wait until its first intended send.

        Locust's own `wait` (not a bare sleep): a user is stoppable while it waits, whereas in
        `on_start` it counts as running, so a stop would wait for its first gap, up to --stop-timeout.
        """
        if isinstance(self.pacing, OpenLoop):
            self._schedule = Schedule(self.pacing, self._mix, time.perf_counter(), _RNG)
            RECORDER.add_schedule(self._schedule)
            self.wait()  # type: ignore[no-untyped-call]  # Locust leaves it unannotated

    def on_stop(self) -> None:
        """Sends it meant to make before now and never made are counted (unfinished)."""
        if self._schedule is not None:
            RECORDER.remove_schedule(self._schedule, time.perf_counter())

    def wait_time(self) -> float:
        """Until the next intended send (open loop), or the closed loop's wait."""
        if self._schedule is not None:
            return self._schedule.wait(time.perf_counter())
        pacing = self.pacing
        return pacing.wait(_RNG) if isinstance(pacing, ClosedLoop) else 0.0

    @task
    def next_request(self) -> None:
        """Make the next send: the schedule's (open loop), or one drawn by weight (closed loop)."""
        if self._schedule is None:
            self.send(self._mix.choose(_RNG))
            return
        self._slot = self._schedule.take()
        try:
            self.send(self._slot[0].name)
        finally:
            if self._slot is not None:  # `send` made no request
                RECORDER.not_sent(*self._slot)
                self._slot = None

    def context(self) -> dict[str, Any]:
        """Locust asks this as a request starts: the first request of a paced task carries its send."""
        if self._slot is None or self._schedule is None:
            return {}
        intended, counted = self._slot
        self._slot = None
        send = self._schedule.sent(intended, counted, time.perf_counter())
        RECORDER.on_send(send)
        return {CONTEXT_KEY: send}
