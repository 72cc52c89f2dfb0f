"""Command line entry point: `inference-gate COMMAND ...` (the installed command) or, from a checkout,
`python -m loadtest COMMAND ...`: the same parser, the same subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from loadtest import exitcodes
from loadtest.commands import compare, gate, init, locust_image, plan, report, run, search, stats, ui, verdict
from loadtest.runner.interrupts import RunInterrupted

PROG = "inference-gate"
"""The installed command's name (pyproject's console script); `python -m loadtest` passes its own."""


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """Build the top-level parser with one subcommand per module in `loadtest.commands`."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Load-test an inference API and gate the build on thresholds.yaml.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (run, gate, report, plan, compare, search, ui, stats, init, locust_image, verdict):
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Parse `argv`, run the chosen subcommand and return its exit code."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (KeyboardInterrupt, RunInterrupted):
        # A second signal while a run writes its results: they are written; no traceback.
        print("interrupted", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
