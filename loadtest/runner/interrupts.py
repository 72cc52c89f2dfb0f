"""Ctrl-C (SIGINT), SIGTERM and SIGHUP during a run: stop early, but never in the middle of cleanup.

`catch_signals()` turns those signals into a `RunInterrupted` exception raised wherever the
runner is, so the normal `finally` blocks stop processes and remove cgroups. Code inside
`shielded()` (the cleanup itself) is not interrupted: the signal is remembered and raised
when the shield is left, and a second Ctrl-C only reminds the user that cleanup is going on.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunInterrupted(BaseException):
    """The run was asked to stop by a signal (BaseException: `except Exception` does not swallow it)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name


class _State:
    shield_depth = 0
    pending: str | None = None
    received: str | None = None


_state = _State()


def received() -> str | None:
    """The name of the first signal received since `catch_signals()`, if any."""
    return _state.received


def _handle(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    _state.received = _state.received or name
    if _state.shield_depth:
        if _state.pending is not None:
            print(f"\n{name}: still stopping the run's processes and removing its cgroups...", file=sys.stderr)
        _state.pending = _state.pending or name
        return
    raise RunInterrupted(name)


@contextmanager
def catch_signals() -> Iterator[None]:
    """Within this block SIGINT, SIGTERM and SIGHUP raise `RunInterrupted`."""
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    _state.shield_depth, _state.pending, _state.received = 0, None, None
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def shielded() -> Iterator[None]:
    """Run the block to its end even if a signal arrives; raise `RunInterrupted` afterwards."""
    _state.shield_depth += 1
    try:
        yield
    finally:
        _state.shield_depth -= 1
    if _state.shield_depth == 0 and _state.pending is not None:
        name, _state.pending = _state.pending, None
        raise RunInterrupted(name)
