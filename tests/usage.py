"""A command refused before it ran: the exit and the message, read the one way every command's tests need."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import ParamSpec

import pytest

from loadtest import exitcodes

P = ParamSpec("P")

USAGE = 2
"""argparse's exit code for a usage error."""


def refusal(
    code: int, capsys: pytest.CaptureFixture[str], call: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> str:
    """What `call(*args, **kwargs)` wrote to stderr, having exited (SystemExit) with `code`."""
    with pytest.raises(SystemExit) as exited:
        call(*args, **kwargs)
    assert exited.value.code == code
    return capsys.readouterr().err


def usage_error(
    capsys: pytest.CaptureFixture[str], call: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> str:
    """What `call(*args, **kwargs)` wrote to stderr, having exited 2 as argparse does on a bad flag."""
    return refusal(USAGE, capsys, call, *args, **kwargs)


def assert_cannot_judge(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """`done` exited 2 (cannot judge) saying each fragment on stderr, and no traceback reached the user."""
    assert done.returncode == exitcodes.CANNOT_JUDGE, done.stderr
    assert [fragment for fragment in fragments if fragment not in done.stderr] == [], done.stderr
    assert "Traceback" not in done.stderr
