"""argparse types with clear messages, for every command of the project (`python -m api`,
`python -m model.train`, `python -m loadtest ...`, the benchmarks)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def converted(text: str, convert: Callable[[str], T], what: str) -> T:
    """`convert(text)`, or the argparse error saying that `text` is not `what`."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number, optionally within [minimum, maximum]."""

    def parse(text: str) -> int:
        value = converted(text, int, "a whole number")
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r} is not between {minimum} and {maximum}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at most {maximum}")
        return value

    return parse


def number(above: float | None = None, below: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite number, optionally strictly between `above` and `below`."""

    def parse(text: str) -> float:
        value = converted(text, float, "a number")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if above is not None and below is not None and not above < value < below:
            raise argparse.ArgumentTypeError(f"{text!r} must be between {above:g} and {below:g} (exclusive)")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than {above:g}")
        if below is not None and value >= below:
            raise argparse.ArgumentTypeError(f"{text!r} must be less than {below:g}")
        return value

    return parse
