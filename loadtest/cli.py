"""Command line entry point: `python -m loadtest {run,gate,report,plan,compare,search,ui,stats} ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from loadtest import exitcodes
from loadtest.commands import compare, gate, plan, report, run, search, stats, ui
from loadtest.runner.interrupts import RunInterrupted


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subcommand per module in `loadtest.commands`."""
    parser = argparse.ArgumentParser(
        prog="python -m loadtest",
        description="Load-test an inference API and gate the build on thresholds.yaml.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (run, gate, report, plan, compare, search, ui, stats):
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the chosen subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (KeyboardInterrupt, RunInterrupted):
        # A second signal while a run writes its results: they are written; no traceback.
        print("interrupted", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
