"""`python -m loadtest verdict`, once parsed: the check decided from the jobs' results and artifacts."""

from __future__ import annotations

import argparse
import os
import sys

from loadtest import exitcodes
from loadtest.commands.verdict import VerdictOptions
from loadtest.options import OptionsError
from loadtest.util.files import write_atomic
from loadtest.workflow.check import NeedsError, decide, parse_needs, render_markdown


def handle(args: argparse.Namespace) -> int:
    """Decide the check, print its reasons as annotations; the exit code."""
    try:
        options = VerdictOptions.resolve(args, os.environ)
    except OptionsError as error:
        print(f"loadtest verdict: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    if not options.needs:
        print("loadtest verdict: give --needs: the gate job's ${{ toJSON(needs) }}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    try:
        needs = parse_needs(options.needs, ("plan", "build", "perf", "compare"))
        decision = decide(options.mode, needs, options.cells, options.comparison, options.verdict_out)
    except NeedsError as error:
        print(f"loadtest verdict: --needs: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    if decision.report is not None:
        sys.stdout.write(decision.report.console)
    for finding in decision.findings:
        prefix = {"error": "::error::", "notice": "::notice::", "info": ""}[finding.level]
        print(f"{prefix}{finding.text}")
    print("perf gate: " + ("passed" if decision.passed else "failed"))
    if options.markdown is not None:
        write_atomic(options.markdown, render_markdown(decision))
    return decision.code
