"""`python -m loadtest report DIR...`, once parsed: the cells collected, the report written and printed."""

from __future__ import annotations

import argparse
import os
import sys

from loadtest import exitcodes
from loadtest.commands.report import ReportOptions
from loadtest.options import OptionsError
from loadtest.records import SUMMARY_FILE
from loadtest.report import ReportError, collect_cell, find_cell_folders, write_report


def handle(args: argparse.Namespace) -> int:
    """Collect the cells, write the report, print it; the exit code."""
    try:
        out = ReportOptions.resolve(args, os.environ).report_out
    except OptionsError as error:
        print(f"loadtest report: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    if out is None:
        if len(args.dirs) > 1:
            print("loadtest report: several folders given: say where the report goes with --out DIR", file=sys.stderr)
            return exitcodes.CANNOT_JUDGE
        out = args.dirs[0]
    try:
        cells = [collect_cell(folder) for folder in find_cell_folders(args.dirs)]
        report = write_report(cells, out)
    except ReportError as error:
        print(f"loadtest report: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    sys.stdout.write(report.console)
    print(f"\nReport: {out / SUMMARY_FILE}")
    return report.code
