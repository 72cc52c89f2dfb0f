"""`python -m loadtest compare`: did this change make the service slower than its base?

Base and head run on this machine, alternately, in randomised blocks of one trial each (A B, B A,
...), in the same cell under the same load; each trial is a short run whose ramp is not judged. Per
metric, the blocks' log-ratios head/base give a confidence interval of the change, and the margin
delta decides: regressed, improved, no change, or inconclusive. Process backend: --base and --head
are git revisions, each in a temporary worktree with its own venv and model (--head defaults to the
working tree as it is). Compose backend: they are images (--head defaults to --image).
Defaults come from a profile of thresholds.yaml (its load, its first cell, its `compare:` block).
Exit 0 no change or improved, 1 regressed, 2 cannot judge (a side that cannot start, named), 3
inconclusive. Reference: docs/compare.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from loadtest import exitcodes
from loadtest.commands.run import add_profile_options
from loadtest.compare import run_comparison
from loadtest.compare.config import DEFAULT_OUT, DEFAULT_PROFILE, merge_compare_config
from loadtest.options import (
    Options,
    at_least_two,
    memory_size,
    open_fraction,
    positive_float,
    positive_int,
    run_time,
    seed,
)
from loadtest.runner.config import add_backend_options
from loadtest.thresholds import DEFAULT_PATH, ThresholdsError, describe_validation_error, load_thresholds


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """Add `compare` to the top-level parser."""
    parser = subparsers.add_parser(
        "compare",
        help="compare the head with a base on this machine, interleaved, judged by statistics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options = Options(parser, os.environ if environ is None else environ)
    sides = parser.add_argument_group("sides", "what is compared")
    options.add(sides, "--base", "the base: a git revision (compose: an image reference); required", metavar="REV")
    options.add(
        sides,
        "--head",
        "the head: a git revision (default: the working tree as it is; compose: an image, default --image)",
        metavar="REV",
    )
    options.add(
        sides,
        "--api-command",
        "both sides' server instead of python -m api, with {port}; each runs in its own checkout",
        metavar="CMD",
    )
    options.add(sides, "--base-api-command", "the base's server command only (wins over --api-command)", metavar="CMD")
    options.add(sides, "--head-api-command", "the head's server command only (wins over --api-command)", metavar="CMD")

    add_profile_options(parser, options, default=DEFAULT_PROFILE)

    trials = parser.add_argument_group("trials", "how many, how long, how judged (default: the profile's compare:)")
    options.add(
        trials, "--trials", "trials of each side, in as many blocks (at least 2)", type=at_least_two, metavar="N"
    )
    options.add(
        trials, "--run-time", "each trial's length, ramp included, Locust syntax: 20s, 1m", type=run_time, metavar="T"
    )
    options.add(trials, "--delta", "the margin: no change within a factor 1 + delta (0.1 = 10%%)", type=open_fraction)
    options.add(trials, "--seed", "the seed of the blocks' random order (default: a random one, recorded)", type=seed)

    cell = parser.add_argument_group("cell", "the one cell both sides run in (default: the profile's first)")
    options.add(cell, "--replicas", "API replicas", type=positive_int, metavar="N")
    options.add(cell, "--cpus", "CPU limit per replica (Docker's --cpus)", type=positive_float, metavar="CPUS")
    options.add(cell, "--memory", "memory limit per replica, Docker syntax: 512m, 1g", type=memory_size, metavar="SIZE")

    load = parser.add_argument_group("load", "the same for both sides, from this checkout")
    options.add(load, "--users", "concurrent Locust users", type=positive_int, metavar="N")
    options.add(load, "--spawn-rate", "users started per second", type=positive_float, metavar="R")
    backend = parser.add_argument_group(
        "backend", "where the replicas run (compose: --base and --head are images; --image is the head's default)"
    )
    add_backend_options(options, backend, load)

    output = parser.add_argument_group("output")
    options.add(
        output,
        "--out",
        f"folder for comparison.json/.md/.png and trials/ (default {DEFAULT_OUT})",
        type=Path,
        metavar="DIR",
    )
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the comparison; the exit code."""
    if not args.base:
        print("loadtest compare: give --base: a git revision such as main (compose: an image)", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    thresholds_path = args.thresholds or DEFAULT_PATH
    try:
        thresholds = load_thresholds(thresholds_path)
        config = merge_compare_config(args, thresholds, thresholds_path)
    except ValidationError as error:
        print(f"loadtest compare: {describe_validation_error(error)}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest compare: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    # The repository the command runs in: its revisions are compared, Locust runs from here for both sides.
    return run_comparison(config, Path.cwd())
