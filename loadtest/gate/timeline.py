"""timeline.png: one cell over time, where people look first in a load test.

Users, requests per second, P95 per moment (Locust's history gives the last ten seconds'
percentiles, not the cumulative ones), failures per second, and the CPU of the API and of Locust
where the runner sampled it. With the cell's histograms, the P95 panel also draws the corrected P95
of each second of intended sends (requests never answered at how long they had waited: a stall
shows), and a last panel the schedule lag: how late the sends went out, the service's part (the user
was still waiting for a reply) and Locust's. The judged window is shaded; the SLO's limits are dashed lines, the
error rate's as the failures per second it allows at the requests per second of each moment.
"""

from __future__ import annotations

import math
from io import BytesIO

import pandas as pd
from matplotlib.figure import Figure

from loadtest.gate.latency import waited
from loadtest.gate.reading import LocustStats
from loadtest.latency.hdr import Histogram
from loadtest.latency.recording import Recording
from loadtest.records import RunRecord, Window
from loadtest.thresholds import Slo

TIMELINE_FILE = "timeline.png"
_SLO_COLOUR, _WINDOW_COLOUR = "#c62828", "#1565c0"


def render_timeline(
    stats: LocustStats,
    window: Window,
    slo: Slo,
    record: RunRecord | None = None,
    recording: Recording | None = None,
) -> bytes | None:
    """The PNG, or None when the history has fewer than two rows to draw."""
    figure = timeline_figure(stats, window, slo, record, recording)
    if figure is None:
        return None
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def timeline_figure(
    stats: LocustStats,
    window: Window,
    slo: Slo,
    record: RunRecord | None = None,
    recording: Recording | None = None,
) -> Figure | None:
    """The figure: users, req/s, P95, failures/s, when sampled CPU, and with histograms the schedule lag
    (None: fewer than two rows)."""
    rows = stats.aggregated_history
    if len(rows) < 2:
        return None
    start = float(rows[0].timestamp)
    seconds = [row.timestamp - start for row in rows]
    cpu = _cpu_series(record, start) if record is not None else None
    moments = _recorded_moments(recording, start) if recording is not None else None
    panels = 4 + (cpu is not None) + (moments is not None)
    # Fixed margins: a constrained layout would draw the figure twice, for every cell.
    figure = Figure(figsize=(10.0, 9.0 + 1.5 * (panels - 4)))
    figure.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.06, hspace=0.15)
    axes = figure.subplots(panels, 1, sharex=True)
    users, load, latency, failures = axes[0], axes[1], axes[2], axes[3]

    users.plot(seconds, [row.users for row in rows], color="#424242")
    users.set_ylabel("users")
    requests = [row.rps for row in rows]
    load.plot(seconds, requests, color="#2e7d32", label="requests/s")
    if slo.min_rps is not None:
        load.axhline(slo.min_rps, color=_SLO_COLOUR, linestyle="--", linewidth=1, label="SLO min req/s")
    load.set_ylabel("req/s")
    load.legend(fontsize=8, loc="upper left")
    p95 = [math.nan if row.p95_ms is None else row.p95_ms for row in rows]
    latency.plot(seconds, p95, color="#6a1b9a", label="P95 (last 10 s)")
    if moments is not None:
        latency.plot(
            moments["seconds"], moments["p95"], color="#d81b60", label="P95 from the intended send (per second)"
        )
    latency.axhline(slo.max_p95_ms, color=_SLO_COLOUR, linestyle="--", linewidth=1, label="SLO max P95")
    latency.set_ylabel("ms")
    latency.legend(fontsize=8, loc="upper left")
    failures.plot(seconds, [row.failures_per_second for row in rows], color=_SLO_COLOUR, label="failures/s")
    # Its own panel and scale: at 1% of the req/s, the limit would lie flat on the req/s panel's floor.
    failures.plot(
        seconds,
        [rate * slo.max_error_rate for rate in requests],
        color=_SLO_COLOUR,
        linestyle="--",
        linewidth=1,
        label=f"SLO max error rate ({slo.max_error_rate:.2%} of req/s)",
    )
    failures.set_ylim(bottom=0)
    failures.set_ylabel("failures/s")
    failures.legend(fontsize=8, loc="upper left")
    if cpu is not None:
        axis = axes[4]
        for column, colour in (
            ("API CPU (share of its limit)", "#ef6c00"),
            ("Locust CPU (share of its cores)", "#00838f"),
        ):
            if cpu[column].notna().any():
                axis.plot(cpu["seconds"], cpu[column] * 100, color=colour, label=column)
        axis.axhline(90, color=_SLO_COLOUR, linestyle=":", linewidth=1, label="90%")
        axis.set_ylabel("CPU %")
        axis.legend(fontsize=8, loc="upper left")
    if moments is not None:
        axis = axes[-1]
        axis.plot(moments["seconds"], moments["service_lag"], color="#6d4c41", label="service's lag P95")
        axis.plot(moments["seconds"], moments["generator_lag"], color="#00838f", label="Locust's lag P95")
        axis.set_ylabel("send lag ms")
        axis.legend(fontsize=8, loc="upper left")
    for axis in axes:
        axis.grid(alpha=0.3)
        if window.start is not None and window.end is not None:
            axis.axvspan(window.start - start, window.end - start, color=_WINDOW_COLOUR, alpha=0.08)
    axes[-1].set_xlabel("seconds since the start (shaded: the judged window)")
    figure.suptitle(f"{stats.run_dir.name}: judged {window.kind} ({window.seconds:,.0f} s, shaded)", fontsize=10)
    return figure


def _cpu_series(record: RunRecord, start: float) -> pd.DataFrame | None:
    """The API's and Locust's CPU between consecutive samples, as shares of what each may use."""
    samples = pd.DataFrame([sample.model_dump() for sample in record.samples])
    if len(samples) < 2:
        return None
    interval = samples["t"].diff()
    workers = record.locust.processes if record.locust is not None else 1
    api = pd.to_numeric(samples["api_cpu_seconds"], errors="coerce").diff().clip(lower=0)
    locust = pd.to_numeric(samples["locust_cpu_seconds"], errors="coerce").diff().clip(lower=0)
    return pd.DataFrame(
        {
            "seconds": samples["t"] - start,
            "API CPU (share of its limit)": api / (interval * record.api_cpus),
            "Locust CPU (share of its cores)": locust / (interval * max(1, workers)),
        }
    ).iloc[1:]


def _recorded_moments(recording: Recording, start: float) -> pd.DataFrame | None:
    """Per second of intended sends: the corrected P95 (unanswered requests at their wait when the books
    closed) and the P95 of each part of the schedule lag, in ms (None: nothing recorded)."""
    closed_at = recording.closed_at
    rows = []
    for second, stats in recording.per_second():
        corrected = stats.corrected
        if stats.unfinished and closed_at is not None:
            corrected = corrected + waited(recording.window(second, second + 1), closed_at)
        rows.append(
            {
                "seconds": second + 0.5 - start,
                "p95": _p95_ms(corrected),
                "service_lag": _p95_ms(stats.lag_service),
                "generator_lag": _p95_ms(stats.lag_generator),
            }
        )
    return pd.DataFrame(rows) if rows else None


def _p95_ms(histogram: Histogram) -> float:
    return histogram.percentile(95) / 1000 if histogram.total else math.nan
