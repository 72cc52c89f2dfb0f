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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from loadtest import exitcodes
from loadtest.compare.compare_options import COMPARE_PROFILE
from loadtest.options import Flag, ProfileOptions, choice, comma_list, duration, positive_float, positive_int
from loadtest.runner.linux.processes import usable_cores
from loadtest.runner.matrix import Cell, reject_duplicates
from loadtest.runner.run_options import profile_cells
from loadtest.scenario import Scenario, chosen_scenario
from loadtest.scenario.model import QUICK_REPLY_MS
from loadtest.thresholds import Profile, Thresholds, ThresholdsError
from loadtest.util.units import Duration, format_cpus

PLAN_PROFILE = "ci"
"""The profile whose replicas the perf workflow runs unless the dispatch gives others."""
# The compare job runs loadtest.compare.compare_options.COMPARE_PROFILE (`--profile compare`): its
# trials are what the compare mode checks against the job's timeout.

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


class PlanOptions(ProfileOptions):
    """The options of `python -m loadtest plan`: the dispatch's inputs, the jobs' timeouts, the runner."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        "matrix": ("matrix", None),
        "profile": ("matrix", None),
        "jobs": ("the jobs' timeouts (their timeout-minutes in perf.yml)", None),
        "machine": ("the runner", None),
    }

    replicas: Annotated[
        list[int],
        Flag(
            "replica counts, e.g. 1,2 (default: the profile's)",
            "matrix",
            parse=comma_list(positive_int),
            metavar="N[,N...]",
        ),
    ]
    cpus: Annotated[
        list[float] | None,
        Flag(
            "CPU limit per replica, e.g. 1.0 or 0.5,1.0 (default: the profile's); for the cores check",
            "matrix",
            parse=comma_list(positive_float),
            metavar="CPUS[,...]",
        ),
    ] = None
    users: Annotated[int, Flag("peak Locust users (default: the profile's)", "matrix", parse=positive_int, metavar="N")]
    spawn_rate: Annotated[
        float, Flag("users started per second (default: the profile's)", "matrix", parse=positive_float, metavar="N")
    ]
    run_time: Annotated[
        Duration, Flag("each cell's load, e.g. 2m (default: the profile's)", "matrix", parse=duration, metavar="T")
    ]
    profile: Annotated[
        str, Flag(f"profile whose replicas are used (default {PLAN_PROFILE})", "profile", metavar="NAME")
    ] = PLAN_PROFILE
    mode: Annotated[
        str,
        Flag(
            "the dispatch's mode: matrix, search or compare (default matrix): what is checked",
            "matrix",
            parse=choice("matrix", "search", "compare"),
            metavar="MODE",
        ),
    ] = "matrix"
    budget: Annotated[
        Duration | None,
        Flag("search: the whole search's length (default: the profile's)", "matrix", parse=duration, metavar="T"),
    ] = None
    # The file the cells will run (`run --scenario`, the same variable LOADTEST_SCENARIO_FILE): its asked
    # rate sets Locust's cores, so a workflow that names another scenario is planned for that one.
    scenario_file: Annotated[
        Path | None,
        Flag(
            "the scenario file the cells run, whose asked rate sets Locust's cores (default: the profile's "
            "scenario_file, else the workshop's)",
            "matrix",
            parse=Path,
            metavar="FILE",
            flag="--scenario",
        ),
    ] = None
    cell_minutes: Annotated[
        int | None,
        Flag(
            "the timeout of a perf cell job, in minutes (default: not checked)",
            "jobs",
            parse=positive_int,
            metavar="MIN",
        ),
    ] = None
    search_minutes: Annotated[
        int | None,
        Flag(
            "the timeout of the search job, in minutes (default: not checked)",
            "jobs",
            parse=positive_int,
            metavar="MIN",
        ),
    ] = None
    compare_minutes: Annotated[
        int | None,
        Flag(
            "the timeout of the compare job, in minutes (default: not checked)",
            "jobs",
            parse=positive_int,
            metavar="MIN",
        ),
    ] = None
    cores: Annotated[
        int | None,
        Flag(
            "cores of the machine each cell runs on (default: this one's, from its CPU affinity)",
            "machine",
            parse=positive_int,
            metavar="N",
        ),
    ] = None
    summary: Annotated[
        Path | None,
        Flag(
            "also append the refusals, in Markdown, to this file (the workflow's $GITHUB_STEP_SUMMARY)",
            "machine",
            parse=Path,
            metavar="PATH",
        ),
    ] = None

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        return {
            "replicas": list(dict.fromkeys(spec.replicas for spec in profile.cell_specs())),
            "users": profile.users,
            "spawn_rate": profile.spawn_rate,
            "run_time": profile.run_time,
            "budget": profile.search.budget if profile.search is not None else None,
        }


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `plan` to the top-level parser."""
    parser = subparsers.add_parser(
        "plan",
        help="print the perf workflow's matrix (replicas=[...]) for $GITHUB_OUTPUT",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    PlanOptions.add_to(parser)
    parser.set_defaults(handler=handle)
    return parser


def planned_cells(profile: Profile, replicas: list[int], cpus: list[float] | None) -> list[Cell]:
    """The cells the perf jobs will run: one job per replica count, each `run --replicas N` on the profile."""
    cells: dict[str, Cell] = {}
    for count in replicas:
        for cell in profile_cells(profile, [count], cpus, None):
            cells.setdefault(cell.name, cell)
    return list(cells.values())


def locust_cores(scenario: Scenario, users: int) -> int:
    """The cores Locust needs for `users` users of `scenario`: their asked rate (at replies of 10 ms for
    users without a constant rate) per ~1,700 req/s and the users per ~5,000, whichever needs more."""
    asked = scenario.asked_rps(users, QUICK_REPLY_MS)
    return max(1, math.ceil(asked / RPS_PER_LOCUST_CORE - 1e-9), math.ceil(users / USERS_PER_LOCUST_CORE - 1e-9))


def crowded_cells(cells: list[Cell], cores: int, locust: int, scenario: Scenario, users: int) -> list[Refusal]:
    """One refusal per cell whose CPU limits, with Locust's cores, need more than the runner's `cores`."""
    asked = scenario.asked_rps(users, QUICK_REPLY_MS)
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


def cell_time_refusal(users: int, spawn_rate: float, length: Duration, minutes: int) -> Refusal | None:
    """A refusal when one cell's ramp, run_time and the job's set-up cannot fit in `minutes`."""
    ramp = users / spawn_rate
    needed = ramp + length.seconds + JOB_SETUP_SECONDS
    if needed <= minutes * 60:
        return None
    longest = max(0, math.floor((minutes * 60 - ramp - JOB_SETUP_SECONDS) / 60))
    return Refusal(
        f"run_time {length}: a cell job needs ~{_minutes(needed)} ({length} of load + {ramp:.0f} s of ramp + "
        f"~{JOB_SETUP_SECONDS // 60} min to set up, calibrate and gate), over the perf job's timeout-minutes "
        f"{minutes}: give at most {longest}m"
    )


def budget_refusal(budget: Duration, minutes: int) -> Refusal | None:
    """A refusal when the search's budget and the job's set-up cannot fit in `minutes`."""
    needed = budget.seconds + JOB_SETUP_SECONDS
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
    # Each trial is two phases (capacity, then the fixed load), a cell each; the budget stops it earlier.
    phases = settings.run_time.seconds + settings.load_time.seconds + 2 * TRIAL_SETUP_SECONDS
    needed = min(trials * phases, settings.budget.seconds) + JOB_SETUP_SECONDS
    if needed <= minutes * 60:
        return None
    return Refusal(
        f"the {COMPARE_PROFILE} profile's {trials} trials of {settings.run_time} + {settings.load_time} (capacity, "
        f"then the fixed load) within its budget of {settings.budget} need ~{_minutes(needed)} (each phase "
        f"~{TRIAL_SETUP_SECONDS} s to start and stop, the job ~{JOB_SETUP_SECONDS // 60} min to set up), over the "
        f"compare job's timeout-minutes {minutes}: fewer trials, shorter ones or a smaller budget in thresholds.yaml"
    )


def refusals(options: PlanOptions, thresholds: Thresholds, profile: Profile) -> list[Refusal]:
    """Everything the plan refuses in the dispatch's mode; ValueError names a missing compare profile."""
    found: list[Refusal | None] = []
    if options.mode == "matrix":
        cells = planned_cells(profile, options.replicas, options.cpus)
        cores = options.cores or usable_cores()
        # The profile's scenario at its paces (ScenarioError, a ValueError, names a file that cannot be used).
        scenario = chosen_scenario(
            options.scenario_file, profile.scenario_file, profile.pace, options.thresholds, options.profile
        )
        found += crowded_cells(cells, cores, locust_cores(scenario, options.users), scenario, options.users)
        if options.cell_minutes is not None:
            found.append(cell_time_refusal(options.users, options.spawn_rate, options.run_time, options.cell_minutes))
    elif options.mode == "search" and options.search_minutes is not None and options.budget is not None:
        found.append(budget_refusal(options.budget, options.search_minutes))
    elif options.mode == "compare" and options.compare_minutes is not None:
        compare = thresholds.profile(COMPARE_PROFILE, options.thresholds)
        found.append(compare_refusal(compare, options.compare_minutes))
    return [refusal for refusal in found if refusal is not None]


def handle(args: argparse.Namespace) -> int:
    """Print the matrix line, or refuse what cannot run; the exit code."""
    try:
        options, thresholds, profile = PlanOptions.resolve_with_profile(args, os.environ)
        reject_duplicates("replica count", options.replicas)
        refused = refusals(options, thresholds, profile)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest plan: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    for refusal in refused:
        print(f"::error title=The plan refuses::{refusal.text}", file=sys.stderr)
    if refused:
        if options.summary is not None:
            lines = "".join(f"- {refusal.text}\n" for refusal in refused)
            with options.summary.open("a", encoding="utf-8") as summary:
                summary.write(f"### ❌ The plan refuses this run ({options.mode} mode)\n\n{lines}\n")
        return exitcodes.CANNOT_JUDGE
    print(f"replicas={json.dumps(options.replicas)}")
    return exitcodes.PASSED
