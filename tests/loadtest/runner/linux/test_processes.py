"""CPU time read from /proc for processes the runner does not hold in a cgroup."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from loadtest.runner.linux.processes import cpu_seconds


def _gone_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_cpu_time_of_a_running_process_grows() -> None:
    before = cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    after = cpu_seconds([os.getpid()])
    assert before is not None
    assert after is not None
    assert after - before >= 0.15


def test_processes_that_are_gone_give_no_sample_not_zero() -> None:
    gone = _gone_pid()
    assert cpu_seconds([gone]) is None
    assert cpu_seconds([]) is None
    mine = cpu_seconds([os.getpid()])
    both = cpu_seconds([gone, os.getpid()])
    assert mine is not None
    assert both is not None
    assert both >= mine
