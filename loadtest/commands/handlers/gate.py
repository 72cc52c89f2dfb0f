"""`python -m loadtest gate RUN_DIR`, once parsed: the folder judged, the files written, the tables printed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loadtest import exitcodes
from loadtest.commands.gate import GateOptions
from loadtest.gate.reading import GateInputError, read_stats
from loadtest.gate.run_folder import output_paths, read_run_record, write_cannot_judge, write_verdict
from loadtest.gate.verdict import evaluate
from loadtest.gate.verdict_summary import render_console
from loadtest.options import OptionsError
from loadtest.records import RecordError
from loadtest.scenario import ScenarioError, load_scenario
from loadtest.thresholds import ThresholdsError, load_thresholds


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
