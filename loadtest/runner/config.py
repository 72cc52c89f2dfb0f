"""What one `python -m loadtest run` does: a profile of thresholds.yaml with the flags on top.

Flags (or their `LOADTEST_*` variables) override the profile's value, key by key.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loadtest.locust_contract import LoadSettings
from loadtest.options import Options, choice, port_number, positive_float, positive_int
from loadtest.runner.matrix import Cell, plan_cells, reshape_cells
from loadtest.thresholds import Profile, Slo, Thresholds
from loadtest.util.units import parse_run_time

BackendName = Literal["process", "compose"]
BACKENDS: tuple[BackendName, ...] = ("process", "compose")
ComposeVersion = Literal["auto", "v1", "v2"]
COMPOSE_VERSIONS: tuple[ComposeVersion, ...] = ("auto", "v1", "v2")
"""auto: `docker compose` (v2) when it works, else `docker-compose --compatibility` (v1)."""
DEFAULT_PROFILE = "local"
DEFAULT_OUT = Path("results")


@dataclass(frozen=True)
class BackendSettings:
    """Where the replicas run and how they are started."""

    name: BackendName = "process"
    ready_timeout: float | None = None
    """Seconds every replica gets to become ready (None: the backend's default)."""
    locust_workers: int | None = None
    """None: as many as the cores the API's limits leave free."""
    api_port: int | None = None
    enforce_limits: bool = True
    api_image: str | None = None
    locust_image: str | None = None
    compose_file: Path | None = None
    compose: ComposeVersion = "auto"
    api_command: str | None = None
    """A server command of your own with `{port}` (process backend; None: `python -m api`)."""
    health_path: str = "/health"
    locustfile: Path | None = None
    """A scenario of your own (None: loadtest/locustfile.py, whose load the gate knows)."""
    calibrate: bool = True
    """Measure what this machine's Locust can deliver before the cells run."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, profile and flags merged."""

    profile: str | None
    cells: list[Cell]
    load: LoadSettings
    run_time: str
    thresholds: Path
    slo: Slo
    out: Path
    backend: BackendSettings


def profile_cells(
    profile: Profile, replicas: list[int] | None, cpus: list[float] | None, memory: list[str] | None
) -> list[Cell]:
    """The profile's cells with the flags on top: a matrix takes each flag's list in place of its own;
    a list of cells gets the flags' values in each of its cells."""
    specs = [Cell(replicas=spec.replicas, cpus=spec.cpus, memory=spec.memory) for spec in profile.cell_specs()]
    if profile.cells is None:
        first = specs[0]
        return plan_cells(replicas or [spec.replicas for spec in specs], cpus or [first.cpus], memory or [first.memory])
    return reshape_cells(specs, replicas, cpus, memory)


def merge_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> RunConfig:
    """The profile's values with every given flag on top; ValueError names what is wrong."""
    name, profile = find_profile(args.profile, thresholds, thresholds_path)
    load, time_text = load_settings(args, profile)
    return RunConfig(
        profile=name,
        cells=profile_cells(profile, args.replicas, args.cpus, args.memory),
        load=load,
        run_time=time_text,
        thresholds=thresholds_path,
        slo=thresholds.slo,
        out=args.out if args.out is not None else DEFAULT_OUT,
        backend=backend_settings(args, api_command=args.api_command, calibrate=not args.no_calibration),
    )


def find_profile(name: str | None, thresholds: Thresholds, thresholds_path: Path) -> tuple[str, Profile]:
    """The profile called `name` (default `local`) and its name; ValueError lists the known ones."""
    name = name or DEFAULT_PROFILE
    if name not in thresholds.profiles:
        known = ", ".join(sorted(thresholds.profiles)) or "none"
        raise ValueError(f"profile {name!r} is not in {thresholds_path} (profiles: {known})")
    return name, thresholds.profiles[name]


def load_settings(args: argparse.Namespace, profile: Profile) -> tuple[LoadSettings, str]:
    """The load of every cell (the profile's, flags on top) and its run time as written."""
    time_text = args.run_time if args.run_time is not None else profile.run_time
    load = LoadSettings(
        users=args.users if args.users is not None else profile.users,
        spawn_rate=args.spawn_rate if args.spawn_rate is not None else profile.spawn_rate,
        run_time_seconds=parse_run_time(time_text),
        scenario=profile.scenario,
        warmup=args.warmup if args.warmup is not None else profile.warmup,
    )
    return load, time_text


def add_backend_options(
    options: Options, backend: argparse._ArgumentGroup, load: argparse._ArgumentGroup, no_limits: bool = True
) -> None:
    """Where the replicas run and what loads them: the options every command that starts a cell shares
    (`backend_settings` reads them); `no_limits`: offer --no-limits (a search needs its limits)."""
    options.add(
        backend,
        "--backend",
        "process: local processes limited by cgroups (no Docker); compose: docker-compose.ci.yaml (default process)",
        type=choice(*BACKENDS),
        metavar="{" + ",".join(BACKENDS) + "}",
    )
    options.add(backend, "--image", "the API image (compose backend)", env="LOADTEST_API_IMAGE", metavar="REF")
    options.add(
        backend, "--loadtest-image", "the Locust image (compose backend)", env="LOADTEST_LOCUST_IMAGE", metavar="REF"
    )
    options.add(
        backend,
        "--compose-file",
        "the compose file (default: the one the package carries, loadtest/container/docker-compose.ci.yaml)",
        type=Path,
        metavar="PATH",
    )
    options.add(
        backend,
        "--compose",
        "which Compose runs the compose backend: v2 (`docker compose`), v1 (`docker-compose --compatibility`) "
        "or auto, v2 when it works (default auto)",
        type=choice(*COMPOSE_VERSIONS),
        metavar="{" + ",".join(COMPOSE_VERSIONS) + "}",
    )
    options.add(
        backend,
        "--ready-timeout",
        "seconds to wait for every replica's /health (default 60; compose 300)",
        type=positive_float,
        metavar="S",
    )
    options.add(
        backend,
        "--api-port",
        "port the replicas share (process backend; default: a free one)",
        type=port_number,
        metavar="PORT",
    )
    options.add(
        backend,
        "--health-path",
        "the path that answers 200 once a replica is ready (process backend; default /health)",
        metavar="PATH",
    )
    if no_limits:
        options.switch(
            backend,
            "--no-limits",
            "run the process backend's replicas without cgroup limits (recorded as limits_enforced: false)",
        )
    options.add(
        load,
        "--locust-workers",
        "Locust worker processes (default: the cores the API leaves free)",
        type=positive_int,
        metavar="N",
    )
    options.add(
        load,
        "--locustfile",
        "a scenario of your own (process backend; default loadtest/locustfile.py; the gate then cannot know what "
        "its users should send)",
        type=Path,
        metavar="PATH",
    )


def backend_settings(args: argparse.Namespace, api_command: str | None, calibrate: bool) -> BackendSettings:
    """The settings `add_backend_options` gave, with the command's own server command and calibration."""
    return BackendSettings(
        name=args.backend or "process",
        ready_timeout=args.ready_timeout,
        locust_workers=args.locust_workers,
        api_port=args.api_port,
        enforce_limits=not args.no_limits,
        api_image=args.image,
        locust_image=args.loadtest_image,
        compose_file=args.compose_file,
        compose=args.compose or "auto",
        api_command=api_command,
        health_path=args.health_path or "/health",
        locustfile=args.locustfile,
        calibrate=calibrate,
    )
