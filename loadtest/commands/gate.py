"""`python -m loadtest gate RUN_DIR`: judge one Locust run against thresholds.yaml.

Exit codes (loadtest.exitcodes): 0 pass, 1 breach, 2 the input cannot be judged (the one-line
message on stderr says which file and why), 3 inconclusive. With the runner's run.json in RUN_DIR
it reaches the same outcome as the runner did.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest import exitcodes
from loadtest.gate import (
    GateInputError,
    evaluate,
    output_paths,
    read_run_record,
    read_stats,
    render_console,
    write_cannot_judge,
    write_verdict,
)
from loadtest.locust_contract import CSV_PREFIX
from loadtest.options import CommandOptions, Flag, OptionsError, output_flag
from loadtest.records import RecordError
from loadtest.scenario import ScenarioError, load_scenario
from loadtest.thresholds import DEFAULT_PATH, ThresholdsError, load_thresholds


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
    parser.set_defaults(handler=gate_command)
    return parser


def gate_command(args: argparse.Namespace) -> int:
    """Judge RUN_DIR; print the tables (stdout) or why it cannot be judged (stderr)."""
    try:
        options = GateOptions.resolve(args, os.environ)
    except OptionsError as error:
        # Before any output path is known: nothing is written.
        print(f"gate: cannot judge: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    json_path, summary_path = output_paths(args.run_dir, options.verdict_json, options.summary)
    try:
        slo = load_thresholds(options.thresholds).slo
        stats = read_stats(args.run_dir, options.csv_prefix)
        record = read_run_record(args.run_dir)
        scenario = load_scenario(options.scenario_file) if options.scenario_file is not None else None
        verdict = evaluate(stats, slo, record, scenario)
    except (ThresholdsError, GateInputError, RecordError, ScenarioError) as error:
        return _cannot_judge(str(error), json_path, summary_path)
    try:
        write_verdict(stats, verdict, json_path, summary_path, record)
    except OSError as error:
        return _cannot_judge(f"{error.filename}: cannot write: {error.strerror}", json_path, summary_path)
    sys.stdout.write(render_console(stats, verdict))
    return exitcodes.BY_OUTCOME[verdict.outcome]


def _cannot_judge(reason: str, json_path: Path, summary_path: Path) -> int:
    print(f"gate: cannot judge: {reason}", file=sys.stderr)
    try:
        write_cannot_judge(reason, json_path, summary_path)
    except OSError as error:
        print(f"gate: {error.filename}: cannot write: {error.strerror}", file=sys.stderr)
    return exitcodes.CANNOT_JUDGE
