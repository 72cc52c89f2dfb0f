"""`python -m loadtest compare`: did this change make the service slower than its base?

Base and head run on this machine in blocks, in the same cell under the same load: both at once on the
same cores where the machine allows (a duet), else one after the other in balanced orders (interleaved).
Each side's trial in a block has two phases: its capacity under saturating users, then a fixed open-loop
load (CPU time per request, latency). Blocks are added until the verdict is decided or the budget is spent;
per metric, the blocks' log-ratios head/base give a confidence interval of the change, and the margin delta
decides: regressed, improved, no change, or inconclusive. Process backend: --base and --head
are git revisions, each in a temporary worktree with its own venv and model (--head defaults to the
working tree as it is). Compose backend: they are images (--head defaults to --image).
Defaults come from a profile of thresholds.yaml (its load, its first cell, its `compare:` block).
Exit 0 no change or improved, 1 regressed, 2 cannot judge (a side that cannot start, named), 3
inconclusive. Reference: docs/compare.md.
"""

from __future__ import annotations

import argparse

from loadtest.commands.lazy import Deferred
from loadtest.compare.compare_options import CompareOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `compare` to the top-level parser."""
    parser = subparsers.add_parser(
        "compare",
        help="compare the head with a base on this machine, both at once where it allows, judged by statistics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    CompareOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.compare"))
    return parser
