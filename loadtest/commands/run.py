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
from loadtest.options import (
    Options,
    choice,
    comma_list,
    memory_size,
    positive_float,
    positive_int,
    run_time,
)
from loadtest.runner.backends import Backend, BackendError, open_backend
from loadtest.runner.config import (
    DEFAULT_OUT,
    DEFAULT_PROFILE,
    BackendSettings,
    add_backend_options,
    merge_config,
)
from loadtest.runner.matrix_run import MatrixRun
from loadtest.thresholds import DEFAULT_PATH, Thresholds, ThresholdsError, load_thresholds


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """Add `run` to the top-level parser."""
    parser = subparsers.add_parser(
        "run",
        help="run the replica matrix under CPU/memory limits with Locust, and gate every cell",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options = Options(parser, os.environ if environ is None else environ)
    add_profile_options(parser, options)

    add_matrix_options(
        parser.add_argument_group("matrix", "the cells: every replica count x CPU limit x memory limit"), options
    )
    load = add_load_options(parser, options)
    add_server_options(parser, options, load)

    output = parser.add_argument_group("output")
    options.add(
        output,
        "--out",
        f"results folder: one sub-folder per cell, matrix.json, summary.md (default {DEFAULT_OUT})",
        type=Path,
        metavar="DIR",
    )
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the matrix; the exit code."""
    prepared = prepare("run", args, merge_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return MatrixRun(config, backend, cwd=Path.cwd()).run()


def add_profile_options(parser: argparse.ArgumentParser, options: Options, default: str = DEFAULT_PROFILE) -> None:
    """--profile and --thresholds: where the defaults come from (`default`: the command's profile)."""
    profile = parser.add_argument_group("profile", "where the defaults come from")
    options.add(profile, "--profile", f"profile in thresholds.yaml (default {default})", metavar="NAME")
    options.add(
        profile, "--thresholds", f"the SLO and profiles file (default {DEFAULT_PATH})", type=Path, metavar="PATH"
    )


def add_matrix_options(group: argparse._ArgumentGroup, options: Options) -> None:
    """--replicas, --cpus and --memory: lists whose every combination is a cell (run's and search's)."""
    options.add(group, "--replicas", "API replica counts, e.g. 1,2", type=comma_list(positive_int), metavar="N[,N...]")
    options.add(
        group,
        "--cpus",
        "CPU limit per replica (Docker's --cpus), e.g. 0.5 or 0.5,1.0",
        type=comma_list(positive_float),
        metavar="CPUS[,...]",
    )
    options.add(
        group,
        "--memory",
        "memory limit per replica, Docker syntax, e.g. 512m or 1g",
        type=comma_list(memory_size),
        metavar="SIZE[,...]",
    )


def add_load_options(parser: argparse.ArgumentParser, options: Options) -> argparse._ArgumentGroup:
    """How hard Locust pushes in every cell (run's and search's); the group, for the backend's load options."""
    load = parser.add_argument_group("load", "how hard Locust pushes in every cell")
    options.add(load, "--users", "peak concurrent Locust users", type=positive_int, metavar="N")
    options.add(load, "--spawn-rate", "users started per second", type=positive_float, metavar="R")
    options.add(
        load, "--run-time", "length of each cell's load, Locust syntax: 90s, 2m, 1h30m", type=run_time, metavar="T"
    )
    add_warmup_option(load, options)
    options.switch(
        load,
        "--no-calibration",
        "skip measuring what this machine's Locust can deliver before the cells run",
    )
    return load


def add_warmup_option(group: argparse._ArgumentGroup, options: Options) -> None:
    """What is judged of a test."""
    options.add(
        group,
        "--warmup",
        "spawn: judge only what follows the ramp (Locust's --reset-stats once every user runs); none: the whole run",
        type=choice("spawn", "none"),
        metavar="{spawn,none}",
    )


def add_server_options(
    parser: argparse.ArgumentParser, options: Options, load: argparse._ArgumentGroup, no_limits: bool = True
) -> None:
    """Where the API replicas run, what loads them, and a server command of your own (run's, ui's and
    search's; `no_limits`: offer --no-limits)."""
    backend = parser.add_argument_group("backend", "where the API replicas run")
    add_backend_options(options, backend, load, no_limits=no_limits)
    options.add(
        backend,
        "--api-command",
        "a server command of your own, with {port} where its port goes (default: python -m api, this "
        "project's service, from its checkout only), "
        "e.g. '.venv/bin/python scripts/baseline_server.py --port {port}' (process backend)",
        metavar="CMD",
    )


class _Configured(Protocol):
    @property
    def backend(self) -> BackendSettings: ...


C = TypeVar("C", bound=_Configured)


def prepare(
    command: str,
    args: argparse.Namespace,
    merge: Callable[[argparse.Namespace, Thresholds, Path], C],
) -> tuple[C, Backend] | int:
    """Read thresholds.yaml, merge the profile with the flags, open the backend: both, or the exit code
    after a message that says what is wrong."""
    thresholds_path = args.thresholds or DEFAULT_PATH
    try:
        thresholds = load_thresholds(thresholds_path)
        config = merge(args, thresholds, thresholds_path)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest {command}: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    try:
        backend = open_backend(config.backend, Path.cwd())
    except BackendError as error:
        print(f"loadtest {command}: the {config.backend.name} backend cannot be used: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    return config, backend
