"""`python -m loadtest run`: the replica matrix under CPU/memory limits, Locust, the gate.

Defaults come from a profile in thresholds.yaml (`--profile`, default `local`); every flag given
(or its environment variable) overrides the profile's value. Before the cells, one Locust process
is measured against a server that costs nothing (what this machine's Locust can deliver). Exit 0
when every cell passes, 1 when a cell breaches the SLO, 2 when the run could not be made (the
message says what failed), 3 when a cell was inconclusive (Locust was the limit, limits not enforced).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from loadtest import exitcodes
from loadtest.runner.backends import Backend, BackendError, open_backend
from loadtest.runner.matrix_run import MatrixRun
from loadtest.runner.run_options import BackendSettings, RunOptions, run_config
from loadtest.thresholds import ThresholdsError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `run` to the top-level parser."""
    parser = subparsers.add_parser(
        "run",
        help="run the replica matrix under CPU/memory limits with Locust, and gate every cell",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    RunOptions.add_to(parser)
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the matrix; the exit code."""
    prepared = prepare("run", args, run_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return MatrixRun(config, backend, cwd=Path.cwd()).run()


class _Configured(Protocol):
    @property
    def backend(self) -> BackendSettings: ...


C = TypeVar("C", bound=_Configured)


def prepare(
    command: str, args: argparse.Namespace, configure: Callable[[argparse.Namespace, Mapping[str, str]], C]
) -> tuple[C, Backend] | int:
    """Layer the options (this process's environment under the flags), open the backend: both, or the
    exit code after a message that says what is wrong."""
    try:
        config = configure(args, os.environ)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest {command}: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    try:
        backend = open_backend(config.backend, Path.cwd())
    except BackendError as error:
        print(f"loadtest {command}: the {config.backend.name} backend cannot be used: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    return config, backend
