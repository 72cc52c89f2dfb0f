"""The scenario file's schema: which requests the users make, what a reply must hold, how often they ask.

A scenario file (YAML, read by `loadtest.scenario.loading`) has three keys:

- `requests`: what a user can send, each with its name (the label in reports and the key of
  thresholds.yaml's per-endpoint limits; default "METHOD /path"), its weight in the mix, its
  headers, its body (inline `json`, or `bodies`: a JSON Lines file, one body per line, drawn at
  random) and `expect`, what its reply must hold to count as a success;
- `users`: the kinds of users, each with its share of the users, its pace (`rate` requests per
  second per user, or `between: [low, high]` seconds of wait) and the requests it makes;
- `health`: the path that answers 200 once a replica is ready.

The model is free of Locust, so that pytest, the runner and the gate can import it (Locust
monkey-patches the process with gevent); `loadtest/locustfile.py` turns it into Locust users.
Reference: docs/scenario.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Annotated, Any, Literal

import jsonschema
from pydantic import Field, field_validator, model_validator

from loadtest.loadgen.pacing import Arrivals, ClosedLoop, OpenLoop, Pacing
from loadtest.util.models import StrictModel

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Seconds = Annotated[float, Field(ge=0)]

AGGREGATED = "Aggregated"
"""The name of Locust's row of all requests together: no request may take it."""
QUICK_REPLY_MS = 10.0
"""A reply time to put a figure on what users without a wait ask (there is no figure at instant replies)."""


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must start with /")
    if any(character.isspace() for character in value):
        raise ValueError("must not hold spaces (write %20)")
    return value


class Expect(StrictModel):
    """What a reply must hold to count as a success."""

    status: Annotated[int, Field(ge=100, le=599)] = 200
    """The HTTP status; any other is a failure."""
    json_keys: list[str] = Field(default_factory=list)
    """Keys the reply, a JSON object, must hold (none: the body is not read)."""
    json_schema: dict[str, Any] | None = None
    """A JSON Schema the reply must satisfy (the `jsonschema` package; the draft its `$schema` names,
    else the latest)."""

    @field_validator("json_schema")
    @classmethod
    def _a_valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            validator = jsonschema.validators.validator_for(value)
            try:
                validator.check_schema(value)
            except jsonschema.SchemaError as error:
                raise ValueError(f"is not a valid JSON Schema: {error.message}") from None
        return value

    @property
    def reads_body(self) -> bool:
        """Whether the check reads the reply's body (else the status decides alone)."""
        return bool(self.json_keys) or self.json_schema is not None


class RequestSpec(StrictModel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True):
    """One request the users can make."""

    name: Annotated[str, Field(min_length=1)]
    """The label in Locust's statistics and the reports, and the key of per-endpoint limits."""
    method: HttpMethod = "GET"
    path: str
    """The path on the host (with a query string if it needs one)."""
    weight: Annotated[int, Field(ge=0)] = 1
    """How often, relative to the others, a user picks it (0: never by weight; it can still be an `on_start`)."""
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    """An inline JSON body, sent as it is with every request."""
    bodies: str | None = None
    """A JSON Lines file of bodies, one drawn at random per request (as written; the loader resolves it
    against the scenario file's folder)."""
    expect: Expect = Expect()

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: object) -> object:
        if isinstance(data, Mapping) and data.get("name") is None:
            method, path = data.get("method", "GET"), data.get("path")
            if isinstance(method, str) and isinstance(path, str):
                return {**data, "name": f"{method} {path}"}
        return data

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return _path(value)

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        if self.json_body is not None and self.bodies is not None:
            raise ValueError("gives both json and bodies; give one body, or a file of them")
        return self


class Pace(StrictModel):
    """How often one user asks: exactly one of `rate` (open loop) and `between` (closed loop)."""

    rate: Annotated[float, Field(gt=0)] | None = None
    """Requests per second per user, on a schedule drawn in advance whatever the replies do (open loop):
    what the users ask does not fall when the service slows, and each request is timed from when it
    should have been sent."""
    arrivals: Arrivals | None = None
    """With `rate`: `exponential` gaps (None: the default; each user a Poisson process, so the users
    together are one) or `constant` ones (regular sends, each user's phase drawn at random)."""
    between: list[Seconds] | None = None
    """Wait uniformly between these two numbers of seconds after each reply (a closed loop: a slow service
    makes its users ask less)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Pace:
        if (self.between is None) == (self.rate is None):
            raise ValueError("give exactly one of rate: <requests per second per user> and between: [low, high]")
        if self.between is not None and len(self.between) != 2:
            raise ValueError(f"between: {list(self.between)} must be two numbers of seconds, [low, high]")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError(f"between: {list(self.between)} has its low end above its high end")
        if self.between is not None and self.arrivals is not None:
            raise ValueError("arrivals is for a rate (open loop); between waits after each reply")
        return self

    def pacing(self) -> Pacing:
        """The pace as the load generator's schedule takes it."""
        if self.rate is not None:
            return OpenLoop(self.rate, self.arrivals or "exponential")
        assert self.between is not None  # guaranteed by the validator
        return ClosedLoop(self.between[0], self.between[1])

    def requests_per_second(self, response_s: float) -> float:
        """Requests per second of one user whose replies take `response_s` on average.

        `between`: a renewal process of mean cycle wait + reply, so 1 / (mean wait + reply).
        `rate`: the rate itself, whatever the reply time: what the user should send (it sends less only
        once a reply takes longer than 1/rate, which is the shortfall the gate measures).
        """
        if response_s < 0:
            raise ValueError(f"response_s ({response_s}) must not be negative")
        if self.rate is not None:
            return self.rate
        assert self.between is not None  # guaranteed by the validator
        cycle = (self.between[0] + self.between[1]) / 2 + response_s
        return math.inf if cycle == 0 else 1 / cycle

    @property
    def eager(self) -> bool:
        """No wait at all (`between: [0, 0]`): a user asks again as soon as its reply comes, so what it
        asks is set by the reply time alone, and at instant replies it is unbounded."""
        return self.between is not None and self.between[1] == 0

    @property
    def open_loop(self) -> bool:
        """The user asks at its rate whatever the replies (`rate`), not after each reply (`between`)."""
        return self.rate is not None


class UserKind(Pace):
    """One kind of user: its share of the users, its pace, and the requests it makes."""

    share: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Its share of the users (the shares of all kinds add up to 1; 0: no user of this kind)."""
    requests: Annotated[list[str], Field(min_length=1)] | None = None
    """The names of the requests it makes, each by its weight (None: every request)."""
    on_start: list[str] = Field(default_factory=list)
    """Requests it makes once when it starts (before its pace begins; not counted in what it asks)."""

    def with_pace(self, pace: Pace) -> UserKind:
        """The same kind at another pace."""
        return self.model_copy(update={"rate": pace.rate, "arrivals": pace.arrivals, "between": pace.between})


class Scenario(StrictModel):
    """A whole scenario file: the requests, the kinds of users, and the readiness path."""

    health: str = "/health"
    """The path every replica answers with 200 once it is ready (both backends wait for it)."""
    requests: Annotated[list[RequestSpec], Field(min_length=1)]
    users: Annotated[dict[str, UserKind], Field(min_length=1)]

    @field_validator("health")
    @classmethod
    def _check_health(cls, value: str) -> str:
        if any(character in value for character in "'\"\\$"):
            raise ValueError("must not hold quotes, backslashes or $ (the compose backend's healthcheck quotes it)")
        return _path(value)

    @field_validator("requests")
    @classmethod
    def _names_and_weights(cls, value: list[RequestSpec]) -> list[RequestSpec]:
        seen: set[str] = set()
        for request in value:
            if request.name == AGGREGATED:
                raise ValueError(f"name {AGGREGATED!r} is Locust's row of all requests together; give another name")
            if request.name in seen:
                raise ValueError(f"name {request.name!r} is given to two requests; each request needs its own name")
            seen.add(request.name)
        if all(request.weight == 0 for request in value):
            raise ValueError("every request has weight 0, so the users would send nothing; give one a weight above 0")
        return value

    @field_validator("users")
    @classmethod
    def _kind_names(cls, value: dict[str, UserKind]) -> dict[str, UserKind]:
        for kind in value:
            if not kind.isidentifier():
                raise ValueError(f"kind {kind!r} is not a name of letters, digits and _ (it names a Locust user class)")
        return value

    @model_validator(mode="after")
    def _kinds_make_known_requests(self) -> Scenario:
        names = [request.name for request in self.requests]
        for kind, load in self.users.items():
            for key, listed in (("requests", load.requests or []), ("on_start", load.on_start)):
                unknown = [name for name in listed if name not in names]
                if unknown:
                    raise ValueError(
                        f"users.{kind}.{key} names {', '.join(map(repr, unknown))}, not a request of this scenario "
                        f"(requests: {', '.join(map(repr, names))})"
                    )
            if load.share > 0 and not self.mix(kind):
                raise ValueError(
                    f"users.{kind} makes only requests of weight 0, so its users would send nothing; "
                    "give one of its requests a weight above 0"
                )
        total = sum(load.share for load in self.users.values())
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            shares = ", ".join(f"{kind} {load.share:g}" for kind, load in self.users.items())
            raise ValueError(f"the users' shares add up to {total:g} ({shares}); they must add up to 1")
        return self

    # -- what the requests are ----------------------------------------------------------

    def request(self, name: str) -> RequestSpec:
        """The request called `name` (KeyError when there is none)."""
        for request in self.requests:
            if request.name == name:
                return request
        raise KeyError(name)

    def request_names(self) -> list[str]:
        """Every request's name, in the file's order (the endpoint keys of per-endpoint limits)."""
        return [request.name for request in self.requests]

    def mix(self, kind: str) -> dict[str, int]:
        """A kind's requests by name with their weights, those of weight 0 left out."""
        load = self.users[kind]
        chosen = load.requests if load.requests is not None else self.request_names()
        return {name: weight for name in chosen if (weight := self.request(name).weight) > 0}

    # -- how the users pace themselves --------------------------------------------------

    def with_paces(self, paces: Mapping[str, Pace]) -> Scenario:
        """The same scenario with some kinds at another pace (a profile's `pace:`); KeyError names an unknown kind."""
        unknown = [kind for kind in paces if kind not in self.users]
        if unknown:
            raise KeyError(
                f"{', '.join(map(repr, unknown))} is not a kind of user of this scenario "
                f"(kinds: {', '.join(map(repr, self.users))})"
            )
        users = {kind: load.with_pace(paces[kind]) if kind in paces else load for kind, load in self.users.items()}
        return self.model_copy(update={"users": users})

    def without_waits(self) -> Scenario:
        """The same kinds and shares, every user asking again as soon as its reply arrives."""
        return self.with_paces(dict.fromkeys(self.users, Pace(between=[0.0, 0.0])))

    def present(self) -> dict[str, UserKind]:
        """The kinds that have users."""
        return {kind: load for kind, load in self.users.items() if load.share > 0}

    def eager_kinds(self) -> list[str]:
        """The kinds whose users do not wait: they ask as fast as replies come."""
        return [kind for kind, load in self.present().items() if load.eager]

    def open_loop(self) -> bool:
        """Every kind that has users asks at a rate (what they ask does not depend on the replies)."""
        return all(load.open_loop for load in self.present().values())

    def weights(self) -> dict[str, int]:
        """Locust's whole-number class weights in the ratio of the shares."""
        fractions = {kind: Fraction(load.share).limit_denominator(1000) for kind, load in self.users.items()}
        denominator = math.lcm(*(fraction.denominator for fraction in fractions.values()))
        weights = {kind: int(fraction * denominator) for kind, fraction in fractions.items()}
        divisor = math.gcd(*weights.values()) or 1
        return {kind: weight // divisor for kind, weight in weights.items()}

    def asked_rps(self, users: float, response_ms: Mapping[str, float] | float = 0.0) -> float:
        """Requests per second that `users` users ask once all are running.

        `response_ms` is the mean reply time, either one figure or per request name, from which each
        kind's mean is weighted by its mix. At 0 this is the most the scenario can ask; with `between`
        waits a slower service makes its users ask less (Little's law), with `rate` it does not. The
        `on_start` requests are not counted: they belong to the ramp.
        """
        if users < 0:
            raise ValueError(f"users ({users}) must not be negative")
        return sum(
            users * load.requests_per_second(self.kind_response_ms(kind, response_ms) / 1000) * load.share
            for kind, load in self.present().items()  # a kind of no users asks nothing, even without a wait
        )

    def kind_response_ms(self, kind: str, response_ms: Mapping[str, float] | float) -> float:
        """One kind's mean reply time: the requests' means weighted by the kind's mix."""
        if not isinstance(response_ms, Mapping):
            return float(response_ms)
        known = {name: weight for name, weight in self.mix(kind).items() if name in response_ms}
        if not known:
            return 0.0
        return sum(response_ms[name] * weight for name, weight in known.items()) / sum(known.values())

    def asked_line(self, users: int, max_p95_ms: float) -> str:
        """What `users` users ask, in words: the start-up line of the runner, ui and search."""
        most = self.asked_rps(users)
        at_limit = self.asked_rps(users, max_p95_ms)
        eager = self.eager_kinds()
        if eager:
            who = "every user" if eager == list(self.present()) else f"the {' and '.join(eager)} users"
            quick = self.asked_rps(users, QUICK_REPLY_MS)
            return (
                f"{users:,} users ask as fast as replies come ({who} without a wait), up to what Locust can send: "
                f"~{quick:,.0f} req/s at replies of {QUICK_REPLY_MS:g} ms on average, ~{at_limit:,.0f} req/s at "
                f"{max_p95_ms:,g} ms"
            )
        if math.isclose(most, at_limit):
            return f"{users:,} users ask ~{most:,.0f} req/s, whatever the reply time (a rate per user)"
        return (
            f"{users:,} users ask up to ~{most:,.0f} req/s (instant replies); a cell must serve "
            f"~{at_limit:,.0f} req/s to keep replies under {max_p95_ms:,g} ms on average"
        )
