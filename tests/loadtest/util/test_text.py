"""Short text for messages (loadtest/util/text.py): an error's first line, a sentence from a clause."""

from __future__ import annotations

import pytest

from loadtest.util.text import first_line, sentence


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("one\ntwo", "one"),
        ("\n\n  indented first\nsecond", "indented first"),
        (ValueError("bad value\ndetails"), "bad value"),
        (TimeoutError(), "TimeoutError"),  # an exception without a message is named by its type
        ("", "unknown error"),
        ("  \n ", "unknown error"),
        (None, "unknown error"),
    ],
)
def test_first_line(text: object, line: str) -> None:
    assert first_line(text) == line


def test_first_line_with_a_fallback_of_its_own() -> None:
    assert first_line("", fallback="no output") == "no output"


@pytest.mark.parametrize(
    ("clause", "text"),
    [
        ("not run: r2", "Not run: r2."),
        ("cut short by SIGINT.", "Cut short by SIGINT."),
        ("  done ", "Done."),
        ("", "."),
    ],
)
def test_sentence(clause: str, text: str) -> None:
    assert sentence(clause) == text
