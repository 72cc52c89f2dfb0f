"""`python -m loadtest compare`, once parsed: the options layered, then the comparison run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loadtest import exitcodes
from loadtest.compare.compare_options import compare_config
from loadtest.compare.session import run_comparison
from loadtest.thresholds import ThresholdsError


def handle(args: argparse.Namespace) -> int:
    """Run the comparison; the exit code."""
    try:
        config = compare_config(args, os.environ)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest compare: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    # The repository the command runs in: its revisions are compared, Locust runs from here for both sides.
    return run_comparison(config, Path.cwd())
