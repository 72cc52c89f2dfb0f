"""`python -m loadtest stats [DIR]`: the live resource view of a cell that `loadtest ui` is running.

Per replica: CPU used against its limit, the share of time it was throttled, memory in use
against its limit and its peak, restarts and OOM kills, read from the replica's cgroup (process
backend) or container (compose backend) every --interval seconds. DIR is a cell folder or the
results folder of `ui` (default results/ui: every cell running there). It ends when the cells
do, after --count frames, or on Ctrl-C (exit 0); exit 2 when no cell is running in DIR.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest import exitcodes
from loadtest.options import CommandOptions, Flag, OptionsError, positive_float, positive_int
from loadtest.records import STATE_FILE
from loadtest.runner.resources import REFRESH_SECONDS, find_states, watch_cells
from loadtest.ui.ui_options import DEFAULT_UI_OUT


class StatsOptions(CommandOptions):
    """The options of `python -m loadtest stats`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"view": ("view", None)}

    stats_interval: Annotated[
        float,
        Flag(
            f"seconds between two frames (default {REFRESH_SECONDS:g})",
            "view",
            parse=positive_float,
            metavar="S",
            flag="--interval",
        ),
    ] = REFRESH_SECONDS
    stats_count: Annotated[
        int | None,
        Flag(
            "frames to show, then exit (default: until the cells end)",
            "view",
            parse=positive_int,
            metavar="N",
            flag="--count",
        ),
    ] = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `stats` to the top-level parser."""
    parser = subparsers.add_parser(
        "stats",
        help="the live per-replica resource view of a cell that `python -m loadtest ui` runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=DEFAULT_UI_OUT,
        metavar="DIR",
        help=f"a cell folder of `ui`, or its results folder (default {DEFAULT_UI_OUT})",
    )
    StatsOptions.add_to(parser)
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Show the view; the exit code."""
    try:
        options = StatsOptions.resolve(args, os.environ)
    except OptionsError as error:
        print(f"loadtest stats: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    paths = find_states(args.dir)
    if not paths:
        print(
            f"loadtest stats: no cell of `python -m loadtest ui` is running in {args.dir} (no {STATE_FILE} there "
            f"or in its sub-folders); start one with `make ui`",
            file=sys.stderr,
        )
        return exitcodes.CANNOT_JUDGE
    return watch_cells(paths, sys.stdout, options.stats_interval, options.stats_count)
