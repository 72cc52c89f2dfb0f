"""The workshop's traffic: what a request carries, what a reply must hold, and how often users ask.

Two kinds of users with the workshop's task mix (ordinary: /predict 10, /health 2, / 1, plus
/health once on start; heavy: /predict only). How many of each, and how long they wait between
tasks, is a `Scenario`: a profile of thresholds.yaml sets it, the runner hands it to Locust as
JSON in `LOADTEST_SCENARIO`, and the same object says how many requests per second the users ask.

Kept free of Locust so that pytest can import it (Locust monkey-patches the process with gevent);
`loadtest/locustfile.py` wires it into Locust's users.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import Field, model_validator

from loadtest.util.models import StrictModel

IRIS_RANGES: tuple[tuple[float, float], ...] = ((4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5))
"""Min and max of each Iris feature: sepal length, sepal width, petal length, petal width (cm)."""

PREDICTION_KEYS = ("prediction", "probabilities")
"""What a /predict reply must carry to count as a success."""

ENV_VAR = "LOADTEST_SCENARIO"
"""How the runner hands the scenario to Locust (JSON); unset: the workshop's."""

UserKind = Literal["ordinary", "heavy"]
TASKS: dict[UserKind, dict[str, int]] = {
    "ordinary": {"POST /predict": 10, "GET /health": 2, "GET /": 1},
    "heavy": {"POST /predict": 1},
}
"""Each kind's tasks by request name, with their weights (the workshop's mix; not configurable)."""

Seconds = Annotated[float, Field(ge=0)]


class Wait(StrictModel):
    """How long a user waits between two tasks: exactly one of the two keys."""

    between: list[Seconds] | None = None
    """Uniformly between these two numbers of seconds (Locust's `between`): a closed loop."""
    constant_throughput: Annotated[float, Field(gt=0)] | None = None
    """This many tasks per second per user, whatever the reply time (Locust's `constant_throughput`),
    as long as a reply takes less than 1/rate: the asked rate does not fall when the service slows."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Wait:
        if (self.between is None) == (self.constant_throughput is None):
            raise ValueError("give exactly one of between: [low, high] and constant_throughput: <tasks per second>")
        if self.between is not None and len(self.between) != 2:
            raise ValueError(f"between: {list(self.between)} must be two numbers of seconds, [low, high]")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError(f"between: {list(self.between)} has its low end above its high end")
        return self

    def rate(self, response_s: float) -> float:
        """Tasks per second of one user whose replies take `response_s` on average.

        `between`: a renewal process of mean cycle wait + reply, so 1 / (mean wait + reply).
        `constant_throughput`: the target itself, whatever the reply time: what the users should
        send (Locust sends less only once a reply takes longer than 1/rate, which is the shortfall
        the gate measures).
        """
        if response_s < 0:
            raise ValueError(f"response_s ({response_s}) must not be negative")
        if self.constant_throughput is not None:
            return self.constant_throughput
        assert self.between is not None  # guaranteed by the validator
        cycle = (self.between[0] + self.between[1]) / 2 + response_s
        return math.inf if cycle == 0 else 1 / cycle

    @property
    def eager(self) -> bool:
        """No wait at all (`between: [0, 0]`): a user asks again as soon as its reply comes, so what
        it asks is set by the reply time alone, and at instant replies it is unbounded."""
        return self.between is not None and self.between[1] == 0


class UserLoad(StrictModel):
    """One kind of user: its share of the users and its wait."""

    share: Annotated[float, Field(ge=0, le=1)]
    """0: no user of this kind (Locust leaves a class of weight 0 out)."""
    wait: Wait


QUICK_REPLY_MS = 10.0
"""A reply time to put a figure on what users without a wait ask (there is no figure at instant replies)."""

DEFAULT_LOADS: dict[UserKind, UserLoad] = {
    "ordinary": UserLoad(share=0.5, wait=Wait(between=[1.0, 3.0])),
    "heavy": UserLoad(share=0.5, wait=Wait(between=[0.1, 0.5])),
}
"""The workshop's: half and half, 1-3 s and 0.1-0.5 s between tasks."""


class Scenario(StrictModel):
    """How many users of each kind, and how they wait. The default is the workshop's.

    A document that sets one kind only gives the other the rest of the users, with its default
    wait: `heavy: {share: 1.0, ...}` is a scenario of heavy users alone.
    """

    ordinary: UserLoad = DEFAULT_LOADS["ordinary"]
    heavy: UserLoad = DEFAULT_LOADS["heavy"]

    @model_validator(mode="before")
    @classmethod
    def _the_other_kind_takes_the_rest(cls, data: object) -> object:
        if not isinstance(data, Mapping):
            return data
        given = [kind for kind in DEFAULT_LOADS if kind in data]
        if len(given) != 1:
            return data
        load = data[given[0]]
        share = load.share if isinstance(load, UserLoad) else load.get("share") if isinstance(load, Mapping) else None
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            return data  # the given kind's own validation names the problem
        (other,) = set(DEFAULT_LOADS) - set(given)
        return {**data, other: DEFAULT_LOADS[other].model_copy(update={"share": 1 - share})}

    @model_validator(mode="after")
    def _shares_add_up(self) -> Scenario:
        total = self.ordinary.share + self.heavy.share
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"the shares add up to {total:g}; they must add up to 1")
        return self

    def kinds(self) -> dict[UserKind, UserLoad]:
        """Each kind of user with its load (a kind of share 0 included)."""
        return {"ordinary": self.ordinary, "heavy": self.heavy}

    def present(self) -> dict[UserKind, UserLoad]:
        """The kinds that have users."""
        return {kind: load for kind, load in self.kinds().items() if load.share > 0}

    def eager_kinds(self) -> list[UserKind]:
        """The kinds whose users do not wait: they ask as fast as replies come."""
        return [kind for kind, load in self.present().items() if load.wait.eager]

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
            return f"{users:,} users ask ~{most:,.0f} req/s, whatever the reply time (constant throughput)"
        return (
            f"{users:,} users ask up to ~{most:,.0f} req/s (instant replies); a cell must serve "
            f"~{at_limit:,.0f} req/s to keep replies under {max_p95_ms:,g} ms on average"
        )

    def weights(self) -> dict[UserKind, int]:
        """Locust's whole-number class weights in the ratio of the shares."""
        fractions = {kind: Fraction(load.share).limit_denominator(1000) for kind, load in self.kinds().items()}
        denominator = math.lcm(*(fraction.denominator for fraction in fractions.values()))
        weights = {kind: int(fraction * denominator) for kind, fraction in fractions.items()}
        divisor = math.gcd(*weights.values())
        return {kind: weight // divisor for kind, weight in weights.items()}

    def asked_rps(self, users: float, response_ms: Mapping[str, float] | float = 0.0) -> float:
        """Requests per second that `users` users ask once all are running.

        `response_ms` is the mean reply time, either one figure or per request name ("POST /predict"),
        from which each kind's mean is weighted by its task mix. At 0 this is the most the scenario
        can ask; with `between` waits a slower service makes its users ask less (Little's law),
        with `constant_throughput` it does not.
        The one /health of each ordinary user's start is not counted: it belongs to the ramp.
        """
        if users < 0:
            raise ValueError(f"users ({users}) must not be negative")
        return sum(
            users * load.wait.rate(kind_response_ms(kind, response_ms) / 1000) * load.share
            for kind, load in self.present().items()  # a kind of no users asks nothing, even without a wait
        )

    def to_env(self) -> str:
        """The JSON the runner puts in LOADTEST_SCENARIO."""
        return self.model_dump_json()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Scenario:
        """The scenario in LOADTEST_SCENARIO, or the workshop's when it is unset or empty."""
        text = environ.get(ENV_VAR, "").strip()
        return cls.model_validate_json(text, strict=False) if text else cls()


def kind_response_ms(kind: UserKind, response_ms: Mapping[str, float] | float) -> float:
    """One kind's mean reply time: the endpoints' means weighted by the kind's task mix."""
    if not isinstance(response_ms, Mapping):
        return float(response_ms)
    tasks = TASKS[kind]
    known = {name: weight for name, weight in tasks.items() if name in response_ms}
    if not known:
        return 0.0
    return sum(response_ms[name] * weight for name, weight in known.items()) / sum(known.values())


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
