"""Signals during a run (loadtest/runner/interrupts.py): raised where the runner is, deferred while it cleans up.

The signals are real (sent to this process); each test waits until the handler has seen one rather
than for a fixed time.
"""

from __future__ import annotations

import os
import signal

import pytest

from loadtest.runner.interrupts import RunInterrupted, catch_signals, received, shielded
from tests.waiting import wait_until


def send(signum: int) -> None:
    """Send `signum` to this process and wait until the handler has taken it (it raises, or records it)."""
    seen = received()
    os.kill(os.getpid(), signum)
    if seen is None:
        wait_until(lambda: received() is not None, timeout=10, what=f"{signal.Signals(signum).name} handled")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_interrupts_the_run(signum: int) -> None:
    name = signal.Signals(signum).name
    with catch_signals(), pytest.raises(RunInterrupted) as interrupted:
        send(signum)
    assert interrupted.value.signal_name == name
    assert str(interrupted.value) == f"interrupted by {name}"
    assert received() == name


def test_cleanup_inside_a_shield_runs_to_its_end_first(capsys: pytest.CaptureFixture[str]) -> None:
    steps: list[str] = []

    def cleanup() -> None:
        with shielded():
            send(signal.SIGTERM)
            steps.append("after the signal")
            os.kill(os.getpid(), signal.SIGINT)  # a second one: a reminder on stderr, not an exception
            wait_until(lambda: "still stopping" in capsys.readouterr().err, timeout=10, what="the reminder")
            steps.append("cleanup done")
        steps.append("never reached")

    with catch_signals(), pytest.raises(RunInterrupted) as interrupted:
        cleanup()
    assert steps == ["after the signal", "cleanup done"]
    assert interrupted.value.signal_name == "SIGTERM"  # the first signal is the one raised
    assert received() == "SIGTERM"


def test_a_signal_in_a_nested_shield_waits_for_the_outermost() -> None:
    steps: list[str] = []

    def nested() -> None:
        with shielded():
            with shielded():
                send(signal.SIGINT)
            steps.append("inner shield left")
        steps.append("never reached")

    with catch_signals(), pytest.raises(RunInterrupted):
        nested()
    assert steps == ["inner shield left"]


def test_a_quiet_shield_raises_nothing_and_signals_interrupt_again_after_it() -> None:
    with catch_signals():
        with shielded():
            pass  # no signal: leaving the shield must not raise
        assert received() is None
        with pytest.raises(RunInterrupted):
            send(signal.SIGHUP)


def test_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with catch_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_each_run_starts_with_no_signal_received() -> None:
    with catch_signals(), pytest.raises(RunInterrupted):
        send(signal.SIGINT)
    with catch_signals():
        assert received() is None
