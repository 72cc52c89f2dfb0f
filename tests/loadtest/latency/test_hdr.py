"""HdrHistogram buckets (loadtest/latency/hdr.py): the same buckets, encoding and percentiles as the package."""

from __future__ import annotations

import math
import random

import pytest
from hdrh.histogram import HdrHistogram

from loadtest.latency import hdr
from loadtest.latency.hdr import Histogram, HistogramError


def _reference() -> HdrHistogram:
    return HdrHistogram(hdr.LOWEST_US, hdr.HIGHEST_US, hdr.SIGNIFICANT_DIGITS)


def _values(seed: int = 7, count: int = 5000) -> list[int]:
    rng = random.Random(seed)
    edges = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 999_936, 1_000_447, 1_000_448, hdr.HIGHEST_US]
    return edges + [int(rng.lognormvariate(9, 2.5)) % hdr.HIGHEST_US for _ in range(count)]


def test_buckets_are_the_packages_own() -> None:
    reference = _reference()
    assert reference.counts_len == hdr.COUNTS_LEN
    for value in _values():
        index = hdr.bucket_index(value)
        assert index == reference.get_counts_array_index(value), value
        assert hdr.lowest_value(index) == reference.get_lowest_equivalent_value(value), value
        assert hdr.highest_value(index) == reference.get_highest_equivalent_value(value), value


def test_values_outside_the_range_are_clamped_not_lost() -> None:
    assert hdr.bucket_index(-5) == 0
    assert hdr.bucket_index(hdr.HIGHEST_US * 10) == hdr.bucket_index(hdr.HIGHEST_US)


def test_encoded_form_decodes_in_the_package_and_back() -> None:
    values = _values()
    reference = _reference()
    for value in values:
        reference.record_value(value)
    ours = Histogram.from_values(values)

    assert HdrHistogram.decode(ours.encode().encode("ascii")).equals(reference)
    assert Histogram.decode(reference.encode().decode("ascii")) == ours
    # The template the encoder reuses is left clean: a second, different encoding is exact too.
    small = Histogram.from_values([5000, 5000, 7])
    assert Histogram.decode(small.encode()) == small


def test_percentiles_max_and_min_are_the_packages() -> None:
    values = _values(seed=11)
    reference = _reference()
    for value in values:
        reference.record_value(value)
    ours = Histogram.from_values(values)
    for percent in (0, 1, 50, 90, 95, 99, 99.9, 100):
        assert ours.percentile(percent) == reference.get_value_at_percentile(percent), percent
    assert ours.max_us == reference.get_max_value()
    assert ours.min_us == reference.get_min_value()
    assert ours.total == reference.get_total_count() == len(values)


def test_the_issues_ten_slow_replies_in_a_hundred_give_an_exact_p95() -> None:
    # Locust's bucket read 1,200 ms here; the true P95 is 1,234 ms.
    histogram = Histogram.from_values([5_000] * 90 + [1_234_000] * 10)
    assert 1_234_000 <= histogram.percentile(95) <= 1_235_000
    assert histogram.percentile(50) < 20_000
    assert histogram.percentile(99) <= histogram.max_us


def test_a_value_counts_over_a_limit_when_its_bucket_reaches_past_it() -> None:
    # At 1 s a bucket is 512 us wide: [999,936, 1,000,447] holds the limit itself.
    histogram = Histogram.from_values([999_000, 999_935, 999_990, 1_000_000, 1_000_448, 2_000_000])
    assert histogram.count_over(1_000_000) == 4  # 999,990 and 1,000,000 share the limit's bucket
    assert histogram.count_over(1_000_447) == 2
    assert histogram.count_over(0) == 6
    assert histogram.count_over(-1) == 6
    assert histogram.count_over(hdr.HIGHEST_US) == 0
    assert Histogram().count_over(5) == 0


def test_merge_is_exact() -> None:
    first, second = _values(seed=1, count=300), _values(seed=2, count=300)
    merged = hdr.merge([Histogram.from_values(first), Histogram(), Histogram.from_values(second)])
    assert merged == Histogram.from_values(first + second)
    assert Histogram.from_values(first) + Histogram.from_values(second) == merged
    assert hdr.merge([]) == Histogram()


def test_an_empty_histogram_encodes_and_has_no_figures() -> None:
    empty = Histogram()
    assert Histogram.decode(empty.encode()) == empty
    assert not empty
    assert empty.total == 0
    assert math.isnan(empty.percentile(95))
    assert math.isnan(empty.max_us)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64 at all!", "not an encoded HdrHistogram"),
        ("SElTVEZBQUFB", "not an encoded HdrHistogram"),
    ],
)
def test_decoding_rubbish_names_it(text: str, message: str) -> None:
    with pytest.raises(HistogramError, match=message) as caught:
        Histogram.decode(text)
    assert text[:12] in str(caught.value)


def test_a_histogram_with_other_settings_is_refused() -> None:
    other = HdrHistogram(1, 3_600_000_000, 2)
    other.record_value(1000)
    with pytest.raises(HistogramError, match=r"\(1, 3600000000, 2\).*cannot be merged"):
        Histogram.decode(other.encode().decode("ascii"))


def test_counts_out_of_range_are_refused() -> None:
    with pytest.raises(HistogramError, match="21504"):
        hdr.encode({hdr.COUNTS_LEN: 1})
    with pytest.raises(HistogramError, match="negative count"):
        hdr.encode({5: -1})
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        Histogram.from_values([1]).percentile(101)
