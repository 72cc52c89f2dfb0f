"""One Locust process's record (loadtest/loadgen/recorder.py), fed with a fake clock as Locust's hooks feed it."""

from __future__ import annotations

import random

import msgpack
import pytest

from loadtest.latency import hdr
from loadtest.latency.recording import IntervalDelta
from loadtest.loadgen.pacing import OpenLoop, RequestMix, Schedule
from loadtest.loadgen.recorder import Recorder, deltas_from_wire, deltas_to_wire

UNIX = 1_767_000_000.0
"""Unix time of the fake clock's 0."""


def _recorder() -> Recorder:
    return Recorder(unix_offset=UNIX)


def _schedule(recorder: Recorder, rate: float = 1.0, name: str = "POST /predict") -> Schedule:
    schedule = Schedule(OpenLoop(rate, "constant"), RequestMix({name: 1}), 0.0, random.Random(4))
    recorder.add_schedule(schedule)
    return schedule


def _one(deltas: list[IntervalDelta], second: int, name: str = "POST /predict") -> IntervalDelta:
    (found,) = [delta for delta in deltas if delta.start == int(UNIX) + second and delta.endpoint == name]
    return found


def test_a_paced_request_is_counted_in_its_intended_second_with_both_latencies() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder)
    intended, counted = schedule.take()
    schedule.wait(intended.at)  # free since its intended send
    send = schedule.sent(intended, counted, intended.at + 0.030)  # Locust 30 ms late
    recorder.on_send(send)
    recorder.on_reply("POST /predict", send, response_ms=5.0, failed=False, now=intended.at + 0.035)

    delta = _one(recorder.take(), 0)
    assert (delta.intended, delta.sent, delta.completed, delta.failed, delta.closed_loop) == (1, 1, 1, 0, 0)
    corrected = hdr.Histogram.from_counts(delta.histograms["corrected"])
    uncorrected = hdr.Histogram.from_counts(delta.histograms["uncorrected"])
    assert corrected.max_us == pytest.approx(35_000, rel=1e-3)
    assert uncorrected.max_us == pytest.approx(5_000, rel=1e-3)
    assert hdr.Histogram.from_counts(delta.histograms["lag_generator"]).max_us == pytest.approx(30_000, rel=1e-3)
    assert hdr.Histogram.from_counts(delta.histograms["lag_service"]).max_us == 0
    assert "failed" not in delta.histograms
    assert recorder.take() == []  # deltas: nothing new


def test_a_failure_is_in_corrected_and_in_failed() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder)
    intended, counted = schedule.take()
    send = schedule.sent(intended, counted, intended.at)
    recorder.on_send(send)
    recorder.on_reply("POST /predict", send, response_ms=2.0, failed=True, now=intended.at + 0.002)
    delta = _one(recorder.take(), 0)
    assert (delta.completed, delta.failed) == (1, 1)
    assert delta.histograms["failed"] == delta.histograms["corrected"]


def test_a_request_outside_any_schedule_counts_whole_at_its_send_as_closed_loop() -> None:
    recorder = _recorder()
    recorder.on_reply("GET /health", None, response_ms=1500.0, failed=False, now=3.2)  # sent at 1.7
    delta = _one(recorder.take(), 1, "GET /health")
    assert (delta.intended, delta.sent, delta.completed, delta.closed_loop) == (1, 1, 1, 1)
    assert delta.histograms["corrected"] == delta.histograms["uncorrected"]
    assert "lag_service" not in delta.histograms


def test_closing_counts_what_was_never_sent_or_answered_and_nothing_after() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder)  # one send a second
    first, counted = schedule.take()
    send = schedule.sent(first, counted, first.at)
    recorder.on_send(send)  # in flight: the service holds it
    recorder.count_overdue(first.at + 2.5)  # the report a second: two sends overdue
    recorder.close(first.at + 4.5)  # two more intended before the end
    late = first.at + 9.0
    recorder.on_reply("POST /predict", send, response_ms=9000.0, failed=False, now=late)  # after the books closed

    deltas = recorder.take()
    assert sum(delta.intended for delta in deltas) == 5
    assert sum(delta.sent for delta in deltas) == 1
    assert sum(delta.completed for delta in deltas) == 0
    assert recorder.closed_at == pytest.approx(UNIX + first.at + 4.5)
    # Sends taken after overdue counting are not counted twice.
    recorder.reopen()
    second, counted = schedule.take()
    assert counted
    recorder.on_send(schedule.sent(second, counted, late))
    assert [(delta.intended, delta.sent) for delta in recorder.take()] == [(0, 1)]


def test_a_stopped_user_leaves_its_overdue_sends_counted() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder, rate=2.0)
    recorder.remove_schedule(schedule, 3.0)  # six intended sends before 3 s, none made
    assert sum(delta.intended for delta in recorder.take()) == 6
    recorder.count_overdue(10.0)
    assert recorder.take() == []  # no longer the recorder's


def test_a_task_that_made_no_request_leaves_its_send_intended() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder)
    intended, counted = schedule.take()
    recorder.not_sent(intended, counted)
    assert [(delta.intended, delta.sent) for delta in recorder.take()] == [(1, 0)]


def test_deltas_cross_locusts_message_channel_intact() -> None:
    recorder = _recorder()
    schedule = _schedule(recorder, rate=5.0)
    for _ in range(20):
        intended, counted = schedule.take()
        send = schedule.sent(intended, counted, intended.at + 0.001)
        recorder.on_send(send)
        recorder.on_reply("POST /predict", send, response_ms=4.0, failed=False, now=intended.at + 0.005)
    deltas = recorder.take()
    # Locust's Message.serialize / unserialize (msgpack, strict_map_key=False).
    wire = msgpack.loads(msgpack.dumps(deltas_to_wire(deltas)), raw=False, strict_map_key=False)
    assert deltas_from_wire(wire) == deltas
    assert sum(delta.completed for delta in deltas) == 20
