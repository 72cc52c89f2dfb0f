"""`python -m loadtest plan`: the perf workflow's matrix, and its refusals of what cannot run.

Prints `replicas=<JSON list>`, the line the workflow appends to $GITHUB_OUTPUT for
`strategy.matrix`: the `--replicas` given (the dispatch input), else the profile's `replicas`
from thresholds.yaml. Before any runner is spent on them, it refuses (exit 2, a `::error::`
annotation and, with --summary, the job summary), in the dispatch's --mode:

- matrix: a cell whose CPU limits plus the cores its Locust needs exceed the runner's (`--cores`,
  default this machine's: each cell runs on a runner like this one). Locust's cores come from the
  profile's asked rate and users and the README's planning figures, one core per ~1,700 req/s and
  per ~5,000 users, whichever needs more (the plan job has no calibration): a cell short of them
  measures its load generator and ends inconclusive. And a run_time that cannot fit in the perf
  job's timeout (`--cell-minutes`) with the ramp and the job's set-up;
- search: a budget that cannot fit in the search job's timeout (`--search-minutes`);
- compare: trials that cannot fit in the compare job's timeout (`--compare-minutes`).

Exit 2, with a message that names the problem, also on a bad input or file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loadtest import exitcodes
from loadtest.options import Options, choice, comma_list, positive_float, positive_int, run_time
from loadtest.runner.config import profile_cells
from loadtest.runner.linux.processes import usable_cores
from loadtest.runner.matrix import Cell, reject_duplicates
from loadtest.scenario.legacy import QUICK_REPLY_MS
from loadtest.thresholds import DEFAULT_PATH, Profile, ThresholdsError, load_thresholds
from loadtest.util.units import format_cpus, parse_run_time

DEFAULT_PROFILE = "ci"
COMPARE_PROFILE = "compare"
"""The profile the workflow's compare job runs (`--profile compare`)."""

RPS_PER_LOCUST_CORE = 1_700
USERS_PER_LOCUST_CORE = 5_000
"""The README's planning figures: one Locust core per ~1,700 req/s (60% of the ~2,800-3,100 req/s one
core delivered of this scenario, 2-core VM) and per ~5,000 users, whichever needs more."""

JOB_SETUP_SECONDS = 6 * 60
"""What a job spends besides its load, allowed for (not measured on GitHub's runners): check-out,
Python and `make install` (~1-2 min), downloading and loading the ~320 MB of images (~1-2 min),
the replicas' readiness, Locust's calibration and the gate or the report (~1 min), and margin."""
TRIAL_SETUP_SECONDS = 20
"""A comparison trial's own start and stop (compose up, readiness, teardown) besides its run_time."""


@dataclass(frozen=True)
class Refusal:
    """Why the plan refuses, in one line that names the cell or the input."""

    text: str


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
        "CPU limit per replica, e.g. 1.0 or 0.5,1.0 (default: the profile's); for the cores check",
        type=comma_list(positive_float),
        metavar="CPUS[,...]",
    )
    options.add(matrix, "--users", "peak Locust users (default: the profile's)", type=positive_int, metavar="N")
    options.add(
        matrix, "--spawn-rate", "users started per second (default: the profile's)", type=positive_float, metavar="N"
    )
    options.add(matrix, "--run-time", "each cell's load, e.g. 2m (default: the profile's)", type=run_time, metavar="T")
    options.add(matrix, "--profile", f"profile whose replicas are used (default {DEFAULT_PROFILE})", metavar="NAME")
    options.add(matrix, "--thresholds", f"the thresholds file (default {DEFAULT_PATH})", type=Path, metavar="PATH")
    options.add(
        matrix,
        "--mode",
        "the dispatch's mode: matrix, search or compare (default matrix): what is checked",
        type=choice("matrix", "search", "compare"),
        default="matrix",
        metavar="MODE",
    )
    options.add(
        matrix, "--budget", "search: the whole search's length (default: the profile's)", type=run_time, metavar="T"
    )
    jobs = parser.add_argument_group("the jobs' timeouts (their timeout-minutes in perf.yml)")
    for flag, job in (
        ("--cell-minutes", "a perf cell job"),
        ("--search-minutes", "the search job"),
        ("--compare-minutes", "the compare job"),
    ):
        options.add(
            jobs, flag, f"the timeout of {job}, in minutes (default: not checked)", type=positive_int, metavar="MIN"
        )
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
        "also append the refusals, in Markdown, to this file (the workflow's $GITHUB_STEP_SUMMARY)",
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


def locust_cores(profile: Profile, users: int) -> int:
    """The cores the profile's Locust needs for `users` users: their asked rate (at replies of 10 ms for
    users without a constant rate) per ~1,700 req/s and the users per ~5,000, whichever needs more."""
    asked = profile.scenario.asked_rps(users, QUICK_REPLY_MS)
    return max(1, math.ceil(asked / RPS_PER_LOCUST_CORE - 1e-9), math.ceil(users / USERS_PER_LOCUST_CORE - 1e-9))


def crowded_cells(cells: list[Cell], cores: int, locust: int, profile: Profile, users: int) -> list[Refusal]:
    """One refusal per cell whose CPU limits, with Locust's cores, need more than the runner's `cores`."""
    asked = profile.scenario.asked_rps(users, QUICK_REPLY_MS)
    refusals = []
    for cell in cells:
        needed = cell.total_cpus + locust
        if needed > cores + 1e-9:
            refusals.append(
                Refusal(
                    f"cell {cell.name} needs {needed:g} cores: {cell.replicas} x {format_cpus(cell.cpus)} CPU for the "
                    f"API + {locust} for Locust ({users:,} users asking ~{asked:,.0f} req/s, at "
                    f"~{RPS_PER_LOCUST_CORE:,} req/s and ~{USERS_PER_LOCUST_CORE:,} users per core), but the runner "
                    f"has {cores}: Locust would share the API's cores and the cell would end inconclusive. Use a "
                    "larger runner, or plan fewer replicas, smaller CPU limits or fewer users"
                )
            )
    return refusals


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def cell_time_refusal(profile: Profile, users: int, spawn_rate: float, length: str, minutes: int) -> Refusal | None:
    """A refusal when one cell's ramp, run_time and the job's set-up cannot fit in `minutes`."""
    ramp = users / spawn_rate
    needed = ramp + parse_run_time(length) + JOB_SETUP_SECONDS
    if needed <= minutes * 60:
        return None
    longest = max(0, math.floor((minutes * 60 - ramp - JOB_SETUP_SECONDS) / 60))
    return Refusal(
        f"run_time {length}: a cell job needs ~{_minutes(needed)} ({length} of load + {ramp:.0f} s of ramp + "
        f"~{JOB_SETUP_SECONDS // 60} min to set up, calibrate and gate), over the perf job's timeout-minutes "
        f"{minutes}: give at most {longest}m"
    )


def budget_refusal(budget: str, minutes: int) -> Refusal | None:
    """A refusal when the search's budget and the job's set-up cannot fit in `minutes`."""
    needed = parse_run_time(budget) + JOB_SETUP_SECONDS
    if needed <= minutes * 60:
        return None
    longest = max(0, (minutes * 60 - JOB_SETUP_SECONDS) // 60)
    return Refusal(
        f"budget {budget}: the search job needs ~{_minutes(needed)} ({budget} of search + ~{JOB_SETUP_SECONDS // 60} "
        f"min to set up), over its timeout-minutes {minutes}: give at most {longest}m"
    )


def compare_refusal(profile: Profile, minutes: int) -> Refusal | None:
    """A refusal when the compare profile's trials and the job's set-up cannot fit in `minutes`."""
    settings = profile.compare
    trials = 2 * settings.trials
    needed = trials * (parse_run_time(settings.run_time) + TRIAL_SETUP_SECONDS) + JOB_SETUP_SECONDS
    if needed <= minutes * 60:
        return None
    return Refusal(
        f"the {COMPARE_PROFILE} profile's {trials} trials of {settings.run_time} need ~{_minutes(needed)} (each "
        f"~{TRIAL_SETUP_SECONDS} s to start and stop, the job ~{JOB_SETUP_SECONDS // 60} min to set up), over the "
        f"compare job's timeout-minutes {minutes}: fewer trials or shorter ones in thresholds.yaml"
    )


def refusals(args: argparse.Namespace, profile_name: str, thresholds: Path, replicas: list[int]) -> list[Refusal]:
    """Everything the plan refuses in the dispatch's mode; ValueError (ThresholdsError) names a bad file."""
    profile = read_profile(profile_name, thresholds)
    users = args.users or profile.users
    found: list[Refusal | None] = []
    if args.mode == "matrix":
        cells = planned_cells(profile, replicas, args.cpus)
        found += crowded_cells(cells, args.cores or usable_cores(), locust_cores(profile, users), profile, users)
        if args.cell_minutes is not None:
            spawn_rate = args.spawn_rate or profile.spawn_rate
            found.append(
                cell_time_refusal(profile, users, spawn_rate, args.run_time or profile.run_time, args.cell_minutes)
            )
    elif args.mode == "search" and args.search_minutes is not None:
        budget = args.budget or (profile.search.budget if profile.search is not None else None)
        if budget is not None:
            found.append(budget_refusal(budget, args.search_minutes))
    elif args.mode == "compare" and args.compare_minutes is not None:
        found.append(compare_refusal(read_profile(COMPARE_PROFILE, thresholds), args.compare_minutes))
    return [refusal for refusal in found if refusal is not None]


def handle(args: argparse.Namespace) -> int:
    """Print the matrix line, or refuse what cannot run; the exit code."""
    profile, thresholds = args.profile or DEFAULT_PROFILE, args.thresholds or DEFAULT_PATH
    try:
        replicas = plan_replicas(args.replicas, profile, thresholds)
        refused = refusals(args, profile, thresholds, replicas)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest plan: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    for refusal in refused:
        print(f"::error title=The plan refuses::{refusal.text}", file=sys.stderr)
    if refused:
        if args.summary is not None:
            lines = "".join(f"- {refusal.text}\n" for refusal in refused)
            with args.summary.open("a", encoding="utf-8") as summary:
                summary.write(f"### ❌ The plan refuses this run ({args.mode} mode)\n\n{lines}\n")
        return exitcodes.CANNOT_JUDGE
    print(f"replicas={json.dumps(replicas)}")
    return exitcodes.PASSED
