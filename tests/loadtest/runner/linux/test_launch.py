"""The launcher replicas and Locust start through: cgroup join, open-files limit, parent death."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from loadtest.runner.linux.launch import EXIT_LAUNCH_FAILED, build_command
from tests.procfs import alive, cmdline
from tests.waiting import wait_until


def test_it_writes_its_own_pid_then_execs_keeping_it(tmp_path: Path) -> None:
    procs = [tmp_path / "cpu.procs", tmp_path / "memory.procs"]
    joins = [str(path) for path in procs]
    script = "import os, resource; print(os.getpid(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    result = subprocess.run(
        build_command([sys.executable, "-c", script], joins, raise_nofile=True),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    pid, soft = result.stdout.split()
    assert [path.read_text() for path in procs] == [pid, pid]
    assert int(soft) == resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def test_a_failure_is_one_line_and_exit_125(tmp_path: Path) -> None:
    result = subprocess.run(
        build_command(["true"], [str(tmp_path / "missing" / "cgroup.procs")]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == EXIT_LAUNCH_FAILED
    assert result.stderr.startswith("loadtest launcher: No such file or directory")
    assert "Traceback" not in result.stderr
    missing = subprocess.run(
        build_command(["no-such-program-here"]), capture_output=True, text=True, timeout=30, check=False
    )
    assert missing.returncode == EXIT_LAUNCH_FAILED
    assert "no-such-program-here" in missing.stderr


def test_the_child_dies_with_the_process_that_started_it() -> None:
    """A runner killed with SIGKILL leaves nothing behind: the kernel sends SIGTERM to its children."""
    starter = (
        "import subprocess, sys\n"
        f"child = subprocess.Popen({build_command(['sleep', '60'])!r})\n"
        "print(child.pid, flush=True)\n"
        "sys.stdin.readline()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    # The parent-death signal is armed just before the exec, so wait until the launcher has become `sleep`.
    wait_until(lambda: cmdline(child)[:1] == ["sleep"], timeout=10, what="the launcher exec'd sleep")
    parent.kill()
    parent.communicate()
    wait_until(lambda: not alive(child), timeout=10, what="the child gone with its parent")


def test_it_pins_itself_to_the_cpus_it_is_given() -> None:
    """The affinity survives the exec and is inherited: a duet's Locust and its workers stay on their side."""
    core = min(os.sched_getaffinity(0))
    script = "import os; print(sorted(os.sched_getaffinity(0)))"
    result = subprocess.run(
        build_command([sys.executable, "-c", script], cpus={core}),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == f"[{core}]"
