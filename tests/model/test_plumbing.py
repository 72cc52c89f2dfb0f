"""The service's own plumbing (model/plumbing.py): argparse types and atomic writes.

The gate keeps its own copy (loadtest/util/), so that neither installs the other; the last test
holds the two to the same answers, so a fix in one cannot leave the other behind.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from loadtest.util import argtypes
from model import plumbing

# (the type's name, its keyword arguments, the text, the value or the error message)
CASES: list[tuple[str, dict[str, float], str, float | str]] = [
    ("integer", {}, "-3", -3),
    ("integer", {"minimum": 0, "maximum": 65535}, "65535", 65535),
    ("integer", {}, "1.5", "'1.5' is not a whole number"),
    ("integer", {"minimum": 1}, "0", "'0' must be at least 1"),
    ("integer", {"maximum": 64}, "65", "'65' must be at most 64"),
    ("integer", {"minimum": 0, "maximum": 65535}, "65536", "'65536' is not between 0 and 65535"),
    ("number", {"above": 0, "below": 1}, "0.25", 0.25),
    ("number", {}, "abc", "'abc' is not a number"),
    ("number", {}, "inf", "'inf' is not a finite number"),
    ("number", {"above": 0}, "0", "'0' must be greater than 0"),
    ("number", {"below": 1}, "1", "'1' must be less than 1"),
    ("number", {"above": 0, "below": 1}, "1.5", "'1.5' must be between 0 and 1 (exclusive)"),
]


def answer(parse: Callable[[str], float], text: str) -> float | str:
    """The parsed value, or the message argparse would print."""
    try:
        return parse(text)
    except argparse.ArgumentTypeError as error:
        return str(error)


@pytest.mark.parametrize(("kind", "bounds", "text", "expected"), CASES)
def test_the_types_accept_or_name_the_value(
    kind: str, bounds: dict[str, float], text: str, expected: float | str
) -> None:
    assert answer(getattr(plumbing, kind)(**bounds), text) == expected


@pytest.mark.parametrize(("kind", "bounds", "text", "expected"), CASES)
def test_the_service_and_the_gate_answer_alike(
    kind: str, bounds: dict[str, float], text: str, expected: float | str
) -> None:
    assert answer(getattr(plumbing, kind)(**bounds), text) == answer(getattr(argtypes, kind)(**bounds), text)


def test_write_atomic_writes_whole_files_readable_by_the_image_user(tmp_path: Path) -> None:
    path = tmp_path / "artifacts" / "metadata.json"
    plumbing.write_atomic(path, "{}\n")
    plumbing.write_atomic(path, b'{"v": 2}\n')
    assert path.read_bytes() == b'{"v": 2}\n'
    assert list(path.parent.iterdir()) == [path]
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").mkdir()
    with pytest.raises(IsADirectoryError, match=r"model\.onnx"):
        plumbing.write_atomic(tmp_path / "model.onnx", b"onnx")
    assert [path.name for path in tmp_path.iterdir()] == ["model.onnx"]
