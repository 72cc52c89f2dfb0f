"""`python -m loadtest plan`: the perf workflow's matrix, one job per API replica count.

Prints `replicas=<JSON list>`, the line the workflow appends to $GITHUB_OUTPUT for
`strategy.matrix`: the `--replicas` given (the dispatch input), else the profile's `replicas`
from thresholds.yaml. Each cell runs on a runner like this one, so the plan also warns (a
`::warning::` annotation on stderr, and `--summary` for the job summary) when a cell's CPU limits
plus one core for Locust exceed this machine's cores (`--cores`): that cell's figures would then
measure a starved load generator, not the API. Exit 2, with a message that names the problem,
on a bad input or file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from loadtest import exitcodes
from loadtest.options import Options, comma_list, positive_float, positive_int
from loadtest.runner.config import profile_cells
from loadtest.runner.linux.processes import usable_cores
from loadtest.runner.matrix import Cell, reject_duplicates
from loadtest.thresholds import DEFAULT_PATH, Profile, ThresholdsError, load_thresholds
from loadtest.util.units import format_cpus

DEFAULT_PROFILE = "ci"
LOCUST_CORES = 1
"""What a cell must leave free for Locust, at the least: one core."""


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
    options.add(
        matrix,
        "--cpus",
        "CPU limit per replica, e.g. 1.0 or 0.5,1.0 (default: the profile's); only for the cores warning",
        type=comma_list(positive_float),
        metavar="CPUS[,...]",
    )
    options.add(matrix, "--profile", f"profile whose replicas are used (default {DEFAULT_PROFILE})", metavar="NAME")
    options.add(matrix, "--thresholds", f"the thresholds file (default {DEFAULT_PATH})", type=Path, metavar="PATH")
    machine = parser.add_argument_group("the runner")
    options.add(
        machine,
        "--cores",
        "cores of the machine each cell runs on (default: this one's, from its CPU affinity)",
        type=positive_int,
        metavar="N",
    )
    options.add(
        machine,
        "--summary",
        "also append the warnings, in Markdown, to this file (the workflow's $GITHUB_STEP_SUMMARY)",
        type=Path,
        metavar="PATH",
    )
    parser.set_defaults(handler=handle)
    return parser


def plan_replicas(replicas: list[int] | None, profile: str, thresholds: Path) -> list[int]:
    """`replicas` when given, else the profile's; ValueError (ThresholdsError) names the problem."""
    if replicas is None:
        replicas = list(dict.fromkeys(spec.replicas for spec in read_profile(profile, thresholds).cell_specs()))
    reject_duplicates("replica count", replicas)
    return replicas


def read_profile(profile: str, thresholds: Path) -> Profile:
    """The profile of thresholds.yaml called `profile`; ValueError (ThresholdsError) names the problem."""
    profiles = load_thresholds(thresholds).profiles
    if profile not in profiles:
        raise ValueError(f"{thresholds}: no profile {profile!r} (have: {', '.join(sorted(profiles))})")
    return profiles[profile]


def planned_cells(profile: Profile, replicas: list[int], cpus: list[float] | None) -> list[Cell]:
    """The cells the perf jobs will run: one job per replica count, each `run --replicas N` on the profile."""
    cells: dict[str, Cell] = {}
    for count in replicas:
        for cell in profile_cells(profile, [count], cpus, None):
            cells.setdefault(cell.name, cell)
    return list(cells.values())


def crowded_cells(cells: list[Cell], cores: int) -> list[str]:
    """One warning per cell whose CPU limits, with a core for Locust, need more than `cores`."""
    warnings = []
    for cell in cells:
        needed = cell.total_cpus + LOCUST_CORES
        if needed > cores + 1e-9:
            warnings.append(
                f"cell {cell.name}: {cell.replicas} x {format_cpus(cell.cpus)} CPU for the API "
                f"+ {LOCUST_CORES} core for Locust = {needed:g} cores, but the runner has {cores}; Locust and "
                "the replicas will share cores, so the cell measures the load generator as much as the API"
            )
    return warnings


def handle(args: argparse.Namespace) -> int:
    """Print the matrix line, warn about cells the runner cannot hold; the exit code."""
    profile, thresholds = args.profile or DEFAULT_PROFILE, args.thresholds or DEFAULT_PATH
    try:
        replicas = plan_replicas(args.replicas, profile, thresholds)
        cells = planned_cells(read_profile(profile, thresholds), replicas, args.cpus)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest plan: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    cores = args.cores or usable_cores()
    warnings = crowded_cells(cells, cores)
    for warning in warnings:
        print(f"::warning title=Runner too small for a cell::{warning}", file=sys.stderr)
    if warnings and args.summary is not None:
        lines = "".join(f"- {warning}\n" for warning in warnings)
        with args.summary.open("a", encoding="utf-8") as summary:
            summary.write(
                f"### ⚠️ The runner has {cores} cores: too few for some cells\n\n{lines}\n"
                "Run them on a larger runner (public repositories' standard runners have 4 vCPUs, private "
                "repositories' 2), or plan fewer replicas or smaller CPU limits.\n\n"
            )
    print(f"replicas={json.dumps(replicas)}")
    return exitcodes.PASSED
