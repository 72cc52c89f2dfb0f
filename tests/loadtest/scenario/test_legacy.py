"""The fixed two kinds of users the runner still hands Locust (loadtest/scenario/legacy.py; no Locust import)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from pydantic import ValidationError

from loadtest.scenario import (
    ENV_VAR,
    IRIS_RANGES,
    PREDICTION_KEYS,
    Scenario,
    UserLoad,
    Wait,
    predict_payload,
    random_features,
    reply_problem,
)


def test_features_cover_the_iris_ranges_in_tenths() -> None:
    rng = random.Random(7)
    draws = [random_features(rng) for _ in range(5000)]
    for column, (low, high) in enumerate(IRIS_RANGES):
        values = {draw[column] for draw in draws}
        expected = {round(low + tenth / 10, 1) for tenth in range(round((high - low) * 10) + 1)}
        assert values == expected  # every tenth from min to max, nothing outside


def test_payload_is_the_api_body() -> None:
    payload = predict_payload(random.Random(1))
    assert list(payload) == ["features"]
    assert len(payload["features"]) == 4
    assert json.loads(json.dumps(payload)) == payload


GOOD = json.dumps({"prediction": 0, "probabilities": [0.9, 0.05, 0.05]}).encode()


@pytest.mark.parametrize(
    ("status", "body", "keys", "problem"),
    [
        (200, GOOD, PREDICTION_KEYS, None),
        (200, b'{"prediction": "setosa", "probabilities": {}, "extra": 1}', PREDICTION_KEYS, None),
        (200, b'{"prediction": 0}', PREDICTION_KEYS, "reply lacks 'probabilities'"),
        (200, b"{}", PREDICTION_KEYS, "reply lacks 'prediction' and 'probabilities'"),
        (200, b"[1, 2]", PREDICTION_KEYS, "reply is not a JSON object"),
        (200, b"<html>", PREDICTION_KEYS, "reply is not JSON"),
        (200, b"", PREDICTION_KEYS, "reply is not JSON"),
        (200, None, PREDICTION_KEYS, "reply is not JSON"),
        (201, GOOD, PREDICTION_KEYS, "HTTP 201, expected 200"),
        (503, GOOD, PREDICTION_KEYS, "HTTP 503, expected 200"),
        (0, None, PREDICTION_KEYS, "HTTP 0, expected 200"),
        (200, b"not json at all", (), None),
        (404, b"", (), "HTTP 404, expected 200"),
    ],
)
def test_reply_problem(status: int, body: bytes | None, keys: tuple[str, ...], problem: str | None) -> None:
    assert reply_problem(status, body, keys) == problem


WORKSHOP = Scenario()
CONSTANT = Scenario(
    ordinary=UserLoad(share=0.5, wait=Wait(constant_throughput=0.1)),
    heavy=UserLoad(share=0.5, wait=Wait(constant_throughput=0.4)),
)


@pytest.mark.parametrize(
    ("users", "response_ms", "expected"),
    [
        (0, 0.0, 0.0),
        (1, 0.0, 0.5 / 2.0 + 0.5 / 0.3),  # half an ordinary user (2 s mean pause), half a heavy one (0.3 s)
        (1_000, 0.0, 500 / 2.0 + 500 / 0.3),  # the workshop's 1,000 users ask ~1,917 req/s
        (1_000, 1_000.0, 500 / 3.0 + 500 / 1.3),  # ~551 req/s keep their replies at 1 s
        (10_000, 1_000.0, 5_000 / 3.0 + 5_000 / 1.3),  # the workshop's 10,000: ~5,513 req/s
    ],
)
def test_between_waits_ask_the_closed_loops_rate(users: int, response_ms: float, expected: float) -> None:
    assert WORKSHOP.asked_rps(users, response_ms) == pytest.approx(expected)


def test_slower_replies_mean_fewer_requests_in_a_closed_loop() -> None:
    assert WORKSHOP.asked_rps(1_000, 500) < WORKSHOP.asked_rps(1_000, 100) < WORKSHOP.asked_rps(1_000)


def test_a_constant_throughput_asks_its_target_whatever_the_replies() -> None:
    assert CONSTANT.asked_rps(10_000) == pytest.approx(5_000 * 0.1 + 5_000 * 0.4)
    assert CONSTANT.asked_rps(10_000, 3_000) == CONSTANT.asked_rps(10_000)


def test_each_kinds_reply_time_is_its_task_mix_of_the_endpoints() -> None:
    replies = {"POST /predict": 130.0, "GET /health": 0.0, "GET /": 0.0}
    ordinary = 130.0 * 10 / 13  # /predict is 10 of the ordinary users' 13 tasks
    expected = 500 / (2.0 + ordinary / 1000) + 500 / (0.3 + 0.130)
    assert WORKSHOP.asked_rps(1_000, replies) == pytest.approx(expected)


@pytest.mark.parametrize(("users", "response_ms"), [(-1, 0.0), (10, -0.1)])
def test_negative_input_is_refused(users: int, response_ms: float) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        WORKSHOP.asked_rps(users, response_ms)


@pytest.mark.parametrize(
    ("ordinary", "heavy", "weights"),
    [
        (0.5, 0.5, {"ordinary": 1, "heavy": 1}),
        (0.2, 0.8, {"ordinary": 1, "heavy": 4}),
        (0.3, 0.7, {"ordinary": 3, "heavy": 7}),
    ],
)
def test_shares_become_locusts_whole_weights(ordinary: float, heavy: float, weights: dict[str, int]) -> None:
    wait = Wait(between=[1.0, 2.0])
    scenario = Scenario(ordinary=UserLoad(share=ordinary, wait=wait), heavy=UserLoad(share=heavy, wait=wait))
    assert scenario.weights() == weights


def test_the_scenario_travels_to_locust_as_json() -> None:
    assert Scenario.from_env({ENV_VAR: CONSTANT.to_env()}) == CONSTANT
    assert Scenario.from_env({ENV_VAR: ""}) == WORKSHOP == Scenario.from_env({})


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {
                "ordinary": {"share": 0.6, "wait": {"between": [1, 3]}},
                "heavy": {"share": 0.6, "wait": {"between": [0, 1]}},
            },
            "add up to 1.2",
        ),
        ({"ordinary": {"share": 1.5, "wait": {"between": [1, 3]}}}, "less than or equal to 1"),
        ({"heavy": {"share": 0.5, "wait": {"between": [1, 2, 3]}}}, r"between: \[1.0, 2.0, 3.0\] must be two numbers"),
        ({"heavy": {"share": 0.5, "wait": {"between": [1]}}}, r"between: \[1.0\] must be two numbers"),
        ({"heavy": {"share": 0.5, "wait": {}}}, "exactly one of between"),
        ({"heavy": {"share": 0.5, "wait": {"between": [1, 2], "constant_throughput": 1}}}, "exactly one of between"),
        ({"heavy": {"share": 0.5, "wait": {"between": [3, 1]}}}, "low end above its high end"),
        ({"heavy": {"share": 0.5, "wait": {"constant_throughput": 0}}}, "greater than 0"),
        ({"heavy": {"share": -0.1, "wait": {"constant_throughput": 1}}}, "greater than or equal to 0"),
        ({"heavy": {"share": 0.5, "wait": {"pause": 1}}}, "Extra inputs"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_problem(document: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Scenario.model_validate(document)


@pytest.mark.parametrize(
    ("document", "ordinary", "heavy"),
    [
        ({"heavy": {"share": 1.0, "wait": {"constant_throughput": 2}}}, 0.0, 1.0),
        ({"ordinary": {"share": 1, "wait": {"between": [0, 0]}}}, 1.0, 0.0),
        ({"ordinary": {"share": 0.3, "wait": {"between": [1, 3]}}}, 0.3, 0.7),
        (
            {"ordinary": {"share": 0, "wait": {"between": [1, 3]}}, "heavy": {"share": 1, "wait": {"between": [0, 1]}}},
            0.0,
            1.0,
        ),
    ],
    ids=["heavy-alone", "ordinary-alone", "ordinary-given", "share-0-given"],
)
def test_one_kind_given_leaves_the_rest_of_the_users_to_the_other(
    document: dict[str, dict[str, Any]], ordinary: float, heavy: float
) -> None:
    scenario = Scenario.model_validate(document)
    assert (scenario.ordinary.share, scenario.heavy.share) == pytest.approx((ordinary, heavy))
    given = next(iter(document))
    assert getattr(scenario, given).wait == Wait.model_validate(document[given]["wait"])
    other = "heavy" if given == "ordinary" else "ordinary"
    if len(document) == 1:
        assert getattr(scenario, other).wait == getattr(WORKSHOP, other).wait  # its default wait


def test_a_kind_of_no_users_is_left_out_of_locusts_weights_and_of_the_ask() -> None:
    heavy_alone = Scenario.model_validate({"heavy": {"share": 1.0, "wait": {"constant_throughput": 2}}})
    assert heavy_alone.weights() == {"ordinary": 0, "heavy": 1}  # Locust drops a class of weight 0
    assert heavy_alone.asked_rps(100) == pytest.approx(200)
    eager_nobody = Scenario(
        ordinary=UserLoad(share=0.0, wait=Wait(between=[0.0, 0.0])),
        heavy=UserLoad(share=1.0, wait=Wait(constant_throughput=2.0)),
    )
    assert eager_nobody.asked_rps(100) == pytest.approx(200)  # not 0 x inf
    assert eager_nobody.eager_kinds() == []


EAGER = Scenario(
    ordinary=UserLoad(share=0.5, wait=Wait(between=[0.0, 0.0])),
    heavy=UserLoad(share=0.5, wait=Wait(between=[0.0, 0.0])),
)
"""The compare profile's: every user asks again as soon as its reply comes."""


@pytest.mark.parametrize(
    ("scenario", "users", "line"),
    [
        (
            WORKSHOP,
            1_000,
            "1,000 users ask up to ~1,917 req/s (instant replies); a cell must serve ~551 req/s to keep replies "
            "under 1,000 ms on average",
        ),
        (CONSTANT, 10_000, "10,000 users ask ~2,500 req/s, whatever the reply time (constant throughput)"),
        (
            EAGER,
            32,
            "32 users ask as fast as replies come (every user without a wait), up to what Locust can send: "
            "~3,200 req/s at replies of 10 ms on average, ~32 req/s at 1,000 ms",
        ),
        (
            Scenario(heavy=UserLoad(share=0.5, wait=Wait(between=[0.0, 0.0]))),
            32,
            "32 users ask as fast as replies come (the heavy users without a wait), up to what Locust can send: "
            "~1,608 req/s at replies of 10 ms on average, ~21 req/s at 1,000 ms",
        ),
    ],
    ids=["between", "constant-throughput", "no-wait", "heavy-without-a-wait"],
)
def test_the_start_up_line_says_what_the_users_ask(scenario: Scenario, users: int, line: str) -> None:
    assert scenario.asked_line(users, 1_000) == line
    assert "inf" not in line
