"""Signals during a run: raised where the runner is, deferred while it cleans up."""

from __future__ import annotations

import os
import signal
import time

import pytest

from loadtest.runner.interrupts import RunInterrupted, catch_signals, received, shielded


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_interrupts_the_run(signum: int) -> None:
    with catch_signals(), pytest.raises(RunInterrupted) as interrupted:
        os.kill(os.getpid(), signum)
        time.sleep(1)
    assert interrupted.value.signal_name == signal.Signals(signum).name
    assert str(interrupted.value) == f"interrupted by {signal.Signals(signum).name}"


def test_cleanup_inside_a_shield_runs_to_its_end_first() -> None:
    steps: list[str] = []
    with catch_signals(), pytest.raises(RunInterrupted):
        with shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("after the signal")
            os.kill(os.getpid(), signal.SIGINT)  # a second one: reminded, not raised
            steps.append("cleanup done")
        steps.append("never reached")
    assert steps == ["after the signal", "cleanup done"]
    assert received() == "SIGTERM"


def test_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with catch_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_shield_without_a_signal_changes_nothing() -> None:
    with catch_signals(), shielded():
        value = 1
    assert value == 1
    assert received() is None
