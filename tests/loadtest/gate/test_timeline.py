"""timeline.png (loadtest/gate/timeline.py), drawn from real Locust histories (tests/data/locust/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes

from loadtest.gate.reading import read_stats
from loadtest.gate.timeline import render_timeline, timeline_figure
from loadtest.latency.recording import FILE_NAME, read_recording
from loadtest.thresholds import Slo
from tests.loadtest import histogram_files as hist
from tests.loadtest.cell_folders import ONE_LOCUST, R1, run_record, samples
from tests.loadtest.locust_csv import healthy_run

DATA = Path(__file__).resolve().parents[2] / "data" / "locust"
SLO = Slo(max_error_rate=0.02, max_p95_ms=1000, min_rps=100)


def labels(axis: Axes) -> list[str]:
    return [str(line.get_label()) for line in axis.get_lines()]


@pytest.mark.parametrize("folder", ["healthy", "api-down"])
def test_every_slo_limit_is_drawn_on_its_panel(folder: str) -> None:
    stats = read_stats(DATA / folder)
    figure = timeline_figure(stats, stats.window, SLO)
    assert figure is not None
    _, load, latency, failures = figure.axes
    assert labels(load) == ["requests/s", "SLO min req/s"]
    assert labels(latency) == ["P95 (last 10 s)", "SLO max P95"]
    assert labels(failures) == ["failures/s", "SLO max error rate (2.00% of req/s)"]
    served, allowed = (line.get_ydata() for line in (load.get_lines()[0], failures.get_lines()[1]))
    # The failures per second the error-rate limit allows at each moment's req/s.
    assert np.allclose(np.asarray(allowed, dtype=float), 0.02 * np.asarray(served, dtype=float), equal_nan=True)
    history = stats.aggregated_history
    assert np.allclose(
        np.asarray(failures.get_lines()[0].get_ydata(), dtype=float),
        [row.failures_per_second for row in history],
    )


def test_the_cpu_panel_comes_with_the_samples(tmp_path: Path) -> None:
    stats = read_stats(DATA / "healthy")
    start = float(stats.aggregated_history[0].timestamp)
    record = run_record(R1, locust=ONE_LOCUST, samples=samples(10, 0.5, 0.8, 0.2, 0.4, start=start))
    figure = timeline_figure(stats, stats.window, SLO, record)
    assert figure is not None
    assert labels(figure.axes[4]) == ["API CPU (share of its limit)", "Locust CPU (share of its cores)", "90%"]
    assert (render_timeline(stats, stats.window, SLO, record) or b"")[:8] == b"\x89PNG\r\n\x1a\n"


def test_with_histograms_a_stall_shows_in_the_corrected_p95_and_the_lag_gets_its_panel(tmp_path: Path) -> None:
    folder = tmp_path / "cell"
    healthy_run().write(folder)
    stall = hist.Second([5.0] * 90, unanswered=10, service_lag_ms=[0.0] * 90, generator_lag_ms=[30.0] * 90)

    def second(i: int) -> list[hist.Second]:
        return [stall if i >= 7 else hist.Second([5.0] * 100)]

    hist.Run(10, second, close_after=3.0).write(folder)
    stats = read_stats(folder)
    figure = timeline_figure(stats, stats.window, SLO, recording=read_recording(folder / FILE_NAME))
    assert figure is not None
    latency, lag = figure.axes[2], figure.axes[-1]
    assert labels(latency) == ["P95 (last 10 s)", "P95 from the intended send (per second)", "SLO max P95"]
    assert labels(lag) == ["service's lag P95", "Locust's lag P95"]
    corrected = np.asarray(latency.get_lines()[1].get_ydata(), dtype=float)
    # Before the stall, 5 ms; in it, the unanswered tenth have waited from their second to the close (>= 3 s).
    assert corrected[0] == pytest.approx(5, abs=0.01)
    assert corrected[-1] >= 3000
    assert np.asarray(lag.get_lines()[1].get_ydata(), dtype=float)[-1] == pytest.approx(30, abs=0.1)
