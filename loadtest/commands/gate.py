"""`python -m loadtest gate RUN_DIR`: judge one Locust run against thresholds.yaml.

Exit codes (loadtest.exitcodes): 0 pass, 1 breach, 2 the input cannot be judged (the one-line
message on stderr says which file and why), 3 inconclusive. With the runner's run.json in RUN_DIR
it reaches the same outcome as the runner did.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

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
from loadtest.options import Options
from loadtest.records import RecordError
from loadtest.thresholds import DEFAULT_PATH, ThresholdsError, load_thresholds


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
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
    options = Options(parser, os.environ if environ is None else environ)
    inputs = parser.add_argument_group("input")
    inputs.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        type=Path,
        help="folder holding locust_stats.csv, locust_failures.csv, locust_exceptions.csv and "
        "locust_stats_history.csv (Locust's --csv RUN_DIR/locust --csv-full-history)",
    )
    options.add(inputs, "--thresholds", f"the thresholds file (default: {DEFAULT_PATH})", type=Path, metavar="PATH")
    options.add(
        inputs,
        "--prefix",
        f"file part of Locust's --csv prefix (default: {CSV_PREFIX})",
        env="LOADTEST_CSV_PREFIX",
        metavar="NAME",
    )
    outputs = parser.add_argument_group("output")
    options.add(
        outputs,
        "--json",
        "where to write verdict.json (default: RUN_DIR/verdict.json)",
        env="LOADTEST_VERDICT_JSON",
        type=Path,
        metavar="PATH",
    )
    options.add(
        outputs,
        "--summary",
        'where to write the Markdown summary, e.g. "$GITHUB_STEP_SUMMARY" (default: RUN_DIR/summary.md)',
        type=Path,
        metavar="PATH",
    )
    parser.set_defaults(handler=gate_command)
    return parser


def gate_command(args: argparse.Namespace) -> int:
    """Judge RUN_DIR; print the tables (stdout) or why it cannot be judged (stderr)."""
    json_path, summary_path = output_paths(args.run_dir, args.json, args.summary)
    try:
        slo = load_thresholds(args.thresholds or DEFAULT_PATH).slo
        stats = read_stats(args.run_dir, args.prefix or CSV_PREFIX)
        record = read_run_record(args.run_dir)
        verdict = evaluate(stats, slo, record)
    except (ThresholdsError, GateInputError, RecordError) as error:
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
