"""When each user means to send: an open-loop schedule drawn in advance, or a closed loop's waits.

Open loop (`OpenLoop`): a user's next intended send is its previous intended send plus a gap drawn
from its rate, whatever its replies do. Exponential gaps (the default) make each user a Poisson
process, so users together are a Poisson process at the asked rate; `constant` gaps are regular
(each user's phase drawn at random, so users do not march in step). A user whose reply comes
after its next intended send sends at once when it is free and keeps its schedule: it catches
up, as wrk2 does, and every request is timed from its intended send (`Send.intended`).

The schedule also draws *what* each intended send will request (by the kind's weights), so a
send that never happened still has an endpoint: it is counted against that endpoint's limits.

The lag of a send (actual - intended) is split by cause: the part the user spent still waiting
for an earlier reply is the service's (`service_lag`); the rest, when the user was free and the
generator did not send on time, is the generator's (`generator_lag`: a saturated Locust shows
here first).

Closed loop (`ClosedLoop`, the workshop's `between`): a user waits low..high seconds after each
reply, so a slow service slows its own load; reports label it closed-loop.

Pure: times are plain floats on any monotonic clock, so the tests drive it with a fake one.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Arrivals = Literal["exponential", "constant"]
ARRIVALS: tuple[Arrivals, ...] = ("exponential", "constant")


class PacingError(ValueError):
    """A rate, a wait or a request mix that cannot make a schedule (the message names the value)."""


@dataclass(frozen=True)
class OpenLoop:
    """`rate` requests per second per user, sent on schedule whatever the replies do."""

    rate: float
    arrivals: Arrivals = "exponential"

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, int | float) or not math.isfinite(self.rate):
            raise PacingError(f"rate: {self.rate!r} must be a finite number of requests per second")
        if self.rate <= 0:
            raise PacingError(f"rate: {self.rate!r} must be above 0 requests per second")
        if self.arrivals not in ARRIVALS:
            raise PacingError(f"arrivals: {self.arrivals!r} must be one of {', '.join(ARRIVALS)}")

    @property
    def label(self) -> str:
        """How reports name this kind of load."""
        return f"open-loop ({self.arrivals})"

    def first_gap(self, rng: random.Random) -> float:
        """From a user's start to its first intended send: memoryless for exponential arrivals (so
        the process is Poisson from the start), a random phase within one period for constant ones."""
        if self.arrivals == "exponential":
            return rng.expovariate(self.rate)
        return rng.uniform(0.0, 1.0 / self.rate)

    def gap(self, rng: random.Random) -> float:
        """From one intended send to the next."""
        if self.arrivals == "exponential":
            return rng.expovariate(self.rate)
        return 1.0 / self.rate


@dataclass(frozen=True)
class ClosedLoop:
    """Wait uniformly between `low` and `high` seconds after each reply (Locust's `between`)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        for key, value in (("low", self.low), ("high", self.high)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise PacingError(f"between: {key} {value!r} must be a number of seconds, 0 or more")
        if self.low > self.high:
            raise PacingError(f"between: [{self.low!r}, {self.high!r}] has its low end above its high end")

    @property
    def label(self) -> str:
        """How reports name this kind of load."""
        return "closed-loop"

    def wait(self, rng: random.Random) -> float:
        """Seconds to wait after a reply."""
        return self.low + rng.random() * (self.high - self.low)


Pacing = OpenLoop | ClosedLoop


class Intended(NamedTuple):
    """One send the schedule means to make: when, and what (a request name).

    NamedTuples, not dataclasses, for this and `Send`: one of each per request on Locust's core.
    """

    at: float
    name: str


class Send(NamedTuple):
    """One send as it happened: timed from `intended.at`, made at `actual`."""

    intended: Intended
    actual: float
    service_lag: float
    """Seconds of the lag the user spent still waiting for an earlier reply (the service's fault)."""
    generator_lag: float
    """Seconds of the lag while the user was free (the generator's fault)."""
    counted: bool
    """Its intended send was already counted as overdue (see `Schedule.overdue`): count it once."""

    @property
    def lag(self) -> float:
        """Seconds from the intended send to the actual one."""
        return self.service_lag + self.generator_lag


class RequestMix:
    """A kind's requests by weight: which request an intended send makes."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        if not weights:
            raise PacingError("a kind of user needs at least one request to make")
        for name, weight in weights.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
                raise PacingError(f"weight of {name!r}: {weight!r} must be a number")
            if weight < 0:
                raise PacingError(f"weight of {name!r}: {weight!r} must not be negative")
        self.names = [name for name, weight in weights.items() if weight > 0]
        if not self.names:
            raise PacingError(f"every request has weight 0 ({', '.join(weights)}): there is nothing to send")
        self.weights = [float(weights[name]) for name in self.names]
        self._cumulative = list(itertools.accumulate(self.weights))

    def choose(self, rng: random.Random) -> str:
        """One request name, drawn by weight."""
        if len(self.names) == 1:
            return self.names[0]
        return self.names[bisect.bisect(self._cumulative, rng.random() * self._cumulative[-1])]


@dataclass(eq=False)  # one per user, kept in sets: equal only to itself
class Schedule:
    """One open-loop user's intended sends, drawn ahead as far as anyone has looked.

    The user calls `wait(now)` when it is free (Locust's wait_time, after each task),
    `take()` the next intended send when it runs a task, and `sent(intended, now)` when the request
    goes out. The recorder calls `overdue(now)` once a second and at the end, so that intended
    sends that are late (or never made) are counted in their own second, each once.
    """

    pacing: OpenLoop
    mix: RequestMix
    start: float
    rng: random.Random = field(default_factory=random.Random)
    _ahead: deque[Intended] = field(init=False)
    _counted: int = field(init=False, default=0)
    """How many of `_ahead`, from the left, are already counted as overdue."""
    _free_since: float = field(init=False)

    def __post_init__(self) -> None:
        first = Intended(self.start + self.pacing.first_gap(self.rng), self.mix.choose(self.rng))
        self._ahead = deque([first])
        self._free_since = self.start

    @property
    def next_at(self) -> float:
        """When the next send is intended."""
        return self._ahead[0].at

    def wait(self, now: float) -> float:
        """The user is free at `now`: seconds until its next intended send (0 when it is late)."""
        self._free_since = now
        return max(0.0, self._ahead[0].at - now)

    def take(self) -> tuple[Intended, bool]:
        """Take the next intended send (the task about to run makes it), and whether it was
        already counted as overdue (the recorder then does not count it again)."""
        intended = self._ahead.popleft()
        counted = self._counted > 0
        self._counted = max(0, self._counted - 1)
        if not self._ahead:
            self._ahead.append(self._after(intended))
        return intended, counted

    def sent(self, intended: Intended, counted: bool, now: float) -> Send:
        """The send of `intended` goes out at `now`: its lag, split by cause."""
        lag = max(0.0, now - intended.at)
        service = min(lag, max(0.0, self._free_since - intended.at))
        return Send(intended, now, service, lag - service, counted)

    def overdue(self, now: float) -> list[Intended]:
        """Intended sends before `now` that are neither made nor counted yet; from now on they are counted."""
        found: list[Intended] = []
        position = self._counted
        while True:
            if position == len(self._ahead):
                self._ahead.append(self._after(self._ahead[-1]))
            intended = self._ahead[position]
            if intended.at >= now:
                break
            found.append(intended)
            position += 1
        self._counted = position
        return found

    def _after(self, intended: Intended) -> Intended:
        return Intended(intended.at + self.pacing.gap(self.rng), self.mix.choose(self.rng))
