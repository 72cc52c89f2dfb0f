"""scripts/recording_bench.py's figures: delivered req/s from Locust's history, the lag from a recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.gate.reading import HistoryRow
from loadtest.latency import hdr
from loadtest.latency.recording import IntervalDelta, RecordingWriter, read_recording
from scripts.recording_bench import delivered_rps, lag_figures

T0 = 1_767_000_000


def _row(second: int, requests: int, aggregated: bool = True) -> HistoryRow:
    return HistoryRow(T0 + second, "Aggregated" if aggregated else "POST /predict", aggregated, 10, 0, 0, requests, 0)


def test_delivered_rps_leaves_the_ramp_out() -> None:
    rows = [_row(0, 0), _row(1, 100), _row(2, 1100), _row(3, 3100), _row(3, 999, aggregated=False), _row(13, 23_100)]
    assert delivered_rps(rows) == pytest.approx(2000)  # from the row 3 s after the first
    assert delivered_rps(rows[:2]) == 0.0
    assert delivered_rps([]) == 0.0


def test_lag_figures_read_the_generators_share_after_the_ramp(tmp_path: Path) -> None:
    path = tmp_path / "histograms.jsonl"
    writer = RecordingWriter(path)
    for second in range(10):
        lags: hdr.Counts = {}
        for value_us in [100] * 97 + [12_000, 30_000, 60_000] if second >= 3 else [500_000] * 100:
            hdr.record(lags, value_us)
        delta = IntervalDelta(T0 + second, "POST /predict", 100, 100, 100, histograms={"lag_generator": lags})
        writer.append("local", [delta])
    writer.close_source("local", T0 + 10.5)
    writer.end()
    writer.close()

    figures = lag_figures(read_recording(path), asked_rps=100)
    assert figures.served_rps == pytest.approx(100)  # seconds 3..8: the ramp and the close's second left out
    assert figures.p50_ms == pytest.approx(0.1, abs=0.001)
    assert figures.late_shares == pytest.approx((0.03, 0.02, 0.01))
