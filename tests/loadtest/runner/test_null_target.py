"""The null target answers each request of a scenario as its `expect` wants (loadtest/runner/null_target.py),
so a calibration measures Locust's cost of successful requests, whatever the scenario."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loadtest.runner import null_target
from loadtest.runner.null_target import NullProtocol, example_of, expected_body, read_replies, replies_for
from loadtest.scenario import Expect, parse_scenario, workshop_scenario
from loadtest.scenario.prepared import ReplyCheck


class FakeTransport(asyncio.WriteTransport):
    """What the protocol writes, as the client would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))


def served(replies: dict[bytes, tuple[bytes, bytes]] | None, *requests: bytes) -> list[bytes]:
    protocol = NullProtocol(replies)
    transport = FakeTransport()
    protocol.connection_made(transport)
    stream = b"".join(requests)
    for start in range(0, len(stream), 7):  # in pieces, as TCP may deliver them
        protocol.data_received(stream[start : start + 7])
    return transport.written


def test_without_replies_every_request_gets_the_prediction() -> None:
    written = served(
        None, b"GET /anything HTTP/1.1\r\nHost: x\r\n\r\n", b"POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert written == [null_target.RESPONSE, null_target.RESPONSE]
    assert null_target.RESPONSE.startswith(b"HTTP/1.1 200 OK\r\n")


CLASSIFIER = parse_scenario(
    """
requests:
  - {name: classify, method: POST, path: /v1/classify, json: {text: hi}, expect: {status: 201, json_keys: [label]}}
  - name: scored
    method: POST
    path: /v1/score?explain=1
    json: {text: hi}
    expect:
      json_schema:
        type: object
        required: [label, score, tags]
        properties:
          label: {enum: [spam, ham]}
          score: {type: number, exclusiveMinimum: 0, maximum: 1}
          tags: {type: array, items: {type: string, minLength: 2}, minItems: 1}
  - {method: HEAD, path: /ready}
users: {u: {rate: 1}}
"""
)


def test_each_request_of_a_scenario_gets_a_reply_its_check_accepts(tmp_path: Path) -> None:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(replies_for(CLASSIFIER)), encoding="utf-8")
    replies = read_replies(path)
    for request in CLASSIFIER.requests:
        head, body = replies[f"{request.method} {request.path}".encode()]
        status = int(head.split(b" ")[1])
        assert ReplyCheck.of(request.expect).problem(status, body) is None, request.name
    classify_head, classify_body = replies[b"POST /v1/classify"]
    assert classify_head.startswith(b"HTTP/1.1 201 Created\r\n")
    assert b"content-length: %d\r\n" % len(classify_body) in classify_head


def test_the_server_routes_by_method_and_target_and_answers_head_without_a_body(tmp_path: Path) -> None:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(replies_for(CLASSIFIER)), encoding="utf-8")
    replies = read_replies(path)
    written = served(
        replies,
        b'POST /v1/classify HTTP/1.1\r\nContent-Length: 13\r\n\r\n{"text":"hi"}',
        b"HEAD /ready HTTP/1.1\r\n\r\n",
        b"GET /v1/classify HTTP/1.1\r\n\r\n",  # not a request of the scenario: the default reply
    )
    assert written[0] == b"".join(replies[b"POST /v1/classify"])
    assert written[1] == replies[b"HEAD /ready"][0]
    assert written[2] == null_target.RESPONSE


def test_the_workshops_replies_are_the_prediction_it_always_got() -> None:
    assert {key: value["body"].encode() for key, value in replies_for(workshop_scenario()).items()} == {
        "POST /predict": null_target.BODY,
        "GET /health": null_target.BODY,
        "GET /": null_target.BODY,
    }


@pytest.mark.parametrize(
    "schema",
    [
        {"const": 3},
        {"enum": ["a", "b"]},
        {"type": ["null", "integer"], "minimum": 5},
        {"type": "number", "exclusiveMinimum": 0.5},
        {"type": "boolean"},
        {"required": ["a"], "properties": {"a": {"type": "string", "minLength": 3}}},
        {"type": "array", "minItems": 2, "items": {"type": "object", "required": ["x"]}},
    ],
)
def test_an_example_satisfies_the_common_schemas(schema: dict[str, Any]) -> None:
    jsonschema.validate(example_of(schema), schema)


def test_keys_are_added_to_what_the_schema_gives() -> None:
    expect = Expect(json_keys=["id"], json_schema={"type": "object", "required": ["label"]})
    assert json.loads(expected_body(expect)) == {"id": None, "label": None}


def test_a_schema_too_rich_for_an_example_still_gets_a_reply() -> None:
    expect = Expect(json_schema={"type": "string", "pattern": "^[0-9]+$"})
    body = expected_body(expect)
    assert ReplyCheck.of(expect).problem(200, body) is not None  # counted as failures in the calibration


def test_an_unreadable_replies_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.json").write_text("{not json", encoding="utf-8")
    assert null_target.main(["--port", "1", "--replies", str(tmp_path / "r.json")]) == 1
    assert f"null target: cannot read the replies in {tmp_path / 'r.json'}" in capsys.readouterr().err
