"""A scenario's requests made ready to send: bodies encoded once, the reply check compiled once.

What a Locust user needs per request, with nothing left to compute while the load runs: the
body bytes (an inline `json` encoded once, or a bodies file's lines as they are, one drawn at
random per request), the headers (a JSON body gets `Content-Type: application/json` unless the
request sets its own), and `problem()`, the reply check of its `expect`. Free of Locust, so the
check is tested without it; `loadtest/locustfile.py` calls `problem()` on every reply.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from loadtest.scenario.bodies import read_bodies
from loadtest.scenario.model import Expect, RequestSpec

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
"""What Locust's own `json=` sets; kept so the service sees the same request as before."""


@dataclass(frozen=True)
class ReplyCheck:
    """`expect`, compiled: the status, the keys, the JSON Schema's validator."""

    status: int = 200
    json_keys: tuple[str, ...] = ()
    schema: Any = None
    """A jsonschema validator (None: no schema)."""

    @classmethod
    def of(cls, expect: Expect) -> ReplyCheck:
        """The check of one request's `expect`."""
        schema = None
        if expect.json_schema is not None:
            schema = jsonschema.validators.validator_for(expect.json_schema)(expect.json_schema)
        return cls(status=expect.status, json_keys=tuple(expect.json_keys), schema=schema)

    def problem(self, status: int, body: bytes | None) -> str | None:
        """Why a reply does not count as a success, or None when it does.

        The messages carry no reply data (at most the schema's own words about the first error), so
        Locust counts each kind of failure as one row of locust_failures.csv.
        """
        if status != self.status:
            return f"HTTP {status}, expected {self.status}"
        if not self.json_keys and self.schema is None:
            return None
        try:
            document = json.loads(body or b"")
        except ValueError:
            return "reply is not JSON"
        if self.json_keys:
            if not isinstance(document, dict):
                return "reply is not a JSON object"
            missing = [key for key in self.json_keys if key not in document]
            if missing:
                return "reply lacks " + " and ".join(repr(key) for key in missing)
        if self.schema is not None:
            error = next(iter(self.schema.iter_errors(document)), None)
            if error is not None:
                where = "/".join(str(part) for part in error.absolute_path)
                return f"reply does not match the schema at /{where}: {error.validator} {error.validator_value!r}"
        return None


@dataclass(frozen=True)
class PreparedRequest:
    """One request as a Locust user sends it."""

    name: str
    method: str
    path: str
    headers: dict[str, str]
    bodies: tuple[bytes, ...]
    """Empty: no body; one: always that one; more: one drawn at random per request."""
    check: ReplyCheck
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @classmethod
    def of(cls, request: RequestSpec) -> PreparedRequest:
        """Read its bodies file (an absolute path: the loader resolved it) and encode its inline body."""
        bodies: tuple[bytes, ...] = ()
        if request.bodies is not None:
            bodies = tuple(read_bodies(Path(request.bodies)))
        elif request.json_body is not None:
            bodies = (json.dumps(request.json_body, separators=(",", ":")).encode(),)
        lowered = {key.lower() for key in request.headers}
        defaults = {key: value for key, value in JSON_HEADERS.items() if bodies and key.lower() not in lowered}
        return cls(
            name=request.name,
            method=request.method,
            path=request.path,
            headers={**defaults, **request.headers},
            bodies=bodies,
            check=ReplyCheck.of(request.expect),
        )

    def body(self) -> bytes | None:
        """The body of the next request."""
        if not self.bodies:
            return None
        if len(self.bodies) == 1:
            return self.bodies[0]
        return self.rng.choice(self.bodies)
