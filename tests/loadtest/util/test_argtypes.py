"""Shared argparse types: accepted values and the messages of rejected ones."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from loadtest.util.argtypes import integer, number


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (integer(), "-3", -3),
        (integer(minimum=0), "0", 0),
        (integer(minimum=0, maximum=65535), "65535", 65535),
        (number(), "-1.5", -1.5),
        (number(above=0), "1e-9", 1e-9),
        (number(above=0, below=1), "0.999", 0.999),
    ],
)
def test_accepts(parse: Callable[[str], float], text: str, expected: float) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (integer(), "1.5", "'1.5' is not a whole number"),
        (integer(minimum=1), "0", "'0' must be at least 1"),
        (integer(maximum=9), "10", "'10' must be at most 9"),
        (integer(minimum=0, maximum=65535), "65536", "'65536' is not between 0 and 65535"),
        (number(), "abc", "'abc' is not a number"),
        (number(), "nan", "'nan' is not a finite number"),
        (number(above=0), "0", "'0' must be greater than 0"),
        (number(below=1), "1", "'1' must be less than 1"),
        (number(above=0, below=1), "1.5", "'1.5' must be between 0 and 1 (exclusive)"),
    ],
)
def test_rejects_with_a_message_naming_the_value(parse: Callable[[str], float], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as error:
        parse(text)
    assert str(error.value) == message
