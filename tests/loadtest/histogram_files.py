"""Synthetic histogram files (histograms.jsonl) for the gate's tests, written with the real writer.

`Second` says what the requests intended in one second became (their corrected and uncorrected latencies,
the unanswered, the failed, the lags); `write_histograms` lays a run of them out as a Locust master does:
deltas, the processes' books closed, the test's end, the compacted file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.latency import hdr
from loadtest.latency.recording import FILE_NAME, IntervalDelta, RecordingWriter

T0 = 1_795_841_427
"""The first second of `tests.loadtest.locust_csv.SyntheticRun`'s history, where a synthetic run starts."""


def _counts(values_ms: Sequence[float]) -> hdr.Counts:
    counts: hdr.Counts = {}
    for value in values_ms:
        hdr.record(counts, value * 1000)
    return counts


@dataclass(frozen=True)
class Second:
    """The requests intended in one second under one name: answered ones by their latencies (ms)."""

    corrected_ms: Sequence[float]
    """Every answered request's latency from its intended send (failures included)."""
    uncorrected_ms: Sequence[float] | None = None
    """From the actual send (default: the corrected ones: sent on time)."""
    unanswered: int = 0
    """Intended but never answered (never sent: `unsent` of them)."""
    unsent: int = 0
    failed_ms: Sequence[float] = ()
    """The failures' corrected latencies (also in `corrected_ms`)."""
    generator_lag_ms: Sequence[float] = ()
    """Each paced send's lag on Locust's side (default: 0 for every sent request)."""
    service_lag_ms: Sequence[float] = ()
    closed_loop: bool = False
    endpoint: str = "POST /predict"

    def delta(self, start: int) -> IntervalDelta:
        answered = len(self.corrected_ms)
        intended = answered + self.unanswered
        sent = intended - self.unsent
        uncorrected = self.corrected_ms if self.uncorrected_ms is None else self.uncorrected_ms
        histograms = {
            "corrected": _counts(self.corrected_ms),
            "uncorrected": _counts(uncorrected),
            "failed": _counts(self.failed_ms),
        }
        if not self.closed_loop:
            histograms["lag_generator"] = _counts(self.generator_lag_ms or [0.0] * sent)
            histograms["lag_service"] = _counts(self.service_lag_ms or [0.0] * sent)
        return IntervalDelta(
            start=start,
            endpoint=self.endpoint,
            intended=intended,
            sent=sent,
            completed=answered,
            failed=len(self.failed_ms),
            closed_loop=intended if self.closed_loop else 0,
            histograms={kind: counts for kind, counts in histograms.items() if counts},
        )


def n_in_100(rate: int, slow: int, slow_ms: float = 1500.0, fast_ms: float = 5.0) -> Second:
    """`rate` requests in the second, exactly `slow` of every 100 at `slow_ms`, the rest at `fast_ms`."""
    slow_count = rate * slow // 100
    return Second([slow_ms] * slow_count + [fast_ms] * (rate - slow_count))


@dataclass
class Run:
    """A run's seconds of intended sends from `start`: `seconds(i)` gives what second i held."""

    seconds: int
    each: Callable[[int], Sequence[Second]]
    start: int = T0
    close_after: float = 0.5
    """The books close this long after the last second ends."""
    sources: tuple[str, ...] = ("local",)
    missing: tuple[str, ...] = ()
    closed: bool = True

    @property
    def closed_at(self) -> float:
        return self.start + self.seconds + self.close_after

    def write(self, folder: Path, finish: bool = True) -> Path:
        """`folder/histograms.jsonl` (the compacted file once `finish`, else the deltas as they came)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        writer = RecordingWriter(path)
        for second in range(self.seconds):
            for index, held in enumerate(self.each(second)):
                source = self.sources[index % len(self.sources)]
                writer.append(source, [held.delta(self.start + second)])
        if self.closed:
            for source in self.sources:
                if source not in self.missing:
                    writer.close_source(source, self.closed_at)
            writer.end(self.missing)
        if finish:
            writer.finish()
        writer.close()
        return path


def steady(seconds: int, second: Second, start: int = T0) -> Run:
    """The same second, `seconds` times."""
    return Run(seconds, lambda _: [second], start)
