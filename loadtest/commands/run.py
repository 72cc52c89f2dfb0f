"""`python -m loadtest run`: the replica matrix under CPU/memory limits, Locust, the gate.

Defaults come from a profile in thresholds.yaml (`--profile`, default `local`); every flag given
(or its environment variable) overrides the profile's value. Exit 0 when every cell passes,
1 when a cell breaches a limit, 2 when the run could not be made (the message says what failed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from loadtest import exitcodes
from loadtest.backends import BackendError
from loadtest.locust_process import LoadSettings
from loadtest.matrix import plan_cells
from loadtest.pipeline import RunConfig, Runner
from loadtest.thresholds import DEFAULT_PATH, Thresholds, ThresholdsError, load_thresholds, parse_memory, parse_run_time

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The checkout: replicas and Locust run from here (`python -m api`, `loadtest/locustfile.py`)."""

BACKENDS = ("process", "compose")
DEFAULT_PROFILE = "local"
DEFAULT_OUT = Path("results")


# --------------------------------------------------------------------------- validators


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
    return value


def port_number(text: str) -> int:
    """A TCP port, 1-65535."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return value


def run_time(text: str) -> str:
    """A Locust duration ("90s", "2m", "1h30m"), kept as written."""
    try:
        parse_run_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.strip()


def memory_size(text: str) -> str:
    """A Docker memory size ("512m", "1g")."""
    try:
        parse_memory(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.strip().lower()


def comma_list(item: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """A validator for "a,b,c" whose items pass `item`."""

    def parse(text: str) -> list[Any]:
        parts = [part.strip() for part in text.split(",")]
        if not text.strip() or any(not part for part in parts):
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list such as 1,2")
        return [item(part) for part in parts]

    parse.__name__ = f"{item.__name__}_list"
    return parse


# --------------------------------------------------------------------------- the parser


def _option(group: argparse._ArgumentGroup, environ: Mapping[str, str], flag: str, env: str, help: str, **kwargs: Any) -> None:
    """An option whose default is read from environment variable `env` (validated like the flag)."""
    kwargs.setdefault("default", None)
    if env in environ:
        kwargs["default"] = environ[env]
    group.add_argument(flag, help=f"{help} [env {env}]", **kwargs)


def register(subparsers: argparse._SubParsersAction, environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """Add `run` to the top-level parser."""
    environ = os.environ if environ is None else environ
    parser = subparsers.add_parser(
        "run",
        help="run the replica matrix under CPU/memory limits with Locust, and gate every cell",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    profile = parser.add_argument_group("profile", "where the defaults come from")
    _option(profile, environ, "--profile", "LOADTEST_PROFILE", f"profile in thresholds.yaml (default {DEFAULT_PROFILE})", metavar="NAME")
    _option(profile, environ, "--thresholds", "LOADTEST_THRESHOLDS", f"the SLO and profiles file (default {DEFAULT_PATH})", type=Path, metavar="PATH")

    matrix = parser.add_argument_group("matrix", "the cells: every replica count x CPU limit x memory limit")
    _option(matrix, environ, "--replicas", "LOADTEST_REPLICAS", "API replica counts, e.g. 1,2", type=comma_list(positive_int), metavar="N[,N...]")
    _option(matrix, environ, "--cpus", "LOADTEST_CPUS", "CPU limit per replica (Docker's --cpus), e.g. 0.5 or 0.5,1.0", type=comma_list(positive_float), metavar="CPUS[,...]")
    _option(matrix, environ, "--memory", "LOADTEST_MEMORY", "memory limit per replica, Docker syntax, e.g. 512m or 1g", type=comma_list(memory_size), metavar="SIZE[,...]")

    load = parser.add_argument_group("load", "how hard Locust pushes in every cell")
    _option(load, environ, "--users", "LOADTEST_USERS", "peak concurrent Locust users", type=positive_int, metavar="N")
    _option(load, environ, "--spawn-rate", "LOADTEST_SPAWN_RATE", "users started per second", type=positive_float, metavar="R")
    _option(load, environ, "--run-time", "LOADTEST_RUN_TIME", "length of each cell's load, Locust syntax: 90s, 2m, 1h30m", type=run_time, metavar="T")
    _option(load, environ, "--locust-workers", "LOADTEST_LOCUST_WORKERS", "Locust worker processes (process backend; default: the cores the API leaves free)", type=positive_int, metavar="N")

    backend = parser.add_argument_group("backend", "where the API replicas run")
    _option(backend, environ, "--backend", "LOADTEST_BACKEND", "process: local processes limited by cgroups (no Docker); compose: docker-compose.ci.yaml (default process)", choices=BACKENDS)
    _option(backend, environ, "--image", "API_IMAGE", "the API image (compose backend)", metavar="REF")
    _option(backend, environ, "--loadtest-image", "LOADTEST_IMAGE", "the Locust image (compose backend)", metavar="REF")
    _option(backend, environ, "--compose-file", "LOADTEST_COMPOSE_FILE", "the compose file (default docker-compose.ci.yaml in the checkout)", type=Path, metavar="PATH")
    _option(backend, environ, "--ready-timeout", "LOADTEST_READY_TIMEOUT", "seconds to wait for every replica's /health (default 60; compose 300)", type=positive_float, metavar="S")
    _option(backend, environ, "--api-port", "LOADTEST_API_PORT", "port the replicas share (process backend; default: a free one)", type=port_number, metavar="PORT")
    backend.add_argument("--no-limits", action="store_true", default=_truthy(environ.get("LOADTEST_NO_LIMITS")),
                         help="run the process backend's replicas without cgroup limits (recorded as limits_enforced: false) [env LOADTEST_NO_LIMITS]")

    output = parser.add_argument_group("output")
    _option(output, environ, "--out", "LOADTEST_OUT", f"results folder: one sub-folder per cell, matrix.json, summary.md (default {DEFAULT_OUT})", type=Path, metavar="DIR")
    parser.set_defaults(handler=handle)
    return parser


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- merging


def merge_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> RunConfig:
    """The profile's values with every given flag on top; ValueError names what is wrong."""
    name = args.profile or DEFAULT_PROFILE
    if name not in thresholds.profiles:
        known = ", ".join(sorted(thresholds.profiles)) or "none"
        raise ValueError(f"profile {name!r} is not in {thresholds_path} (profiles: {known})")
    profile = thresholds.profiles[name]
    replicas = args.replicas if args.replicas is not None else profile.replicas
    cpus = args.cpus if args.cpus is not None else [profile.cpus]
    memory = args.memory if args.memory is not None else [profile.memory]
    time_text = args.run_time if args.run_time is not None else profile.run_time
    load = LoadSettings(
        users=args.users if args.users is not None else profile.users,
        spawn_rate=args.spawn_rate if args.spawn_rate is not None else profile.spawn_rate,
        run_time_seconds=parse_run_time(time_text),
    )
    return RunConfig(
        profile=name,
        cells=plan_cells(replicas, cpus, memory),
        load=load,
        run_time=time_text,
        thresholds=thresholds_path,
        slo=thresholds.slo,
        out=args.out if args.out is not None else DEFAULT_OUT,
    )


def make_backend(args: argparse.Namespace):  # noqa: ANN201 - a Backend
    """The chosen backend, opened (cgroups created / Compose detected). BackendError if it cannot be."""
    if (args.backend or "process") == "compose":
        from loadtest.backends.compose import ComposeBackend

        return ComposeBackend(
            compose_file=args.compose_file or REPO_ROOT / "docker-compose.ci.yaml",
            api_image=args.image,
            loadtest_image=args.loadtest_image,
            ready_timeout=args.ready_timeout or 300.0,
            locust_workers=args.locust_workers,
            cwd=REPO_ROOT,
        )
    from loadtest.backends.process import ProcessBackend

    return ProcessBackend(
        cwd=REPO_ROOT,
        ready_timeout=args.ready_timeout or 60.0,
        port=args.api_port,
        enforce_limits=not args.no_limits,
        locust_workers=args.locust_workers,
    )


def handle(args: argparse.Namespace) -> int:
    """Run the matrix; the exit code."""
    thresholds_path = args.thresholds or DEFAULT_PATH
    try:
        thresholds = load_thresholds(thresholds_path)
        config = merge_config(args, thresholds, thresholds_path)
    except (ThresholdsError, ValueError) as error:
        print(f"loadtest run: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    try:
        backend = make_backend(args)
    except BackendError as error:
        print(f"loadtest run: the {args.backend or 'process'} backend cannot be used: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    return Runner(config, backend, cwd=REPO_ROOT).run()
