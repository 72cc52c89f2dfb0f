"""The scenario's payloads and reply rules (loadtest/scenario.py; Locust itself is not imported)."""

from __future__ import annotations

import json
import random

import pytest

from loadtest.scenario import IRIS_RANGES, PREDICTION_KEYS, offered_rps, predict_payload, random_features, reply_problem


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


@pytest.mark.parametrize(
    ("users", "response_s", "expected"),
    [
        (0, 0.0, 0.0),
        (1, 0.0, 1 / 2.0),  # one user: an ordinary one (2 s mean pause)
        (2, 0.0, 1 / 2.0 + 1 / 0.3),  # one of each
        (1_000, 0.0, 500 / 2.0 + 500 / 0.3),  # the local profile: ~1,917 req/s asked
        (1_000, 1.0, 500 / 3.0 + 500 / 1.3),  # ~551 req/s keep its replies at 1 s
        (10_000, 1.0, 5_000 / 3.0 + 5_000 / 1.3),  # the ci profile: ~5,513 req/s
    ],
)
def test_offered_rps_is_the_closed_loop_rate(users: int, response_s: float, expected: float) -> None:
    assert offered_rps(users, response_s) == pytest.approx(expected)


def test_slower_replies_mean_fewer_requests() -> None:
    assert offered_rps(1_000, 0.5) < offered_rps(1_000, 0.1) < offered_rps(1_000)


@pytest.mark.parametrize(("users", "response_s"), [(-1, 0.0), (10, -0.1)])
def test_offered_rps_refuses_negative_input(users: int, response_s: float) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        offered_rps(users, response_s)
