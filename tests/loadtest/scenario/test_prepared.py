"""A request made ready to send, and its reply check (loadtest/scenario/prepared.py; Locust is not imported)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from loadtest.scenario.model import Expect, RequestSpec
from loadtest.scenario.prepared import PreparedRequest, ReplyCheck

GOOD = json.dumps({"prediction": 0, "probabilities": [0.9, 0.05, 0.05]}).encode()
PREDICTION = ReplyCheck(json_keys=("prediction", "probabilities"))


@pytest.mark.parametrize(
    ("check", "status", "body", "problem"),
    [
        (PREDICTION, 200, GOOD, None),
        (PREDICTION, 200, b'{"prediction": "setosa", "probabilities": {}, "extra": 1}', None),
        (PREDICTION, 200, b'{"prediction": 0}', "reply lacks 'probabilities'"),
        (PREDICTION, 200, b"{}", "reply lacks 'prediction' and 'probabilities'"),
        (PREDICTION, 200, b"[1, 2]", "reply is not a JSON object"),
        (PREDICTION, 200, b"<html>", "reply is not JSON"),
        (PREDICTION, 200, b"", "reply is not JSON"),
        (PREDICTION, 200, None, "reply is not JSON"),
        (PREDICTION, 201, GOOD, "HTTP 201, expected 200"),
        (PREDICTION, 503, GOOD, "HTTP 503, expected 200"),
        (PREDICTION, 0, None, "HTTP 0, expected 200"),
        (ReplyCheck(), 200, b"not json at all", None),  # nothing to read: the body is not parsed
        (ReplyCheck(), 404, b"", "HTTP 404, expected 200"),
        (ReplyCheck(status=201), 201, b"", None),
        (ReplyCheck(status=404), 404, b"", None),  # a request that must be refused
        (ReplyCheck(status=404), 200, b"", "HTTP 200, expected 404"),
    ],
)
def test_the_reply_check(check: ReplyCheck, status: int, body: bytes | None, problem: str | None) -> None:
    assert check.problem(status, body) == problem


SCHEMA = {
    "type": "object",
    "required": ["label", "score"],
    "properties": {"label": {"enum": ["spam", "ham"]}, "score": {"type": "number", "minimum": 0, "maximum": 1}},
}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"label": "spam", "score": 0.9}, None),
        ({"label": "eggs", "score": 0.9}, "reply does not match the schema at /label: enum ['spam', 'ham']"),
        ({"label": "ham", "score": 1.5}, "reply does not match the schema at /score: maximum 1"),
        ({"label": "ham"}, "reply does not match the schema at /: required ['label', 'score']"),
        ([], "reply does not match the schema at /: type 'object'"),
    ],
)
def test_a_json_schema_is_checked_without_putting_reply_data_in_the_message(body: object, problem: str | None) -> None:
    check = ReplyCheck.of(Expect(json_schema=SCHEMA))
    assert check.problem(200, json.dumps(body).encode()) == problem


def test_keys_and_schema_are_both_checked() -> None:
    check = ReplyCheck.of(Expect(json_keys=["id"], json_schema=SCHEMA))
    assert check.problem(200, b'{"label": "ham", "score": 0.1}') == "reply lacks 'id'"
    assert (
        check.problem(200, b'{"id": 1, "label": "ham"}')
        == "reply does not match the schema at /: required ['label', 'score']"
    )


def test_an_inline_body_is_encoded_once_with_json_headers() -> None:
    prepared = PreparedRequest.of(RequestSpec.model_validate({"method": "POST", "path": "/c", "json": {"text": "é"}}))
    assert prepared.bodies == (b'{"text":"\\u00e9"}',)
    assert prepared.body() is prepared.bodies[0]
    assert prepared.headers == {"Content-Type": "application/json", "Accept": "application/json"}
    assert json.loads(prepared.bodies[0]) == {"text": "é"}


def test_a_requests_own_headers_win_over_the_json_defaults() -> None:
    spec = RequestSpec.model_validate(
        {"method": "POST", "path": "/c", "json": [1], "headers": {"content-type": "application/x+json", "X-Key": "k"}}
    )
    assert PreparedRequest.of(spec).headers == {
        "Accept": "application/json",
        "content-type": "application/x+json",
        "X-Key": "k",
    }


def test_a_request_without_a_body_sends_none_and_no_json_headers() -> None:
    prepared = PreparedRequest.of(RequestSpec.model_validate({"path": "/health", "headers": {"X-Key": "k"}}))
    assert (prepared.body(), prepared.headers) == (None, {"X-Key": "k"})


def test_bodies_are_sent_as_written_and_drawn_at_random(tmp_path: Path) -> None:
    lines = [b'{"text": "a"}', b'{"text":  "b"}', b"[1, 2, 3]"]
    path = tmp_path / "bodies.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n\n")
    spec = RequestSpec.model_validate({"method": "POST", "path": "/c", "bodies": str(path)})
    prepared = PreparedRequest.of(spec)
    assert prepared.bodies == tuple(lines)  # the recorded bytes, blank lines left out
    prepared.rng.seed(3)
    draws = [prepared.body() for _ in range(300)]
    assert set(draws) == set(lines)
    assert min(draws.count(line) for line in lines) > 60  # uniform: ~100 each
    assert PreparedRequest.of(spec) == prepared  # the generator is not part of what the request is
    assert isinstance(prepared.rng, random.Random)
