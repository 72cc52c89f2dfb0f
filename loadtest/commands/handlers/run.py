"""`python -m loadtest run`, once parsed: the options layered, the backend opened, the matrix run.

`prepare` is shared with `search` and `ui`, which open a backend the same way.
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
from loadtest.runner.run_options import BackendSettings, run_config
from loadtest.thresholds import ThresholdsError


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
