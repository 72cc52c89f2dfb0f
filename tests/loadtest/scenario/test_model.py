"""What a scenario's users ask (loadtest/scenario/model.py): the figures the gate's delivery check and the
runner's start-up line are made of, for any kinds of users a file can describe."""

from __future__ import annotations

from typing import Any

import pytest

from loadtest.scenario.loading import WORKSHOP_SCENARIO, load_scenario
from loadtest.scenario.model import Pace, Scenario

WORKSHOP = load_scenario(WORKSHOP_SCENARIO)
RATES = WORKSHOP.with_paces({"ordinary": Pace(rate=0.1), "heavy": Pace(rate=0.4)})
"""The ci profile's: 0.1 and 0.4 requests per second per user."""
EAGER = WORKSHOP.without_waits()
"""The compare profile's: every user asks again as soon as its reply comes."""


def scenario(**users: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {"requests": [{"path": "/a", "weight": 3}, {"path": "/b"}, {"path": "/h", "weight": 0}], "users": users}
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


def test_a_rate_is_asked_whatever_the_replies() -> None:
    assert RATES.asked_rps(10_000) == pytest.approx(5_000 * 0.1 + 5_000 * 0.4)
    assert RATES.asked_rps(10_000, 3_000) == RATES.asked_rps(10_000)
    assert RATES.open_loop()
    assert not WORKSHOP.open_loop()


def test_each_kinds_reply_time_is_its_mix_of_the_requests() -> None:
    replies = {"POST /predict": 130.0, "GET /health": 0.0, "GET /": 0.0}
    ordinary = 130.0 * 10 / 13  # /predict is 10 of the ordinary users' 13 in the mix
    expected = 500 / (2.0 + ordinary / 1000) + 500 / (0.3 + 0.130)
    assert WORKSHOP.asked_rps(1_000, replies) == pytest.approx(expected)


def test_a_kinds_mix_is_its_requests_by_weight_without_those_of_weight_0() -> None:
    two = scenario(every={"share": 0.5, "rate": 1}, b_only={"share": 0.5, "rate": 1, "requests": ["GET /b", "GET /h"]})
    assert two.mix("every") == {"GET /a": 3, "GET /b": 1}
    assert two.mix("b_only") == {"GET /b": 1}
    replies = {"GET /a": 100.0, "GET /b": 20.0}
    assert two.kind_response_ms("every", replies) == pytest.approx((3 * 100 + 20) / 4)
    assert two.kind_response_ms("b_only", replies) == pytest.approx(20)
    assert two.kind_response_ms("b_only", {"GET /a": 100.0}) == 0.0  # nothing measured of its mix


@pytest.mark.parametrize(("users", "response_ms"), [(-1, 0.0), (10, -0.1)])
def test_negative_input_is_refused(users: int, response_ms: float) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        WORKSHOP.asked_rps(users, response_ms)


@pytest.mark.parametrize(
    ("shares", "weights"),
    [
        ((0.5, 0.5), {"first": 1, "second": 1}),
        ((0.2, 0.8), {"first": 1, "second": 4}),
        ((0.3, 0.7), {"first": 3, "second": 7}),
        ((0.0, 1.0), {"first": 0, "second": 1}),  # Locust leaves a class of weight 0 out
    ],
)
def test_shares_become_locusts_whole_weights(shares: tuple[float, float], weights: dict[str, int]) -> None:
    two = scenario(first={"share": shares[0], "rate": 1}, second={"share": shares[1], "between": [1, 2]})
    assert two.weights() == weights


def test_a_kind_of_no_users_asks_nothing_even_without_a_wait() -> None:
    nobody_eager = scenario(eager={"share": 0, "between": [0, 0]}, paced={"share": 1, "rate": 2})
    assert nobody_eager.asked_rps(100) == pytest.approx(200)  # not 0 x inf
    assert nobody_eager.eager_kinds() == []
    assert list(nobody_eager.present()) == ["paced"]


def test_a_profiles_paces_replace_the_kinds_own_and_keep_the_rest() -> None:
    assert RATES.users["ordinary"].rate == 0.1
    assert RATES.users["ordinary"].between is None
    assert RATES.users["ordinary"].on_start == ["GET /health"]
    assert RATES.users["heavy"].requests == ["POST /predict"]
    assert RATES.requests == WORKSHOP.requests
    only_heavy = WORKSHOP.with_paces({"heavy": Pace(rate=1.0)})
    assert only_heavy.users["ordinary"] == WORKSHOP.users["ordinary"]
    with pytest.raises(
        KeyError, match=r"'casual' is not a kind of user of this scenario \(kinds: 'ordinary', 'heavy'\)"
    ):
        WORKSHOP.with_paces({"casual": Pace(rate=1.0)})


def test_without_waits_every_user_asks_as_fast_as_replies_come() -> None:
    assert EAGER.eager_kinds() == ["ordinary", "heavy"]
    assert [load.share for load in EAGER.users.values()] == [0.5, 0.5]
    assert EAGER.asked_rps(32, 10.0) == pytest.approx(32 / 0.010)


def test_the_scenario_round_trips_through_json_as_locust_receives_it() -> None:
    assert Scenario.model_validate_json(RATES.model_dump_json()) == RATES
    assert '"json":' in RATES.model_dump_json()  # the file's key, not the field's Python name


@pytest.mark.parametrize(
    ("chosen", "users", "line"),
    [
        (
            WORKSHOP,
            1_000,
            "1,000 users ask up to ~1,917 req/s (instant replies); a cell must serve ~551 req/s to keep replies "
            "under 1,000 ms on average",
        ),
        (RATES, 10_000, "10,000 users ask ~2,500 req/s, whatever the reply time (a rate per user)"),
        (
            EAGER,
            32,
            "32 users ask as fast as replies come (every user without a wait), up to what Locust can send: "
            "~3,200 req/s at replies of 10 ms on average, ~32 req/s at 1,000 ms",
        ),
        (
            WORKSHOP.with_paces({"heavy": Pace(between=[0.0, 0.0])}),
            32,
            "32 users ask as fast as replies come (the heavy users without a wait), up to what Locust can send: "
            "~1,608 req/s at replies of 10 ms on average, ~21 req/s at 1,000 ms",
        ),
    ],
    ids=["between", "rate", "no-wait", "heavy-without-a-wait"],
)
def test_the_start_up_line_says_what_the_users_ask(chosen: Scenario, users: int, line: str) -> None:
    assert chosen.asked_line(users, 1_000) == line
    assert "inf" not in line
