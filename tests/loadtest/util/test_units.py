"""Sizes as the live view prints them."""

from __future__ import annotations

import pytest

from loadtest.util.units import format_size


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
def test_binary_units_like_docker_stats(size: float | None, text: str) -> None:
    assert format_size(size) == text
