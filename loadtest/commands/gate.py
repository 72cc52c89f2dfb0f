"""`python -m loadtest gate RUN_DIR`: judge one Locust run against thresholds.yaml.

Exit codes (loadtest.exitcodes): 0 pass, 1 breach, 2 the input cannot be judged (the one-line
message on stderr says which file and why), 3 inconclusive. With the runner's run.json in RUN_DIR
it reaches the same outcome as the runner did.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest.commands.lazy import Deferred
from loadtest.locust_contract import CSV_PREFIX
from loadtest.options import CommandOptions, Flag, output_flag
from loadtest.thresholds import DEFAULT_PATH


class GateOptions(CommandOptions):
    """The options of `python -m loadtest gate`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"input": ("input", None), "output": ("output", None)}

    thresholds: Annotated[
        Path, Flag(f"the thresholds file (default: {DEFAULT_PATH})", "input", parse=Path, metavar="PATH")
    ] = DEFAULT_PATH
    scenario_file: Annotated[
        Path | None,
        Flag(
            "the scenario the run followed, for the delivery check of a run whose run.json records none (Locust "
            "run by hand, a locustfile of your own); docs/scenario.md",
            "input",
            parse=Path,
            metavar="FILE",
            flag="--scenario",
        ),
    ] = None
    csv_prefix: Annotated[
        str,
        Flag(f"file part of Locust's --csv prefix (default: {CSV_PREFIX})", "input", metavar="NAME", flag="--prefix"),
    ] = CSV_PREFIX
    verdict_json: Annotated[
        Path | None,
        output_flag("where to write verdict.json (default: RUN_DIR/verdict.json)", metavar="PATH", flag="--json"),
    ] = None
    summary: Annotated[
        Path | None,
        output_flag(
            'where to write the Markdown summary, e.g. "$GITHUB_STEP_SUMMARY" (default: RUN_DIR/summary.md)',
            metavar="PATH",
        ),
    ] = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the `gate` subcommand."""
    parser = subparsers.add_parser(
        "gate",
        help="judge one Locust run against thresholds.yaml (exit 0 pass, 1 breach, 2 cannot judge, 3 inconclusive)",
        description=(
            "Read Locust's CSVs from RUN_DIR (and the runner's run.json there, when there is one), check every "
            "limit of thresholds.yaml's slo block and whether the run measured the service, print a table, and "
            "write verdict.json, timeline.png and a Markdown summary. Exit codes: 0 pass, 1 breach, 2 the input "
            "cannot be judged, 3 inconclusive (Locust was the limit, or the limits were not enforced)."
        ),
    )
    groups = GateOptions.add_to(parser)
    groups["input"].add_argument(
        "run_dir",
        metavar="RUN_DIR",
        type=Path,
        help="folder holding locust_stats.csv, locust_failures.csv, locust_exceptions.csv and "
        "locust_stats_history.csv (Locust's --csv RUN_DIR/locust --csv-full-history)",
    )
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.gate", "gate_command"))
    return parser
