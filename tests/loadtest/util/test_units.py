"""Units as the tools write them (loadtest/util/units.py): parsers that name bad text, formatters that never fail."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from loadtest.util.units import (
    Duration,
    format_clock,
    format_cpus,
    format_ms,
    format_rate,
    format_share,
    format_size,
    normalize_memory,
    parse_memory,
    parse_run_time,
    parse_stats_size,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("2m", 120), ("1h30m", 5400), ("1h", 3600), ("1m30s", 90), ("45", 45), (" 2M ", 120)],
)
def test_parse_run_time(text: str, seconds: int) -> None:
    assert parse_run_time(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "2x", "1.5m", "-10s", "0s", "0", "m", "30s1m"])
def test_parse_run_time_names_what_it_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_run_time(text)


def test_a_duration_keeps_its_text_and_its_seconds() -> None:
    duration = Duration.parse(" 1h30m ")
    assert (duration.text, duration.seconds, str(duration), f"{duration}") == ("1h30m", 5400, "1h30m", "1h30m")


class _Timed(BaseModel):
    run_time: Duration


def test_a_model_reads_a_duration_from_its_text_and_writes_the_text_back() -> None:
    timed = _Timed.model_validate({"run_time": "2m"})
    assert timed.run_time == Duration("2m", 120)
    assert _Timed.model_validate({"run_time": timed.run_time}) == timed  # already parsed: kept as it is
    assert timed.model_dump() == {"run_time": "2m"}
    assert timed.model_dump_json() == '{"run_time":"2m"}'
    assert _Timed.model_validate_json(timed.model_dump_json()) == timed


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("soon", "value_error", "'soon' is not a Locust duration"),
        ("0s", "value_error", "'0s' is not a positive duration"),
        (90, "string_type", "Input should be a valid string"),
    ],
)
def test_a_model_names_a_bad_duration(value: object, kind: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _Timed.model_validate({"run_time": value})
    (detail,) = raised.value.errors()
    assert (detail["type"], detail["loc"]) == (kind, ("run_time",))
    assert message in detail["msg"]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 * 1024**2),
        ("1g", 1024**3),
        ("1G", 1024**3),
        ("1.5g", int(1.5 * 1024**3)),
        ("6291456", 6 * 1024**2),
        ("8192k", 8 * 1024**2),
        ("1t", 1024**4),
        ("512mb", 512 * 1024**2),
        ("1 GiB", 1024**3),
    ],
)
def test_parse_memory(text: str, size: int) -> None:
    assert parse_memory(text) == size


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a Docker memory size"),
        ("lots", "not a Docker memory size"),
        ("512q", "not a Docker memory size"),
        ("-1g", "not a Docker memory size"),
        ("1  g", "not a Docker memory size"),
        ("g", "not a Docker memory size"),
        ("1.2.3g", "not a Docker memory size"),
        ("5m", "below Docker's minimum memory limit of 6m"),
    ],
)
def test_parse_memory_names_what_it_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{text!r} is {problem}")):
        parse_memory(text)


@pytest.mark.parametrize(("text", "normal"), [("512M", "512m"), (" 1G ", "1g"), ("1gb", "1gb")])
def test_normalize_memory_is_the_cell_name_spelling(text: str, normal: str) -> None:
    assert normalize_memory(text) == normal


def test_normalize_memory_rejects_what_docker_would() -> None:
    with pytest.raises(ValueError, match="not a Docker memory size"):
        normalize_memory("lots")


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("57.3MiB", round(57.3 * 1024**2)),
        ("1.5GiB", round(1.5 * 1024**3)),
        ("512KiB", 512 * 1024),
        ("12MB", 12_000_000),
        ("1.2GB", 1_200_000_000),
        ("0B", 0),
        (" 3kB ", 3000),
        ("n/a", None),
        ("", None),
    ],
)
def test_docker_stats_sizes(text: str, size: int | None) -> None:
    assert parse_stats_size(text) == size


@pytest.mark.parametrize(
    ("cpus", "text"),
    [(0.5, "0.5"), (1.0, "1.0"), (1, "1.0"), (2.0, "2.0"), (0.25, "0.25"), (1.5, "1.5"), (0.125, "0.125")],
)
def test_format_cpus_always_has_a_decimal_point(cpus: float, text: str) -> None:
    assert format_cpus(cpus) == text


@pytest.mark.parametrize(
    ("failures", "requests", "text"),
    [
        (0, 10, "0.00%"),
        (99, 10_000, "0.99%"),
        (100, 10_000, "1.00%"),
        (9_999, 1_000_000, "0.99%"),
        (1, 1_000_000, "<0.01%"),
        (10, 10, "100.00%"),
        (0, 0, "n/a"),
    ],
)
def test_rates_round_down_so_a_pass_never_shows_the_limit(failures: int, requests: int, text: str) -> None:
    assert format_rate(failures, requests) == text


@pytest.mark.parametrize(
    ("part", "total", "text"),
    [(1, 3, "33.3%"), (30, 40, "75.0%"), (1, 1000, "0.1%"), (1, 1001, "<0.1%"), (0, 5, "0.0%"), (0, 0, "n/a")],
)
def test_a_share_that_is_not_zero_never_shows_as_zero(part: int, total: int, text: str) -> None:
    assert format_share(part, total) == text


@pytest.mark.parametrize(("ms", "text"), [(None, "n/a"), (0, "0"), (999.4, "999"), (12_345.6, "12,346")])
def test_format_ms(ms: float | None, text: str) -> None:
    assert format_ms(ms) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (75, "1:15"), (59.9, "0:59"), (3725, "1:02:05"), (-3, "0:00")]
)
def test_format_clock(seconds: float, text: str) -> None:
    assert format_clock(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "–"),
        (0, "0 B"),
        (1000, "1000 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (88_300_000, "84.2 MiB"),
        (256 * 2**20, "256 MiB"),
        (2**30, "1 GiB"),
        (1.5 * 2**30, "1.5 GiB"),
        (5 * 2**40, "5 TiB"),
    ],
)
def test_format_size_in_binary_units_like_docker_stats(size: float | None, text: str) -> None:
    assert format_size(size) == text
