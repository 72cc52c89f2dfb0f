"""Child processes the runner owns (each in its own process group, stopped group and all), and the cores it may use."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO


def start(
    argv: Sequence[str], log: IO[bytes], cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session (its own process group), output into `log`, no stdin.

    A new session also keeps the terminal's Ctrl-C away from it: the runner decides when it stops.
    """
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to the process group `process` leads (nothing if the group is gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def stop(process: subprocess.Popen[bytes], grace: float = 5.0, signum: int = signal.SIGTERM) -> int:
    """Ask the group to stop with `signum`, wait `grace` seconds for the leader, then SIGKILL the group.

    Returns the leader's exit code (negative: the signal that ended it).
    """
    if process.poll() is None:
        signal_group(process, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    signal_group(process, signal.SIGKILL)
    return process.wait()


def wait_for_exit(process: subprocess.Popen[bytes], deadline: float) -> int | None:
    """The exit code once the process ends, or None if it still runs at `deadline` (monotonic)."""
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            return code
        time.sleep(0.05)
    return process.poll()


def describe_exit(code: int) -> str:
    """An exit status in words: "code 1" or "signal SIGKILL" (negative: the signal that ended it)."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def exit_reason(process: subprocess.Popen[bytes]) -> str | None:
    """Why `process` is gone ("exited with code 1"), None while it runs."""
    code = process.poll()
    return None if code is None else f"exited with {describe_exit(code)}"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    return max(1, len(os.sched_getaffinity(0)))


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces), or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float | None:
    """CPU time (user + system) of these processes and of their children that ended, in seconds;
    None when none of them is there any more (a sample taken after they ended is no sample)."""
    ticks, found = 0, False
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # utime, stime, cutime, cstime: fields 14-17 of proc(5), 11-14 after the name.
            ticks += sum(int(value) for value in fields[11:15])
            found = True
    return ticks / _CLOCK_TICKS if found else None
