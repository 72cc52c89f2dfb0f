"""The histogram file a cell leaves (`histograms.jsonl`, beside Locust's CSVs), and its reader.

The format (docs/latency-histograms.md has the reference): JSON Lines, one record a line.

- `{"type": "header", "format": "inference-gate/histograms", "version": 1, ...}` first: the unit
  (microseconds), the histograms' settings (1 us .. 10 min, 3 significant digits), the interval.
- `{"type": "interval", "source": S, "start": T, "endpoint": NAME, "intended": n, "sent": n,
  "completed": n, "failed": n, "closed_loop": n, "histograms": {KIND: "HISTF..."}}`: what the
  Locust process S counted for the requests *intended* in the second [T, T+1) (Unix seconds)
  under request name NAME, each histogram in HdrHistogram's V2 compressed base64 form. Lines
  are deltas: several lines with the same second and name add up (a process sends what it
  counted each second, and a reply can come seconds after its intended send). Once the test ends
  the file is rewritten compacted: one line per second and name, with source "*" (all merged).
- `{"type": "closed", "source": S, "at": T}`: process S closed its books at T: its counts are final.
- `{"type": "end", "sources": [...], "missing": [...]}`: the test stopped; `missing` names the
  processes whose final counts never came (their seconds are incomplete).

Histogram kinds: `corrected` (from the intended send), `uncorrected` (from the actual send),
`lag_service` and `lag_generator` (the two parts of intended-to-actual), `failed` (the corrected
latency of the failures alone, also in `corrected`).

Reading merges everything (any number of lines, processes, files) into a `Recording`: per second
and request name an `IntervalStats` (counts and histograms), which selects a window by time, adds
up endpoints into the aggregate, cuts blocks, and gives percentiles and counts over a limit.
Pure: no Locust; `hdrhistogram` for the encoded form.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from loadtest.latency import hdr
from loadtest.latency.hdr import Histogram, HistogramError
from loadtest.util.files import write_atomic

FILE_NAME = "histograms.jsonl"
"""Beside Locust's CSVs in a cell folder."""
FORMAT = "inference-gate/histograms"
VERSION = 1
INTERVAL_SECONDS = 1
MERGED_SOURCE = "*"
"""The source of a compacted file's interval lines: every process's counts, merged."""
"""Every count and histogram is per second of intended send (the judge's blocks are whole seconds)."""

HistogramKind = Literal["corrected", "uncorrected", "lag_service", "lag_generator", "failed"]
HISTOGRAM_KINDS: tuple[HistogramKind, ...] = ("corrected", "uncorrected", "lag_service", "lag_generator", "failed")
COUNT_KEYS = ("intended", "sent", "completed", "failed", "closed_loop")

HEADER: dict[str, Any] = {
    "type": "header",
    "format": FORMAT,
    "version": VERSION,
    "unit": "us",
    "lowest_us": hdr.LOWEST_US,
    "highest_us": hdr.HIGHEST_US,
    "significant_digits": hdr.SIGNIFICANT_DIGITS,
    "interval_seconds": INTERVAL_SECONDS,
    "histogram_kinds": list(HISTOGRAM_KINDS),
}


class RecordingError(ValueError):
    """A histogram file that cannot be read: the message names the file, the line and the problem."""


@dataclass(frozen=True)
class IntervalDelta:
    """What one process counted, since its last report, for one second and one request name."""

    start: int
    endpoint: str
    intended: int = 0
    sent: int = 0
    completed: int = 0
    failed: int = 0
    closed_loop: int = 0
    histograms: Mapping[str, hdr.Counts] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """Plain data for Locust's messages (msgpack): histograms as [index, count] pairs."""
        return {
            "start": self.start,
            "endpoint": self.endpoint,
            **{key: getattr(self, key) for key in COUNT_KEYS},
            "histograms": {kind: sorted(counts.items()) for kind, counts in self.histograms.items()},
        }

    @classmethod
    def from_wire(cls, data: Any) -> IntervalDelta:
        """Back from `to_wire` (a worker's message)."""
        if not isinstance(data, Mapping):
            raise RecordingError(f"an interval delta must be a mapping, got {type(data).__name__}")
        histograms = data.get("histograms", {})
        if not isinstance(histograms, Mapping):
            raise RecordingError(f"histograms of an interval delta must be a mapping, got {histograms!r:.80}")
        return cls(
            start=_int(data, "start"),
            endpoint=_text(data, "endpoint"),
            **{key: _count(data, key) for key in COUNT_KEYS},
            histograms={
                _kind(kind): {int(index): int(count) for index, count in pairs} for kind, pairs in histograms.items()
            },
        )

    def to_line(self, source: str) -> dict[str, Any]:
        """The file's interval line for this delta, from process `source`."""
        return {
            "type": "interval",
            "source": source,
            "start": self.start,
            "endpoint": self.endpoint,
            **{key: getattr(self, key) for key in COUNT_KEYS},
            "histograms": {kind: hdr.encode(counts) for kind, counts in self.histograms.items() if counts},
        }


@dataclass(frozen=True)
class Percentiles:
    """P50, P95, P99, P99.9 and the maximum, in milliseconds (inf: that share was never answered)."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @classmethod
    def of(cls, histogram: Histogram, unanswered: int = 0) -> Percentiles:
        """From a histogram (us); `unanswered` requests count as slower than any answer (inf)."""
        total = histogram.total + unanswered

        def at(percent: float) -> float:
            if total == 0:
                return math.nan
            rank = max(int(percent * total / 100 + 0.5), 1)
            if rank > histogram.total:
                return math.inf
            # The rank within the answered ones is the same rank: the unanswered are all above.
            return histogram.percentile(100.0 * rank / histogram.total) / 1000.0

        maximum = math.inf if unanswered else (histogram.max_us / 1000.0 if histogram else math.nan)
        return cls(at(50), at(95), at(99), at(99.9), maximum)

    def as_dict(self) -> dict[str, float | None]:
        """For JSON: None where there is no figure, "inf" never (JSON has none): None for inf too."""
        return {
            key: (None if math.isnan(value) or math.isinf(value) else round(value, 3))
            for key, value in (
                ("p50_ms", self.p50_ms),
                ("p95_ms", self.p95_ms),
                ("p99_ms", self.p99_ms),
                ("p999_ms", self.p999_ms),
                ("max_ms", self.max_ms),
            )
        }


@dataclass(frozen=True)
class IntervalStats:
    """Counts and histograms of a set of intended requests (a second, a window, an endpoint or all)."""

    intended: int = 0
    sent: int = 0
    completed: int = 0
    failed: int = 0
    closed_loop: int = 0
    corrected: Histogram = field(default_factory=Histogram)
    uncorrected: Histogram = field(default_factory=Histogram)
    lag_service: Histogram = field(default_factory=Histogram)
    lag_generator: Histogram = field(default_factory=Histogram)
    failed_corrected: Histogram = field(default_factory=Histogram)
    """Corrected latencies of the failures alone (they are in `corrected` too)."""

    @property
    def unfinished(self) -> int:
        """Intended but not answered (never sent, or still in flight when the books closed)."""
        return max(0, self.intended - self.completed)

    @property
    def not_sent(self) -> int:
        """Intended but never sent."""
        return max(0, self.intended - self.sent)

    @property
    def paced(self) -> int:
        """Intended requests that were on an open-loop schedule (the rest were closed-loop)."""
        return self.intended - self.closed_loop

    def histogram(self, kind: HistogramKind) -> Histogram:
        """One of the five histograms by its name in the file."""
        return self.failed_corrected if kind == "failed" else getattr(self, kind)

    def over(self, limit_ms: float) -> int:
        """Intended requests that count as over `limit_ms`: answered slower than it (corrected
        latency), failed, or never answered. The numerator of "share over the limit" (issue 21)."""
        limit_us = limit_ms * 1000.0
        slow_successes = self.corrected.count_over(limit_us) - self.failed_corrected.count_over(limit_us)
        return slow_successes + self.failed + self.unfinished

    def share_over(self, limit_ms: float) -> float:
        """`over(limit_ms)` as a share of the intended requests (NaN when none were intended)."""
        return self.over(limit_ms) / self.intended if self.intended else math.nan

    def late_sends(self, lag_ms: float) -> int:
        """Sends the generator made more than `lag_ms` late while the user was free."""
        return self.lag_generator.count_over(lag_ms * 1000.0)

    def corrected_percentiles(self) -> Percentiles:
        """From the intended send; requests never answered count as slower than any answer."""
        return Percentiles.of(self.corrected, self.unfinished)

    def uncorrected_percentiles(self) -> Percentiles:
        """From the actual send, answered requests only (what a closed loop would report)."""
        return Percentiles.of(self.uncorrected)

    def __add__(self, other: IntervalStats) -> IntervalStats:
        return merge_stats([self, other])


def merge_stats(stats: Iterable[IntervalStats]) -> IntervalStats:
    """The stats of all the given requests together (exact)."""
    parts = list(stats)
    return IntervalStats(
        intended=sum(part.intended for part in parts),
        sent=sum(part.sent for part in parts),
        completed=sum(part.completed for part in parts),
        failed=sum(part.failed for part in parts),
        closed_loop=sum(part.closed_loop for part in parts),
        corrected=hdr.merge(part.corrected for part in parts),
        uncorrected=hdr.merge(part.uncorrected for part in parts),
        lag_service=hdr.merge(part.lag_service for part in parts),
        lag_generator=hdr.merge(part.lag_generator for part in parts),
        failed_corrected=hdr.merge(part.failed_corrected for part in parts),
    )


@dataclass(frozen=True)
class Block:
    """Consecutive seconds [start, end) of intended sends, and their stats."""

    start: int
    end: int
    stats: IntervalStats


@dataclass(frozen=True)
class Recording:
    """Everything a cell's processes counted, merged: per second of intended send and request name."""

    cells: Mapping[tuple[int, str], IntervalStats] = field(default_factory=dict)
    sources: frozenset[str] = frozenset()
    closed: Mapping[str, float] = field(default_factory=dict)
    """Process -> Unix time its books closed (its counts are final)."""
    missing: frozenset[str] = frozenset()
    """Processes whose final counts never came (a test's end said so)."""
    ended: bool = False
    """Whether a test's end was written (the file is not still growing)."""

    @property
    def closed_at(self) -> float | None:
        """When the first process closed its books (Unix time), None while none has. Requests intended
        within a latency limit of it had less than that limit to be answered: a judged window should
        end that much earlier, or count them as the unfinished they are."""
        return min(self.closed.values()) if self.closed else None

    @property
    def complete(self) -> bool:
        """Every process closed its books, none is missing, and the test's end was written."""
        return self.ended and not self.missing and set(self.closed) >= set(self.sources)

    def seconds(self) -> list[int]:
        """The seconds that have counts, in order."""
        return sorted({start for start, _ in self.cells})

    def endpoints(self) -> list[str]:
        """The request names, sorted."""
        return sorted({name for _, name in self.cells})

    def window(self, start: float | None = None, end: float | None = None) -> Recording:
        """Only the requests intended in [start, end) (Unix seconds; a second belongs by its start)."""
        low = -math.inf if start is None else start
        high = math.inf if end is None else end
        kept = {key: stats for key, stats in self.cells.items() if low <= key[0] < high}
        return Recording(kept, self.sources, self.closed, self.missing, self.ended)

    def per_second(self, endpoint: str | None = None) -> list[tuple[int, IntervalStats]]:
        """(second, stats) in order, for one request name or (None) all of them together."""
        by_second: dict[int, list[IntervalStats]] = {}
        for (start, name), stats in self.cells.items():
            if endpoint is None or name == endpoint:
                by_second.setdefault(start, []).append(stats)
        return [(start, merge_stats(parts)) for start, parts in sorted(by_second.items())]

    def total(self, endpoint: str | None = None) -> IntervalStats:
        """All the requests of one request name, or (None) of all of them."""
        return merge_stats(stats for (_, name), stats in self.cells.items() if endpoint is None or name == endpoint)

    def by_endpoint(self) -> dict[str, IntervalStats]:
        """Each request name's totals."""
        return {name: self.total(name) for name in self.endpoints()}

    def blocks(self, seconds: int, endpoint: str | None = None, start: int | None = None) -> list[Block]:
        """Consecutive blocks of `seconds` seconds from `start` (default: the first second with
        counts) to the last second with counts; a last, shorter block is left out, so every block
        weighs the same in a batch-means bound. Seconds without counts inside a block count as
        zero (nothing was intended then)."""
        if seconds < 1:
            raise ValueError(f"block length {seconds} must be at least 1 second")
        rows = self.per_second(endpoint)
        if not rows:
            return []
        first = rows[0][0] if start is None else start
        last = rows[-1][0]
        count = (last - first + 1) // seconds
        grouped: list[list[IntervalStats]] = [[] for _ in range(count)]
        for second, stats in rows:
            position = (second - first) // seconds
            if 0 <= position < count:
                grouped[position].append(stats)
        return [
            Block(first + i * seconds, first + (i + 1) * seconds, merge_stats(parts)) for i, parts in enumerate(grouped)
        ]


def merge_recordings(recordings: Iterable[Recording]) -> Recording:
    """Cells (or processes) read apart, as one recording."""
    parts = list(recordings)
    merged: dict[tuple[int, str], list[IntervalStats]] = {}
    for part in parts:
        for key, stats in part.cells.items():
            merged.setdefault(key, []).append(stats)
    return Recording(
        {key: merge_stats(stats) for key, stats in merged.items()},
        frozenset().union(*(part.sources for part in parts)),
        {source: at for part in parts for source, at in part.closed.items()},
        frozenset().union(*(part.missing for part in parts)),
        all(part.ended for part in parts) if parts else False,
    )


def read_recording(path: Path) -> Recording:
    """Read a histogram file (a run's, finished or still being written).

    A last line without its newline is one being written: it is left out. Anything else that is
    not a line of this format raises RecordingError naming the file and the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordingError(f"{path}: no histogram file (the run did not record one)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecordingError(f"{path}: cannot be read: {error}") from error
    lines = text.split("\n")
    if lines and lines[-1] != "":
        lines = lines[:-1]  # being written
    return _parse(path, lines)


def _parse(path: Path, lines: list[str], first_line: int = 1, header_seen: bool = False) -> Recording:
    """`lines` from line `first_line` on (`header_seen`: the header came before them)."""
    cells: dict[tuple[int, str], list[IntervalStats]] = {}
    sources: set[str] = set()
    closed: dict[str, float] = {}
    missing: set[str] = set()
    ended = False
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except ValueError as error:
            raise RecordingError(f"{where}: not JSON ({error})") from None
        if not isinstance(record, dict):
            raise RecordingError(f"{where}: a line must be a JSON object, got {line[:60]!r}")
        kind = record.get("type")
        try:
            if not header_seen:
                _check_header(record)
                header_seen = True
                continue
            if kind == "interval":
                source = _text(record, "source")
                if source != MERGED_SOURCE:
                    sources.add(source)
                key, stats = _interval(record)
                cells.setdefault(key, []).append(stats)
            elif kind == "closed":
                source = _text(record, "source")
                sources.add(source)
                closed[source] = _number(record, "at")
            elif kind == "end":
                ended = True
                sources.update(_texts(record, "sources"))
                missing.update(_texts(record, "missing"))
            elif kind == "header":
                _check_header(record)
            else:
                raise RecordingError(f"type: {kind!r} is not one of header, interval, closed, end")
        except (RecordingError, HistogramError) as error:
            raise RecordingError(f"{where}: {error}") from None
    if not header_seen:
        raise RecordingError(f"{path}: empty, no header line (the run recorded nothing)")
    # A test that restarted (Locust's web UI) reopens its books: a later end with nobody missing
    # does not erase an earlier test's missing process, which stays missing.
    return Recording(
        {key: merge_stats(parts) for key, parts in cells.items()},
        frozenset(sources),
        closed,
        frozenset(missing),
        ended,
    )


def _check_header(record: Mapping[str, Any]) -> None:
    if record.get("type") != "header" or record.get("format") != FORMAT:
        raise RecordingError(f"the first line must be the header of {FORMAT!r}, got {json.dumps(record)[:80]}")
    if record.get("version") != VERSION:
        raise RecordingError(f"version: {record.get('version')!r} is not {VERSION}, the one this reader knows")
    expected = {key: HEADER[key] for key in ("lowest_us", "highest_us", "significant_digits", "interval_seconds")}
    for key, value in expected.items():
        if record.get(key) != value:
            raise RecordingError(f"{key}: {record.get(key)!r} differs from {value!r}: its histograms cannot be merged")


def _interval(record: Mapping[str, Any]) -> tuple[tuple[int, str], IntervalStats]:
    histograms = record.get("histograms", {})
    if not isinstance(histograms, Mapping):
        raise RecordingError(f"histograms: {histograms!r:.60} must be a mapping of kind to encoded histogram")
    decoded: dict[str, Histogram] = {}
    for kind, text in histograms.items():
        known = _kind(kind)
        if not isinstance(text, str):
            raise RecordingError(f"histograms.{kind}: {text!r:.60} must be an encoded histogram (a string)")
        decoded[known] = Histogram.decode(text)
    counts = {key: _count(record, key) for key in COUNT_KEYS}
    stats = IntervalStats(
        **counts,
        corrected=decoded.get("corrected", Histogram()),
        uncorrected=decoded.get("uncorrected", Histogram()),
        lag_service=decoded.get("lag_service", Histogram()),
        lag_generator=decoded.get("lag_generator", Histogram()),
        failed_corrected=decoded.get("failed", Histogram()),
    )
    return (_int(record, "start"), _text(record, "endpoint")), stats


def _kind(kind: object) -> HistogramKind:
    for known in HISTOGRAM_KINDS:
        if kind == known:
            return known
    raise RecordingError(f"histogram kind {kind!r} is not one of {', '.join(HISTOGRAM_KINDS)}")


def _int(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordingError(f"{key}: {value!r} must be a whole number")
    return value


def _count(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordingError(f"{key}: {value!r} must be a count (a whole number, 0 or more)")
    return value


def _number(record: Mapping[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordingError(f"{key}: {value!r} must be a number")
    return float(value)


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise RecordingError(f"{key}: {value!r} must be a string")
    return value


def _texts(record: Mapping[str, Any], key: str) -> list[str]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecordingError(f"{key}: {value!r:.80} must be a list of strings")
    return value


class RecordingFollower:
    """A histogram file read as it grows (a cell's while Locust runs): each `read` decodes only the complete
    lines added since the last one and returns everything so far, so a look every few seconds costs what
    the new seconds cost, not the whole file again. A file replaced (the writer's compaction at the end)
    is read anew."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._reset(None)

    def _reset(self, inode: int | None) -> None:
        self._inode = inode
        self._offset = 0
        self._line = 1
        self._so_far: Recording | None = None

    def read(self) -> Recording | None:
        """Everything the file holds so far (None: no file, or not even its header yet). RecordingError for a
        line that is not of this format."""
        try:
            with self.path.open("rb") as handle:
                inode = os.fstat(handle.fileno()).st_ino
                if inode != self._inode:
                    self._reset(inode)
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return self._so_far
        except OSError as error:
            raise RecordingError(f"{self.path}: cannot be read: {error}") from error
        complete = data[: data.rfind(b"\n") + 1]
        if not complete:
            return self._so_far
        try:
            lines = complete.decode("utf-8").split("\n")[:-1]
        except UnicodeDecodeError as error:
            raise RecordingError(f"{self.path}: cannot be read: {error}") from error
        part = _parse(self.path, lines, self._line, header_seen=self._so_far is not None)
        self._offset += len(complete)
        self._line += len(lines)
        self._so_far = part if self._so_far is None else _append(self._so_far, part)
        return self._so_far


def _append(before: Recording, after: Recording) -> Recording:
    """A file's recording followed by its next lines' (an end once written stays written)."""
    merged = merge_recordings([before, after])
    return Recording(merged.cells, merged.sources, merged.closed, merged.missing, before.ended or after.ended)


class RecordingWriter:
    """Writes a histogram file as a Locust master (or a lone Locust) receives counts.

    Deltas are appended as they come (a reader sees the run so far); `finish` rewrites the file
    with one line per second and request name (atomically), so reading a finished cell decodes
    each histogram once.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._merged: dict[tuple[int, str], dict[str, Any]] = {}
        self._sources: set[str] = set()
        self._closed: dict[str, float] = {}
        self._ends: list[dict[str, Any]] = []
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._write(HEADER)

    def append(self, source: str, deltas: Iterable[IntervalDelta], pause: Callable[[], None] | None = None) -> None:
        """A process's counts since its last report; `pause` is called after each line (a lone Locust
        lets its users run between two encodings)."""
        self._sources.add(source)
        for delta in deltas:
            self._write(delta.to_line(source))
            self._merge(delta)
            if pause is not None:
                pause()
        self._file.flush()

    def close_source(self, source: str, at: float) -> None:
        """Process `source` closed its books at `at` (Unix time)."""
        self._sources.add(source)
        self._closed[source] = at
        self._write({"type": "closed", "source": source, "at": at})
        self._file.flush()

    def end(self, missing: Iterable[str] = ()) -> None:
        """The test stopped; `missing` are the processes whose final counts never came."""
        line = {"type": "end", "sources": sorted(self._sources), "missing": sorted(set(missing))}
        self._ends.append(line)
        self._write(line)
        self._file.flush()

    def finish(self) -> None:
        """Rewrite the file compacted: the header, one line per second and request name, the ends."""
        self._file.close()
        lines = [HEADER]
        for (start, name), merged in sorted(self._merged.items()):
            delta = IntervalDelta(start, name, **{key: merged[key] for key in COUNT_KEYS}, histograms=merged["h"])
            lines.append(delta.to_line(MERGED_SOURCE))
        lines += [{"type": "closed", "source": source, "at": at} for source, at in sorted(self._closed.items())]
        lines += self._ends
        write_atomic(self.path, "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
        self._file = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        """Close the file (after `finish`, or as it is)."""
        self._file.close()

    def _merge(self, delta: IntervalDelta) -> None:
        merged = self._merged.setdefault((delta.start, delta.endpoint), {**dict.fromkeys(COUNT_KEYS, 0), "h": {}})
        for key in COUNT_KEYS:
            merged[key] += getattr(delta, key)
        for kind, counts in delta.histograms.items():
            hdr.merge_counts(merged["h"].setdefault(kind, {}), counts)

    def _write(self, line: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
