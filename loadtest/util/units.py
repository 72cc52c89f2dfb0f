"""Units as the tools write them: Locust durations, Docker memory sizes and CPU counts, rates.

Parsers raise ValueError with a message that names the text; formatters never fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

_RUN_TIME = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
# Docker's (go-units RAMInBytes) grammar: "512m", "512mb", "512 MiB", "1g", "1.5g", "268435456".
_MEMORY = re.compile(r"(?P<number>\d+(?:\.\d+)?) ?(?P<unit>[kmgtp]?)i?b?", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
# `docker stats` prints both decimal (MB) and binary (MiB) sizes.
_STATS_SIZE = re.compile(r"(?P<number>[\d.]+)\s*(?P<unit>[KMGT]?i?B)", re.IGNORECASE)
_STATS_UNITS: dict[str, int] = {
    f"{prefix}{'i' if binary else ''}b": int((1024 if binary else 1000) ** power)
    for power, prefix in enumerate(["", "k", "m", "g", "t"])
    for binary in (False, True)
    if prefix or not binary
}

MIN_MEMORY_BYTES = 6 * 1024**2
"""Docker refuses a memory limit below 6 MiB."""


def parse_run_time(text: str) -> int:
    """Seconds in a Locust duration: "90s", "2m", "1h30m" or plain seconds ("45")."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        seconds = int(cleaned)
    else:
        match = _RUN_TIME.fullmatch(cleaned)
        if not cleaned or match is None:
            raise ValueError(f"{text!r} is not a Locust duration such as 90s, 2m or 1h30m")
        hours, minutes, secs = (int(match[unit] or 0) for unit in ("h", "m", "s"))
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds


@dataclass(frozen=True)
class Duration:
    """A Locust duration parsed once, where it was read (a flag, a variable, a profile key): the text
    as written, for messages and records, and its seconds, for everything that waits or computes."""

    text: str
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`text` ("90s", "2m", "1h30m", "45"); ValueError names it when it is not a positive duration."""
        return cls(text.strip(), parse_run_time(text))

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # In a model (thresholds.yaml, a command's options) a Duration is read from its text and
        # written back as that text, so files and records keep the form people wrote.
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def _validate(cls, value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        if not isinstance(value, str):
            # The error a strict `str` field gives: a YAML `run_time: 90` is not read as seconds.
            raise PydanticCustomError("string_type", "Input should be a valid string")
        return cls.parse(value)


def parse_memory(text: str) -> int:
    """Bytes in a Docker memory size such as "512m" or "1g" (units are powers of 1024)."""
    match = _MEMORY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Docker memory size such as 512m or 1g")
    size = int(float(match["number"]) * _MEMORY_UNITS[match["unit"].lower()])
    if size < MIN_MEMORY_BYTES:
        raise ValueError(f"{text!r} is below Docker's minimum memory limit of 6m")
    return size


def normalize_memory(text: str) -> str:
    """A Docker memory size in the form used in cell names ("1G " -> "1g"); ValueError if invalid."""
    parse_memory(text)
    return text.strip().lower()


def parse_stats_size(text: str) -> int | None:
    """A `docker stats` size ("57.3MiB", "1.2GB") in bytes; None if unreadable."""
    match = _STATS_SIZE.fullmatch(text.strip())
    if match is None:
        return None
    return round(float(match["number"]) * _STATS_UNITS[str(match["unit"]).lower()])


def format_cpus(cpus: float) -> str:
    """CPUs as written in cell names: always a decimal point, no trailing zeros ("0.5", "1.0", "0.25")."""
    text = f"{cpus:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def format_rate(failures: int, requests: int) -> str:
    """An error rate as a percentage, rounded down so that 0.999% never shows as 1.00%."""
    if requests == 0:
        return "n/a"
    hundredths = failures * 10_000 // requests
    if failures and hundredths == 0:
        return "<0.01%"
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def format_share(part: int, total: int) -> str:
    """A part of a total as a percentage with one decimal; a non-zero part never shows as 0.0%."""
    if total == 0:
        return "n/a"
    return "<0.1%" if 0 < part * 1000 < total else f"{part / total:.1%}"


def format_ms(ms: float | None) -> str:
    """Milliseconds with thousands separators, "n/a" for none."""
    return "n/a" if ms is None else f"{ms:,.0f}"


def format_clock(seconds: float) -> str:
    """m:ss (or h:mm:ss)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_size(size: float | None) -> str:
    """Bytes in binary units as `docker stats` prints them ("84.2 MiB", "512 MiB", "1 GiB"); "–" for none."""
    if size is None:
        return "–"
    value, unit = float(size), "B"
    for next_unit in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, next_unit
    text = f"{value:.0f}" if value >= 100 or unit == "B" else f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"
