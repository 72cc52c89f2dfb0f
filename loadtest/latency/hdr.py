"""HdrHistogram buckets for latencies in microseconds: 1 us to 10 min, 3 significant digits.

Recording goes through `bucket_index` into a plain dict of counts (a few hundred nanoseconds a
request; the `hdrhistogram` package's own `record_value` costs ~12 us, too much for a Locust
core at thousands of requests a second). The buckets are HdrHistogram's, so a dict of counts is
an HdrHistogram: `encode` turns it into the package's V2 compressed form ("HISTF..."), which any
HdrHistogram implementation decodes, and `decode` reads one back.

`Histogram` is the reader's immutable view: the counts of a contiguous range of buckets in a
numpy array, so merging, percentiles and counts over a limit cost no Python loop per bucket.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 600_000_000
"""10 minutes: longer than any request a run keeps open (a value above is recorded as this)."""
SIGNIFICANT_DIGITS = 3

# The bucket layout HdrHistogram derives from the three numbers above (hdrh/histogram.py): values
# below 2,048 us have their own bucket; above, each power of two is split into 1,024 buckets.
_UNIT_MAGNITUDE = 0  # floor(log2(LOWEST_US))
_SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10  # ceil(log2(2 * 10**SIGNIFICANT_DIGITS)) - 1
_SUB_BUCKET_HALF_COUNT = 1 << _SUB_BUCKET_HALF_COUNT_MAGNITUDE
_SUB_BUCKET_MASK = (2 * _SUB_BUCKET_HALF_COUNT - 1) << _UNIT_MAGNITUDE
_MASK_BITS = _SUB_BUCKET_MASK.bit_length()
COUNTS_LEN = 21_504
"""Buckets from 0 to HIGHEST_US: (20 bucket groups + 1) x 1,024."""

Counts = dict[int, int]
"""Bucket index -> how many values fell in it: what the Locust side records into."""


class HistogramError(ValueError):
    """An encoded histogram that cannot be read, or one made with other settings than ours."""


def bucket_index(value_us: float) -> int:
    """The bucket of a value in microseconds (negative values count as 0, values above 10 min as 10 min)."""
    value = min(max(int(value_us), 0), HIGHEST_US)
    bucket = (value | _SUB_BUCKET_MASK).bit_length() - _MASK_BITS
    sub_bucket = value >> (bucket + _UNIT_MAGNITUDE)
    return ((bucket + 1) << _SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket - _SUB_BUCKET_HALF_COUNT


def _bucket_of_index(index: int) -> tuple[int, int]:
    bucket = (index >> _SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (_SUB_BUCKET_HALF_COUNT - 1)) + _SUB_BUCKET_HALF_COUNT
    if bucket < 0:
        return 0, sub_bucket - _SUB_BUCKET_HALF_COUNT
    return bucket, sub_bucket


def lowest_value(index: int) -> int:
    """The smallest value (us) in a bucket."""
    bucket, sub_bucket = _bucket_of_index(index)
    return sub_bucket << (bucket + _UNIT_MAGNITUDE)


def highest_value(index: int) -> int:
    """The largest value (us) in a bucket: what HdrHistogram reports for a percentile that falls in it."""
    bucket, _ = _bucket_of_index(index)
    return lowest_value(index) + (1 << (bucket + _UNIT_MAGNITUDE)) - 1


def record(counts: Counts, value_us: float) -> None:
    """Count one value into `counts` (the hot path of the Locust side: `bucket_index` written inline)."""
    value = int(value_us)
    if value < 0:
        value = 0
    elif value > HIGHEST_US:
        value = HIGHEST_US
    bucket = (value | _SUB_BUCKET_MASK).bit_length() - _MASK_BITS
    # value >> bucket is the sub-bucket: the unit magnitude is 0 (LOWEST_US is 1).
    index = ((bucket + 1) << _SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (value >> bucket) - _SUB_BUCKET_HALF_COUNT
    counts[index] = counts.get(index, 0) + 1


def merge_counts(into: Counts, other: Mapping[int, int]) -> None:
    """Add `other`'s counts to `into`."""
    for index, count in other.items():
        into[index] = into.get(index, 0) + count


# One template per process: building an HdrHistogram costs ~0.6 ms (it allocates its 21,504 counts),
# so `encode` writes a dict's counts into it, encodes, and clears exactly what it wrote.
_template: HdrHistogram | None = None


def encode(counts: Mapping[int, int]) -> str:
    """HdrHistogram's V2 compressed, base64 form of a dict of counts (empty counts encode too)."""
    global _template  # noqa: PLW0603 - one reusable buffer per process, see above
    if _template is None:
        _template = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    template = _template
    nonzero = {index: count for index, count in counts.items() if count}
    for index, count in nonzero.items():
        if not 0 <= index < COUNTS_LEN:
            raise HistogramError(f"bucket index {index} is outside 0..{COUNTS_LEN - 1}")
        if count < 0:
            raise HistogramError(f"bucket {index} has a negative count ({count})")
        template.counts[index] = count
    try:
        if nonzero:
            template.set_internal_tacking_values(min(nonzero), max(nonzero), sum(nonzero.values()))
        text: str = template.encode().decode("ascii")
    finally:
        for index in nonzero:
            template.counts[index] = 0
        template.total_count = 0
        template.min_value = sys.maxsize
        template.max_value = 0
    return text


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of latencies (us) in HdrHistogram's buckets, immutable.

    `offset` is the first bucket held; `counts[i]` is bucket `offset + i`. Empty: no counts at all.
    A value is *over* a limit when its bucket reaches past the limit, so values within the
    bucket's width (0.1%) under a limit may count as over, never the reverse; percentiles are
    the highest value of their bucket, as HdrHistogram reports them, so a percentile is at most
    the maximum.
    """

    offset: int = 0
    counts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def from_counts(cls, counts: Mapping[int, int]) -> Histogram:
        """From a dict of bucket index -> count."""
        nonzero = {index: count for index, count in counts.items() if count}
        if not nonzero:
            return cls()
        low, high = min(nonzero), max(nonzero)
        if low < 0 or high >= COUNTS_LEN:
            raise HistogramError(f"bucket indexes {low}..{high} are outside 0..{COUNTS_LEN - 1}")
        array = np.zeros(high - low + 1, dtype=np.int64)
        for index, count in nonzero.items():
            array[index - low] = count
        if (array < 0).any():
            raise HistogramError("a histogram cannot hold a negative count")
        return cls(low, array)

    @classmethod
    def from_values(cls, values_us: Iterable[float]) -> Histogram:
        """From raw values in microseconds (tests and small data)."""
        counts: Counts = {}
        for value in values_us:
            record(counts, value)
        return cls.from_counts(counts)

    @classmethod
    def decode(cls, text: str) -> Histogram:
        """Read HdrHistogram's V2 compressed, base64 form (as `encode` writes it)."""
        try:
            decoded = HdrHistogram.decode(text.encode("ascii"))
        except Exception as error:  # base64, zlib and hdrh's own cookie and length errors alike
            shown = text if len(text) <= 24 else text[:24] + "..."
            raise HistogramError(f"not an encoded HdrHistogram ({shown!r}): {error}") from error
        settings = (decoded.lowest_trackable_value, decoded.highest_trackable_value, decoded.significant_figures)
        if settings != (LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS):
            raise HistogramError(
                f"histogram settings {settings} (lowest, highest, digits) differ from "
                f"{(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)}: its buckets cannot be merged with ours"
            )
        if decoded.get_total_count() == 0:
            return cls()
        low = decoded.get_counts_array_index(decoded.get_min_value())
        high = decoded.get_counts_array_index(decoded.get_max_value())
        array = np.ctypeslib.as_array(decoded.counts)[low : high + 1].astype(np.int64)
        return cls(low, array)

    def encode(self) -> str:
        """HdrHistogram's V2 compressed, base64 form."""
        return encode(self.to_counts())

    def to_counts(self) -> Counts:
        """Bucket index -> count, non-zero buckets only."""
        nonzero = np.flatnonzero(self.counts)
        return {int(self.offset + i): int(self.counts[i]) for i in nonzero}

    @property
    def total(self) -> int:
        """How many values it holds."""
        return int(self.counts.sum())

    def __bool__(self) -> bool:
        return self.total > 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and self.to_counts() == other.to_counts()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable underneath (numpy)

    def __add__(self, other: Histogram) -> Histogram:
        return merge([self, other])

    def count_over(self, limit_us: float) -> int:
        """Values over `limit_us`: those in buckets that reach past it."""
        if not self:
            return 0
        first_over = self._first_bucket_over(limit_us)
        start = max(first_over - self.offset, 0)
        return int(self.counts[start:].sum())

    def percentile(self, percent: float) -> float:
        """The value (us) at `percent` (0-100) as HdrHistogram computes it; NaN when empty."""
        if not 0 <= percent <= 100:
            raise ValueError(f"percentile {percent} is outside 0..100")
        total = self.total
        if total == 0:
            return math.nan
        target = max(int(percent * total / 100 + 0.5), 1)
        cumulative = np.cumsum(self.counts)
        position = int(np.searchsorted(cumulative, target))
        index = self.offset + position
        return float(highest_value(index) if percent > 0 else lowest_value(index))

    @property
    def max_us(self) -> float:
        """The largest value (its bucket's highest); NaN when empty."""
        nonzero = np.flatnonzero(self.counts)
        return float(highest_value(self.offset + int(nonzero[-1]))) if nonzero.size else math.nan

    @property
    def min_us(self) -> float:
        """The smallest value (its bucket's lowest); NaN when empty."""
        nonzero = np.flatnonzero(self.counts)
        return float(lowest_value(self.offset + int(nonzero[0]))) if nonzero.size else math.nan

    def _first_bucket_over(self, limit_us: float) -> int:
        # The first bucket whose highest value exceeds the limit: the bucket of the limit itself
        # when the limit is not its highest value, else the next one.
        if limit_us < 0:
            return 0
        index = bucket_index(math.floor(limit_us))
        return index if highest_value(index) > limit_us else index + 1


def merge(histograms: Iterable[Histogram]) -> Histogram:
    """One histogram of all the given ones' values (exact: the buckets are the same)."""
    parts = [histogram for histogram in histograms if histogram.counts.size and histogram.total]
    if not parts:
        return Histogram()
    if len(parts) == 1:
        return parts[0]
    low = min(part.offset for part in parts)
    high = max(part.offset + part.counts.size for part in parts)
    array = np.zeros(high - low, dtype=np.int64)
    for part in parts:
        array[part.offset - low : part.offset - low + part.counts.size] += part.counts
    return Histogram(low, array)
