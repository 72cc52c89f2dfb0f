"""The histogram file (loadtest/latency/recording.py): written as Locust's processes report, read back merged."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from loadtest.latency import hdr
from loadtest.latency.hdr import Histogram
from loadtest.latency.recording import (
    FILE_NAME,
    HEADER,
    IntervalDelta,
    IntervalStats,
    Percentiles,
    RecordingError,
    RecordingFollower,
    RecordingWriter,
    merge_recordings,
    read_recording,
)
from tests.loadtest import histogram_files as hist

T0 = 1_767_000_000


def _counts(*values_us: float) -> hdr.Counts:
    counts: hdr.Counts = {}
    for value in values_us:
        hdr.record(counts, value)
    return counts


def _delta(second: int, name: str = "POST /predict", *values_ms: float, intended: int | None = None) -> IntervalDelta:
    latencies = _counts(*(value * 1000 for value in values_ms))
    answered = len(values_ms)
    return IntervalDelta(
        start=T0 + second,
        endpoint=name,
        intended=answered if intended is None else intended,
        sent=answered,
        completed=answered,
        histograms={"corrected": latencies, "uncorrected": latencies, "lag_service": _counts(*[0] * answered)},
    )


def _write(path: Path, reports: list[tuple[str, list[IntervalDelta]]], closed: tuple[str, ...] = ()) -> RecordingWriter:
    writer = RecordingWriter(path)
    for source, deltas in reports:
        writer.append(source, deltas)
    for source in closed:
        writer.close_source(source, T0 + 100.5)
    return writer


def test_deltas_of_several_processes_and_reports_add_up(tmp_path: Path) -> None:
    path = tmp_path / "histograms.jsonl"
    writer = _write(
        path,
        [
            ("worker-1", [_delta(0, "POST /predict", 5, 5), _delta(0, "GET /", 1)]),
            ("worker-2", [_delta(0, "POST /predict", 1234)]),
            ("worker-1", [_delta(0, "POST /predict", 7), _delta(1, "POST /predict", 9)]),  # a late reply of second 0
        ],
        closed=("worker-1", "worker-2"),
    )
    live = read_recording(path)  # while Locust runs: the appended deltas
    assert not live.complete
    writer.end()
    writer.finish()
    writer.close()
    done = read_recording(path)

    for recording in (live, done):
        predict = recording.window(T0, T0 + 1).total("POST /predict")
        assert (predict.intended, predict.completed) == (4, 4)
        assert predict.corrected == Histogram.from_values([5000, 5000, 1_234_000, 7000])
        assert recording.total().completed == 6
        assert recording.endpoints() == ["GET /", "POST /predict"]
        assert recording.seconds() == [T0, T0 + 1]
    assert done.complete
    assert done.sources == {"worker-1", "worker-2"}
    assert done.closed_at == T0 + 100.5
    # Compacted: one line per second and name, beside the header, the closed lines and the end.
    kinds = [json.loads(line)["type"] for line in path.read_text().splitlines()]
    assert kinds == ["header", "interval", "interval", "interval", "closed", "closed", "end"]


def test_a_process_that_never_sent_its_final_counts_is_named(tmp_path: Path) -> None:
    path = tmp_path / "histograms.jsonl"
    writer = _write(path, [("w1", [_delta(0)]), ("w2", [_delta(0)])], closed=("w1",))
    writer.end(missing=["w2"])
    writer.finish()
    writer.close()
    recording = read_recording(path)
    assert recording.missing == {"w2"}
    assert not recording.complete
    assert read_recording(path).window(T0 + 1).closed_at == T0 + 100.5


def test_a_line_being_written_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "histograms.jsonl"
    _write(path, [("w1", [_delta(0, "GET /", 3)])]).close()
    with path.open("a") as handle:
        handle.write('{"type": "interval", "source": "w1", "sta')
    assert read_recording(path).total().completed == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty, no header line"),
        (['{"type": "interval"}'], "line 1: the first line must be the header"),
        ([{**HEADER, "version": 2}], r"line 1: version: 2 is not 1"),
        ([{**HEADER, "significant_digits": 2}], r"significant_digits: 2 differs from 3"),
        ([HEADER, "not json"], "line 2: not JSON"),
        ([HEADER, {"type": "interval", "source": "w", "start": "soon", "endpoint": "GET /"}], r"line 2: start: 'soon'"),
        (
            [HEADER, {"type": "interval", "source": "w", "start": 1, "endpoint": "GET /", "sent": -1}],
            r"sent: -1 must be a count",
        ),
        (
            [HEADER, {"type": "interval", "source": "w", "start": 1, "endpoint": "/", "histograms": {"median": "x"}}],
            r"line 2: histogram kind 'median' is not one of",
        ),
        (
            [
                HEADER,
                {"type": "interval", "source": "w", "start": 1, "endpoint": "/", "histograms": {"corrected": "x"}},
            ],
            r"line 2: not an encoded HdrHistogram \('x'\)",
        ),
        ([HEADER, {"type": "summary"}], r"line 2: type: 'summary' is not one of header, interval, closed, end"),
        ([HEADER, {"type": "closed", "source": "w", "at": "later"}], r"at: 'later' must be a number"),
    ],
)
def test_a_bad_file_names_its_line_and_key(tmp_path: Path, lines: list[object], message: str) -> None:
    path = tmp_path / "histograms.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    with pytest.raises(RecordingError, match=message) as caught:
        read_recording(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no histogram file"):
        read_recording(tmp_path / "histograms.jsonl")


def test_window_per_second_and_blocks(tmp_path: Path) -> None:
    path = tmp_path / "histograms.jsonl"
    deltas = [_delta(second, "POST /predict", 10) for second in range(0, 12) if second != 4]
    _write(path, [("local", deltas)]).close()
    recording = read_recording(path)

    window = recording.window(T0 + 2, T0 + 9)
    assert window.seconds() == [T0 + s for s in (2, 3, 5, 6, 7, 8)]
    blocks = recording.blocks(5)
    assert [(block.start - T0, block.end - T0, block.stats.intended) for block in blocks] == [(0, 5, 4), (5, 10, 5)]
    assert [block.stats.intended for block in recording.blocks(5, start=T0 + 1)] == [4, 5]
    assert recording.blocks(5, endpoint="GET /") == []
    with pytest.raises(ValueError, match="block length 0"):
        recording.blocks(0)


def test_merging_recordings_of_two_cells(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(first, [("a", [_delta(0, "POST /predict", 5)])]).close()
    _write(second, [("b", [_delta(0, "POST /predict", 6), _delta(1, "GET /", 1)])]).close()
    merged = merge_recordings([read_recording(first), read_recording(second)])
    assert merged.total().completed == 3
    assert merged.sources == {"a", "b"}
    assert merged.by_endpoint()["POST /predict"].corrected == Histogram.from_values([5000, 6000])


def test_over_a_limit_counts_slow_failed_and_unanswered_requests_once() -> None:
    corrected = Histogram.from_values([100_000] * 90 + [2_000_000] * 6 + [5_000] * 2)  # 2 fast failures
    stats = IntervalStats(
        intended=100,
        sent=99,
        completed=98,
        failed=3,
        corrected=corrected,
        failed_corrected=Histogram.from_values([2_000_000, 5_000, 5_000]),  # one failure is also slow
    )
    assert stats.unfinished == 2
    assert stats.not_sent == 1
    # 5 slow successes + 3 failures + 2 unanswered.
    assert stats.over(1000) == 10
    assert stats.share_over(1000) == pytest.approx(0.10)
    assert stats.over(10_000) == 5  # nothing answered is that slow: failures and unanswered only
    assert math.isnan(IntervalStats().share_over(1000))


def test_percentiles_count_the_unanswered_as_slower_than_any_answer() -> None:
    answered = Histogram.from_values([5_000] * 90 + [1_234_000] * 5)
    with_unanswered = Percentiles.of(answered, unanswered=5)
    assert with_unanswered.p50_ms == pytest.approx(5.0, abs=0.01)
    assert with_unanswered.p95_ms == pytest.approx(1234, rel=1e-3)
    assert with_unanswered.p99_ms == math.inf
    assert with_unanswered.max_ms == math.inf
    assert with_unanswered.as_dict()["p99_ms"] is None
    answered_only = Percentiles.of(answered)
    assert answered_only.p99_ms == pytest.approx(1234, rel=1e-3)
    assert answered_only.max_ms == pytest.approx(1234, rel=1e-3)
    assert math.isnan(Percentiles.of(Histogram()).p50_ms)


def test_interval_deltas_refuse_bad_wire_data() -> None:
    with pytest.raises(RecordingError, match="must be a mapping, got list"):
        IntervalDelta.from_wire([1, 2])
    with pytest.raises(RecordingError, match="intended: 'x' must be a count"):
        IntervalDelta.from_wire({"start": 1, "endpoint": "/", "intended": "x"})


def test_a_follower_reads_what_the_writer_appended_so_far_and_only_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    follower = RecordingFollower(path)
    assert follower.read() is None  # no file yet
    writer = RecordingWriter(path)
    first = hist.Second([5.0] * 10).delta(hist.T0)
    writer.append("w1", [first])
    so_far = follower.read()
    assert so_far is not None
    assert so_far.total().intended == 10
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"type":"interval"')  # a line being written: left for the next read
    assert follower.read() is so_far
    writer.close()


def test_a_follower_adds_new_lines_and_reads_a_compacted_file_anew(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    follower = RecordingFollower(path)
    writer = RecordingWriter(path)
    for second in range(3):
        writer.append("w1", [hist.Second([5.0] * 10).delta(hist.T0 + second)])
        writer.append("w2", [hist.Second([7.0] * 10).delta(hist.T0 + second)])
        so_far = follower.read()
        assert so_far is not None
        assert so_far.total().intended == 20 * (second + 1)
    writer.close_source("w1", hist.T0 + 3.5)
    writer.close_source("w2", hist.T0 + 3.5)
    writer.end()
    writer.finish()  # replaces the file: read from its start again, not from the old offset
    writer.close()
    finished = follower.read()
    assert finished is not None
    assert (finished.total().intended, finished.closed_at, finished.ended) == (60, hist.T0 + 3.5, True)
    assert finished.total().corrected == read_recording(path).total().corrected
