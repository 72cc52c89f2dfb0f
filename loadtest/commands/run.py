"""`python -m loadtest run`: the replica matrix under CPU/memory limits, Locust, the gate.

Defaults come from a profile in thresholds.yaml (`--profile`, default `local`); every flag given
(or its environment variable) overrides the profile's value. Before the cells, one Locust process
is measured against a server that costs nothing (what this machine's Locust can deliver). Exit 0
when every cell passes, 1 when a cell breaches the SLO, 2 when the run could not be made (the
message says what failed), 3 when a cell was inconclusive (Locust was the limit, limits not enforced).
"""

from __future__ import annotations

import argparse

from loadtest.commands.lazy import Deferred
from loadtest.runner.run_options import RunOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `run` to the top-level parser."""
    parser = subparsers.add_parser(
        "run",
        help="run the replica matrix under CPU/memory limits with Locust, and gate every cell",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    RunOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.run"))
    return parser
