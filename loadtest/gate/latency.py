"""A cell's latency as its users saw it, from its histograms (`histograms.jsonl`, issue 20).

The figures the gate states and judges: per scope (all requests together, each endpoint) the intended,
sent, completed, failed and unfinished requests, and P50, P95, P99, P99.9 and the maximum corrected (from
the intended send) and uncorrected (from the actual send) side by side; how the requests were sent (open
or closed loop); and how late the load generator itself sent them.

A request never answered when the books closed has no latency, only a wait so far: it is counted over
every latency limit (`IntervalStats.over`), and a percentile that falls among such requests is stated as
how long they had waited by then, a lower bound (`at_least`), so a stalled service's P95 is a number of
seconds rather than none. Pure: a `Recording` in, records out.
"""

from __future__ import annotations

import math
from pathlib import Path

from loadtest.gate.reading import AGGREGATED, GateInputError
from loadtest.latency import hdr
from loadtest.latency.hdr import Histogram
from loadtest.latency.recording import (
    FILE_NAME,
    IntervalStats,
    Percentiles,
    Recording,
    RecordingError,
    read_recording,
)
from loadtest.records import Figures, GeneratorLag, LatencyPercentiles, Loop, RequestCounts, ScopeLatency

GENERATOR_LAG_SHARE_OF_LIMIT = 0.05
"""A send is late on Locust's side when it left more than this share of the P95 limit after its intended time
while its user was free (50 ms for a 1,000 ms limit): late enough to move a latency near the limit."""
GENERATOR_LATE_SHARE = 0.01
"""A cell is inconclusive when more than this share of its paced sends were late on Locust's side: the
generator, not the service, then set the pace (issue 20's rule; docs/measurement.md has the null target's
figures it was checked against)."""
_PERCENTILE_KEYS = ("p50_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")


def read_cell_recording(run_dir: Path) -> Recording | None:
    """The cell's histograms, or None when it recorded none (a locustfile without our pacing and recording).

    A file that is there but cannot be read raises GateInputError naming the file, the line and the key.
    """
    path = Path(run_dir) / FILE_NAME
    if not path.is_file():
        return None
    try:
        return read_recording(path)
    except RecordingError as error:
        raise GateInputError(str(error)) from None


def waited(recording: Recording, closed_at: float, endpoint: str | None = None) -> Histogram:
    """The requests never answered, each at the least it had waited when the books closed (from the end of
    its intended second): what they add to the corrected latencies, as lower bounds."""
    counts: hdr.Counts = {}
    for second, stats in recording.per_second(endpoint):
        if stats.unfinished:
            index = hdr.bucket_index(max(0.0, closed_at - (second + 1)) * 1e6)
            counts[index] = counts.get(index, 0) + stats.unfinished
    return Histogram.from_counts(counts)


def percentiles(stats: IntervalStats, unanswered: Histogram | None = None) -> LatencyPercentiles:
    """The corrected percentiles with the unanswered requests at their waits (`unanswered`), marking those
    that fall among them; without `unanswered`, the uncorrected ones (answered requests only)."""
    if unanswered is None:
        return _record(Percentiles.of(stats.uncorrected), [])
    exact = Percentiles.of(stats.corrected, stats.unfinished)
    bounded = Percentiles.of(stats.corrected + unanswered)
    at_least = [key for key, value in zip(_PERCENTILE_KEYS, _values(exact), strict=True) if math.isinf(value)]
    return _record(bounded, at_least)


def _values(figures: Percentiles) -> tuple[float, ...]:
    return (figures.p50_ms, figures.p95_ms, figures.p99_ms, figures.p999_ms, figures.max_ms)


def _record(figures: Percentiles, at_least: list[str]) -> LatencyPercentiles:
    def finite(value: float) -> float | None:
        return None if math.isnan(value) or math.isinf(value) else round(value, 3)

    return LatencyPercentiles(
        p50_ms=finite(figures.p50_ms),
        p95_ms=finite(figures.p95_ms),
        p99_ms=finite(figures.p99_ms),
        p999_ms=finite(figures.p999_ms),
        max_ms=finite(figures.max_ms),
        at_least=at_least,
    )


def counts(stats: IntervalStats) -> RequestCounts:
    """The requests of `stats` by what became of them."""
    return RequestCounts(
        intended=stats.intended,
        sent=stats.sent,
        completed=stats.completed,
        failed=stats.failed,
        unfinished=stats.unfinished,
        closed_loop=stats.closed_loop,
    )


def scope_latency(recording: Recording, closed_at: float, endpoint: str | None = None) -> ScopeLatency:
    """One scope's counts and percentiles over the recording (already cut to the judged window)."""
    stats = recording.total(endpoint)
    return ScopeLatency(
        scope=AGGREGATED if endpoint is None else endpoint,
        counts=counts(stats),
        corrected=percentiles(stats, waited(recording, closed_at, endpoint)),
        uncorrected=percentiles(stats),
    )


def latency_by_scope(recording: Recording, closed_at: float) -> list[ScopeLatency]:
    """All the requests first, then each endpoint, in name order."""
    return [
        scope_latency(recording, closed_at),
        *(scope_latency(recording, closed_at, name) for name in recording.endpoints()),
    ]


def loop_of(stats: IntervalStats) -> Loop:
    """open when every request had a schedule, closed when none had, mixed otherwise."""
    if stats.closed_loop == 0:
        return "open"
    return "closed" if stats.closed_loop >= stats.intended else "mixed"


def generator_lag(stats: IntervalStats, max_p95_ms: float) -> GeneratorLag:
    """The paced sends Locust made late while their users were free, against the threshold of the P95 limit."""
    threshold = GENERATOR_LAG_SHARE_OF_LIMIT * max_p95_ms
    sent = stats.lag_generator.total
    late = stats.late_sends(threshold)
    return GeneratorLag(
        threshold_ms=threshold,
        late=late,
        sent=sent,
        share=late / sent if sent else 0.0,
        allowed_share=GENERATOR_LATE_SHARE,
    )


def generator_reason(lag: GeneratorLag) -> str | None:
    """Why the generator, not the service, set the pace (None: it did not)."""
    if lag.share <= lag.allowed_share:
        return None
    return (
        f"the load generator sent {lag.late:,} of {lag.sent:,} requests ({lag.share:.1%}) more than "
        f"{lag.threshold_ms:,.0f} ms after their intended time while their users were free (allowed: "
        f"{lag.allowed_share:.0%}): Locust, not the service, set the pace"
    )


def aggregated_figures(latency: ScopeLatency, seconds: float) -> Figures:
    """The Aggregated figures of the judged window as the reports show them: intended requests, failed,
    answered per second, corrected percentiles."""
    figures, corrected = latency.counts, latency.corrected
    return Figures(
        name=AGGREGATED,
        requests=figures.intended,
        failures=figures.failed,
        error_rate=figures.failed / figures.intended if figures.intended else None,
        rps=figures.completed / seconds if seconds > 0 else 0.0,
        p50_ms=corrected.p50_ms,
        p95_ms=corrected.p95_ms,
        p99_ms=corrected.p99_ms,
    )


def mean_ms(histogram: Histogram) -> float | None:
    """The mean of a histogram's values (ms, each at its bucket's middle: within 0.05%); None when empty."""
    total = histogram.total
    if not total:
        return None
    middle = sum(
        count * (hdr.lowest_value(index) + hdr.highest_value(index)) / 2
        for index, count in histogram.to_counts().items()
    )
    return middle / total / 1000.0
