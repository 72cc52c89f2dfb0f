"""What the service's two commands share (`python -m model.train`, `python -m api`): argparse
types with clear messages, and files written so that a reader never sees half of one.

The service's own, standard library only: the API image and the model's training stage carry
nothing of the gate's (the installable `loadtest` package has its own, in `loadtest/util/`), and
installing the gate installs nothing of the service's.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
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


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; the API image's unprivileged user reads the artifacts.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
