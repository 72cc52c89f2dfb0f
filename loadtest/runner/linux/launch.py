"""`python -m loadtest.runner.linux.launch [--cgroup-procs FILE]... [--cpus LIST] [--raise-nofile] -- COMMAND...`

The tiny launcher the runner starts its children through. Before it execs COMMAND (keeping its
pid) it
- asks the kernel to send it SIGTERM if the runner dies (PR_SET_PDEATHSIG), so a runner killed
  with SIGKILL leaves no replica or Locust behind;
- writes its pid into each cgroup.procs file, so COMMAND runs under its limits from its first
  instruction;
- with --cpus, pins itself to those CPUs (its CPU affinity, which COMMAND and every process it forks
  inherit: a comparison's duet pins each side's Locust to its side's cores);
- with --raise-nofile, raises the soft RLIMIT_NOFILE to the hard limit (sockets for many users).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PROG = "loadtest launcher"
EXIT_LAUNCH_FAILED = 125
"""The launcher itself failed (as `env`/`nice` do); its message is on stderr."""


def set_parent_death_signal(expected_parent: int) -> None:
    """Die with SIGTERM when the parent does; exit at once if it is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != expected_parent:
        sys.exit(EXIT_LAUNCH_FAILED)


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the new soft limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def parse_cpus(text: str) -> set[int]:
    """A CPU list ("0-1,3"), for --cpus. The launcher imports nothing of the package (see build_command)."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    if not cpus:
        raise ValueError(f"--cpus {text!r}: no CPU")
    return cpus


def build_command(
    command: Sequence[str],
    cgroup_procs: Sequence[str] = (),
    raise_nofile: bool = False,
    cpus: Iterable[int] | None = None,
) -> list[str]:
    """The argv that starts `command` through this launcher (pinned to `cpus` when given)."""
    # By path, not `-m`: the child's working directory may be another checkout (a comparison's
    # worktree) whose `loadtest` is older; this file needs nothing but the standard library.
    argv = [sys.executable, str(Path(__file__).resolve())]
    for path in cgroup_procs:
        argv += ["--cgroup-procs", str(path)]
    if raise_nofile:
        argv.append("--raise-nofile")
    if cpus is not None:
        argv += ["--cpus", ",".join(str(cpu) for cpu in sorted(cpus))]
    return [*argv, "--", *command]


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare this process, then exec the command (returns only on failure)."""
    parser = argparse.ArgumentParser(prog="python -m loadtest.runner.linux.launch", description=__doc__.split("\n")[2])
    parser.add_argument("--cgroup-procs", action="append", default=[], metavar="FILE")
    parser.add_argument("--raise-nofile", action="store_true")
    parser.add_argument("--cpus", type=parse_cpus, default=None, metavar="LIST")
    parser.add_argument("--parent", type=int, default=os.getppid(), help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    try:
        set_parent_death_signal(args.parent)
        for path in args.cgroup_procs:
            with open(path, "w", encoding="ascii") as procs:
                procs.write(str(os.getpid()))
        if args.cpus is not None:
            os.sched_setaffinity(0, args.cpus)
        if args.raise_nofile:
            raise_open_files_limit()
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"{_PROG}: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_LAUNCH_FAILED
    try:
        os.execvp(args.command[0], args.command)
    except OSError as error:
        print(f"{_PROG}: cannot run {args.command[0]}: {error.strerror or error}", file=sys.stderr)
    return EXIT_LAUNCH_FAILED


if __name__ == "__main__":
    sys.exit(main())
