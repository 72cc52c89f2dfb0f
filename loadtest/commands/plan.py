"""`python -m loadtest plan`: the perf workflow's matrix, one job per API replica count.

Prints `replicas=<JSON list>`, the line the workflow appends to $GITHUB_OUTPUT for
`strategy.matrix`: the `--replicas` given (the dispatch input), else the profile's `replicas`
from thresholds.yaml. Exit 2, with a message that names the problem, on a bad input or file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from loadtest import exitcodes
from loadtest.options import Options, comma_list, positive_int
from loadtest.runner.matrix import reject_duplicates
from loadtest.thresholds import DEFAULT_PATH, ThresholdsError, load_thresholds

DEFAULT_PROFILE = "ci"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """Add `plan` to the top-level parser."""
    parser = subparsers.add_parser(
        "plan",
        help="print the perf workflow's matrix (replicas=[...]) for $GITHUB_OUTPUT",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options = Options(parser, os.environ if environ is None else environ)
    matrix = parser.add_argument_group("matrix")
    options.add(
        matrix,
        "--replicas",
        "replica counts, e.g. 1,2 (default: the profile's)",
        type=comma_list(positive_int),
        metavar="N[,N...]",
    )
    options.add(matrix, "--profile", f"profile whose replicas are used (default {DEFAULT_PROFILE})", metavar="NAME")
    options.add(matrix, "--thresholds", f"the thresholds file (default {DEFAULT_PATH})", type=Path, metavar="PATH")
    parser.set_defaults(handler=handle)
    return parser


def plan_replicas(replicas: list[int] | None, profile: str, thresholds: Path) -> list[int]:
    """`replicas` when given, else the profile's; ValueError (ThresholdsError) names the problem."""
    if replicas is None:
        profiles = load_thresholds(thresholds).profiles
        if profile not in profiles:
            raise ValueError(f"{thresholds}: no profile {profile!r} (have: {', '.join(sorted(profiles))})")
        replicas = list(dict.fromkeys(spec.replicas for spec in profiles[profile].cell_specs()))
    reject_duplicates("replica count", replicas)
    return replicas


def handle(args: argparse.Namespace) -> int:
    """Print the matrix line; the exit code."""
    try:
        replicas = plan_replicas(args.replicas, args.profile or DEFAULT_PROFILE, args.thresholds or DEFAULT_PATH)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest plan: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    print(f"replicas={json.dumps(replicas)}")
    return exitcodes.PASSED
