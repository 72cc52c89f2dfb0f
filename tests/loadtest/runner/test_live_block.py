"""Lines that rewrite themselves on a terminal (loadtest/runner/live_block.py)."""

from __future__ import annotations

import io

import pytest

from loadtest.runner.live_block import LiveBlock


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_block_rewrites_itself_in_place_on_a_terminal() -> None:
    stream = Terminal()
    block = LiveBlock(stream)
    block.show(["a", "b"])
    block.show(["c", "d", "e"])
    # Up two lines to the start of the first block, clear to the end, draw the new one.
    assert stream.getvalue() == "a\nb\n\x1b[2F\x1b[Jc\nd\ne\n"


def test_a_message_goes_above_the_block_which_is_drawn_again() -> None:
    stream = Terminal()
    block = LiveBlock(stream)
    block.show(["view"])
    block.message("test 1 started")
    block.end()
    block.show(["next"])
    assert stream.getvalue() == "view\n\x1b[1F\x1b[Jtest 1 started\nview\nnext\n"


def test_lines_are_cut_to_the_terminal_so_the_block_can_be_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    stream = Terminal()
    LiveBlock(stream).show(["x" * 100])
    assert stream.getvalue() == "x" * 28 + "…\n"


def test_elsewhere_a_block_is_printed_at_most_every_interval() -> None:
    stream = io.StringIO()
    block = LiveBlock(stream, interval=3600)
    block.show(["first"])
    block.show(["second"])
    block.message("a message")
    assert stream.getvalue() == "first\na message\n"
    assert "\x1b" not in stream.getvalue()
