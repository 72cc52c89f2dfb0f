"""`python -m loadtest gate RUN_DIR`: judge one Locust run against thresholds.yaml.

Exit codes (loadtest.exitcodes): 0 every check passed, 1 a limit was breached, 2 the input
cannot be judged (the one-line message on stderr says which file and why).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loadtest import exitcodes
from loadtest.gate import (
    DEFAULT_PREFIX,
    GateInputError,
    evaluate,
    output_paths,
    read_run,
    render_console,
    write_cannot_judge,
    write_verdict,
)
from loadtest.thresholds import DEFAULT_PATH, ThresholdsError, load_thresholds


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `gate` subcommand."""
    parser = subparsers.add_parser(
        "gate",
        help="judge one Locust run against thresholds.yaml (exit 0 pass, 1 breach, 2 cannot judge)",
        description=(
            "Read Locust's CSVs from RUN_DIR, check every limit of thresholds.yaml's slo block, "
            "print a table, and write verdict.json and a Markdown summary. "
            "Exit codes: 0 pass, 1 a limit is breached, 2 the input cannot be judged."
        ),
    )
    inputs = parser.add_argument_group("input")
    inputs.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        type=Path,
        help="folder holding locust_stats.csv, locust_failures.csv, locust_exceptions.csv and "
        "locust_stats_history.csv (Locust's --csv RUN_DIR/locust --csv-full-history)",
    )
    inputs.add_argument(
        "--thresholds",
        metavar="PATH",
        type=Path,
        default=Path(os.environ.get("GATE_THRESHOLDS", DEFAULT_PATH)),
        help="the thresholds file (default: %(default)s) [env GATE_THRESHOLDS]",
    )
    inputs.add_argument(
        "--prefix",
        metavar="NAME",
        default=os.environ.get("GATE_CSV_PREFIX", DEFAULT_PREFIX),
        help="file part of Locust's --csv prefix (default: %(default)s) [env GATE_CSV_PREFIX]",
    )
    outputs = parser.add_argument_group("output")
    outputs.add_argument(
        "--json",
        metavar="PATH",
        type=Path,
        default=_env_path("GATE_JSON"),
        help="where to write verdict.json (default: RUN_DIR/verdict.json) [env GATE_JSON]",
    )
    outputs.add_argument(
        "--summary",
        metavar="PATH",
        type=Path,
        default=_env_path("GATE_SUMMARY"),
        help="where to write the Markdown summary, e.g. \"$GITHUB_STEP_SUMMARY\" "
        "(default: RUN_DIR/summary.md) [env GATE_SUMMARY]",
    )
    parser.set_defaults(handler=gate_command)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def gate_command(args: argparse.Namespace) -> int:
    """Judge RUN_DIR; print the tables (stdout) or why it cannot be judged (stderr)."""
    json_path, summary_path = output_paths(args.run_dir, args.json, args.summary)
    try:
        slo = load_thresholds(args.thresholds).slo
        run = read_run(args.run_dir, args.prefix)
        verdict = evaluate(run, slo)
    except (ThresholdsError, GateInputError) as error:
        return _cannot_judge(str(error), json_path, summary_path)
    try:
        write_verdict(run, verdict, slo, json_path, summary_path)
    except OSError as error:
        return _cannot_judge(f"{error.filename}: cannot write: {error.strerror}", json_path, summary_path)
    sys.stdout.write(render_console(run, verdict))
    return exitcodes.PASSED if verdict.passed else exitcodes.BREACHED


def _cannot_judge(reason: str, json_path: Path, summary_path: Path) -> int:
    print(f"gate: cannot judge: {reason}", file=sys.stderr)
    try:
        write_cannot_judge(reason, json_path, summary_path)
    except OSError as error:
        print(f"gate: {error.filename}: cannot write: {error.strerror}", file=sys.stderr)
    return exitcodes.CANNOT_JUDGE
