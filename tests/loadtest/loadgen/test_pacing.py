"""Open-loop schedules (loadtest/loadgen/pacing.py), driven by a fake clock and a seeded generator."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

import pytest

from loadtest.loadgen.pacing import ClosedLoop, OpenLoop, PacingError, RequestMix, Schedule

ONE = RequestMix({"GET /": 1})


def _constant(rate: float, start: float = 0.0, seed: int = 1) -> Schedule:
    return Schedule(OpenLoop(rate, "constant"), ONE, start, random.Random(seed))


def test_exponential_gaps_make_a_poisson_process_at_the_asked_rate() -> None:
    rng = random.Random(3)
    pacing = OpenLoop(4.0)
    gaps = [pacing.gap(rng) for _ in range(20_000)]
    assert statistics.fmean(gaps) == pytest.approx(0.25, rel=0.03)
    # Exponential: the standard deviation equals the mean (regular gaps would have none).
    assert statistics.pstdev(gaps) == pytest.approx(0.25, rel=0.05)


def test_constant_gaps_are_regular_with_a_random_phase() -> None:
    rng = random.Random(5)
    pacing = OpenLoop(2.0, "constant")
    assert {pacing.gap(rng) for _ in range(10)} == {0.5}
    phases = [pacing.first_gap(rng) for _ in range(1000)]
    assert min(phases) >= 0
    assert max(phases) < 0.5
    assert statistics.fmean(phases) == pytest.approx(0.25, rel=0.1)


def test_a_user_on_time_sends_at_its_intended_times_without_lag() -> None:
    schedule = _constant(1.0)  # intended at phase, phase + 1, ...
    first = schedule.next_at
    now = 0.0
    for step in range(3):
        now += schedule.wait(now)
        intended, counted = schedule.take()
        send = schedule.sent(intended, counted, now)
        assert intended.at == pytest.approx(first + step)
        assert (send.lag, counted) == (0.0, False)
        now += 0.01  # the reply


def test_a_user_held_by_a_slow_reply_catches_up_and_the_lag_is_the_services() -> None:
    schedule = _constant(1.0)
    start = schedule.next_at
    now = start + schedule.wait(start)
    intended, counted = schedule.take()
    schedule.sent(intended, counted, now)
    now += 3.5  # the reply takes 3.5 s: the sends intended at +1, +2 and +3 are overdue
    assert schedule.wait(now) == 0.0
    lags = []
    for _ in range(3):
        intended, counted = schedule.take()
        send = schedule.sent(intended, counted, now + 0.001)  # Locust sends 1 ms after the user is free
        lags.append((round(send.service_lag, 6), round(send.generator_lag, 6)))
        now += 0.002  # a quick reply
        assert schedule.wait(now) == 0.0 or intended.at == pytest.approx(start + 3)
    # Each quick reply keeps the user busy 2 ms more: the service's share of the next lag too.
    assert lags == [(2.5, 0.001), (1.502, 0.001), (0.504, 0.001)]
    # Caught up: the next send waits for its own time again.
    assert schedule.wait(now) == pytest.approx(start + 4 - now)


def test_a_free_user_sent_late_is_the_generators_lag() -> None:
    schedule = _constant(1.0)
    now = schedule.next_at - 0.2
    assert schedule.wait(now) == pytest.approx(0.2)
    intended, counted = schedule.take()
    send = schedule.sent(intended, counted, intended.at + 0.05)  # woke 50 ms late
    assert send.service_lag == 0.0
    assert send.generator_lag == pytest.approx(0.05)


def test_overdue_sends_are_counted_once() -> None:
    schedule = _constant(1.0)
    first = schedule.next_at
    overdue = schedule.overdue(first + 2.5)
    assert [round(item.at - first, 6) for item in overdue] == [0.0, 1.0, 2.0]
    assert schedule.overdue(first + 2.5) == []
    assert [round(item.at - first, 6) for item in schedule.overdue(first + 3.5)] == [3.0]
    # Sent later, each says it was counted already; the first not yet found overdue says not.
    taken = [schedule.take() for _ in range(5)]
    assert [counted for _, counted in taken] == [True, True, True, True, False]


def test_the_mix_draws_requests_by_weight_for_every_intended_send() -> None:
    mix = RequestMix({"POST /predict": 10, "GET /health": 2, "GET /": 1, "GET /never": 0})
    schedule = Schedule(OpenLoop(100.0), mix, 0.0, random.Random(9))
    names = [item.name for item in schedule.overdue(200.0)]  # ~20,000 intended sends
    assert "GET /never" not in names
    assert names.count("POST /predict") / len(names) == pytest.approx(10 / 13, abs=0.02)
    assert names.count("GET /") / len(names) == pytest.approx(1 / 13, abs=0.01)


def test_closed_loop_waits_between_its_bounds() -> None:
    rng = random.Random(2)
    waits = [ClosedLoop(1.0, 3.0).wait(rng) for _ in range(1000)]
    assert min(waits) >= 1.0
    assert max(waits) <= 3.0
    assert ClosedLoop(0, 0).wait(rng) == 0
    assert ClosedLoop(1, 3).label == "closed-loop"
    assert OpenLoop(1).label == "open-loop (exponential)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OpenLoop(0), r"rate: 0 must be above 0"),
        (lambda: OpenLoop(float("inf")), r"rate: inf must be a finite number"),
        (lambda: OpenLoop(True), r"rate: True must be a finite number"),
        (lambda: OpenLoop(1, "poisson"), r"arrivals: 'poisson' must be one of exponential, constant"),  # type: ignore[arg-type]
        (lambda: ClosedLoop(3, 1), r"between: \[3, 1\] has its low end above its high end"),
        (lambda: ClosedLoop(-1, 1), r"between: low -1 must be a number of seconds"),
        (lambda: RequestMix({}), r"at least one request"),
        (lambda: RequestMix({"GET /": 0, "POST /predict": 0}), r"every request has weight 0 \(GET /, POST /predict\)"),
        (lambda: RequestMix({"GET /": -1}), r"weight of 'GET /': -1 must not be negative"),
    ],
)
def test_a_bad_rate_wait_or_mix_names_the_value(make: Callable[[], object], message: str) -> None:
    with pytest.raises(PacingError, match=message):
        make()
