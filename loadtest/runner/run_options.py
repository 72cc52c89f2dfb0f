"""The options of `python -m loadtest run`, and what they resolve to: a profile of thresholds.yaml,
the LOADTEST_ variables and the flags on top (loadtest.options layers them), as the runner's RunConfig.

The groups of options every command that starts a cell shares (the matrix, the load, the backend)
are declared here once, as mixins of the commands' option models.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from loadtest.locust_contract import LoadSettings
from loadtest.options import (
    CommandOptions,
    Flag,
    OptionsError,
    ProfileOptions,
    choice,
    comma_list,
    duration,
    memory_size,
    output_flag,
    port_number,
    positive_float,
    positive_int,
    profile_flag,
    switch_flag,
)
from loadtest.runner.matrix import Cell, plan_cells, reshape_cells
from loadtest.scenario import Scenario, chosen_scenario
from loadtest.thresholds import Profile, Slo, Thresholds, load_thresholds
from loadtest.util.units import Duration

BackendName = Literal["process", "compose"]
BACKENDS: tuple[BackendName, ...] = ("process", "compose")
ComposeVersion = Literal["auto", "v1", "v2"]
COMPOSE_VERSIONS: tuple[ComposeVersion, ...] = ("auto", "v1", "v2")
"""auto: `docker compose` (v2) when it works, else `docker-compose --compatibility` (v1)."""
Warmup = Literal["spawn", "none"]
RUN_PROFILE = "local"
"""The profile `run` takes its defaults from unless told otherwise."""
DEFAULT_OUT = Path("results")
WARMUP_HELP = (
    "spawn: judge only what follows the ramp (Locust's --reset-stats once every user runs); none: the whole run"
)


# --------------------------------------------------------------------------- what the runner gets


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
    """What a replica answers with 200 once it is ready: the scenario's `health` unless --health-path says."""
    locustfile: Path | None = None
    """A locustfile of your own (None: loadtest/locustfile.py, driven by the scenario, whose load the gate knows)."""
    calibrate: bool = True
    """Measure what this machine's Locust can deliver before the cells run."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, profile and flags merged."""

    profile: str | None
    cells: list[Cell]
    load: LoadSettings
    run_time: Duration
    thresholds: Path
    slo: Slo
    out: Path
    backend: BackendSettings


# --------------------------------------------------------------------------- the option groups commands share
#
# pydantic lists the fields of a model's last base first: a command lists its mixins in the reverse
# of the order its --help shows them within a group.


class MatrixOptions(CommandOptions):
    """--replicas, --cpus and --memory: lists whose every combination is a cell (run's and search's)."""

    replicas: Annotated[
        list[int] | None,
        Flag("API replica counts, e.g. 1,2", "matrix", parse=comma_list(positive_int), metavar="N[,N...]"),
    ] = None
    cpus: Annotated[
        list[float] | None,
        Flag(
            "CPU limit per replica (Docker's --cpus), e.g. 0.5 or 0.5,1.0",
            "matrix",
            parse=comma_list(positive_float),
            metavar="CPUS[,...]",
        ),
    ] = None
    memory: Annotated[
        list[str] | None,
        Flag(
            "memory limit per replica, Docker syntax, e.g. 512m or 1g",
            "matrix",
            parse=comma_list(memory_size),
            metavar="SIZE[,...]",
        ),
    ] = None


class LoadOptions(CommandOptions):
    """How hard Locust pushes in every cell (run's and search's); a profile sets each."""

    users: Annotated[int, Flag("peak concurrent Locust users", "load", parse=positive_int, metavar="N")]
    spawn_rate: Annotated[float, Flag("users started per second", "load", parse=positive_float, metavar="R")]
    run_time: Annotated[
        Duration,
        Flag("length of each cell's load, Locust syntax: 90s, 2m, 1h30m", "load", parse=duration, metavar="T"),
    ]
    warmup: Annotated[Warmup, Flag(WARMUP_HELP, "load", parse=choice("spawn", "none"), metavar="{spawn,none}")]
    no_calibration: Annotated[
        bool, switch_flag("skip measuring what this machine's Locust can deliver before the cells run", "load")
    ] = False

    def load_settings(self, scenario: Scenario) -> LoadSettings:
        """The load of every cell: these users following `scenario`."""
        return LoadSettings(
            users=self.users,
            spawn_rate=self.spawn_rate,
            run_time_seconds=self.run_time.seconds,
            scenario=scenario,
            warmup=self.warmup,
        )


class BackendOptions(CommandOptions):
    """Where the replicas run and what loads them: the options every command that starts a cell shares."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"backend": ("backend", "where the API replicas run")}

    backend: Annotated[
        BackendName,
        Flag(
            "process: local processes limited by cgroups (no Docker); compose: docker-compose.ci.yaml "
            "(default process)",
            "backend",
            parse=choice(*BACKENDS),
            metavar="{" + ",".join(BACKENDS) + "}",
        ),
    ] = "process"
    api_image: Annotated[
        str | None, Flag("the API image (compose backend)", "backend", metavar="REF", flag="--image")
    ] = None
    locust_image: Annotated[
        str | None, Flag("the Locust image (compose backend)", "backend", metavar="REF", flag="--loadtest-image")
    ] = None
    compose_file: Annotated[
        Path | None,
        Flag(
            "the compose file (default: the one the package carries, loadtest/container/docker-compose.ci.yaml)",
            "backend",
            parse=Path,
            metavar="PATH",
        ),
    ] = None
    compose: Annotated[
        ComposeVersion,
        Flag(
            "which Compose runs the compose backend: v2 (`docker compose`), v1 (`docker-compose --compatibility`) "
            "or auto, v2 when it works (default auto)",
            "backend",
            parse=choice(*COMPOSE_VERSIONS),
            metavar="{" + ",".join(COMPOSE_VERSIONS) + "}",
        ),
    ] = "auto"
    ready_timeout: Annotated[
        float | None,
        Flag(
            "seconds to wait for every replica's /health (default 60; compose 300)",
            "backend",
            parse=positive_float,
            metavar="S",
        ),
    ] = None
    api_port: Annotated[
        int | None,
        Flag(
            "port the replicas share (process backend; default: a free one)",
            "backend",
            parse=port_number,
            metavar="PORT",
        ),
    ] = None
    health_path: Annotated[
        str | None,
        Flag(
            "the path that answers 200 once a replica is ready (default: the scenario's `health`, /health unless it "
            "says otherwise)",
            "backend",
            metavar="PATH",
        ),
    ] = None
    locust_workers: Annotated[
        int | None,
        Flag(
            "Locust worker processes (default: the cores the API leaves free)", "load", parse=positive_int, metavar="N"
        ),
    ] = None
    # The scenario is named here, with the other options of what Locust runs, so that every command that
    # starts a cell (run, search, compare, ui) has it; a profile's `scenario_file` is not a layer of it:
    # it is relative to the thresholds file and comes with the profile's `pace` (see `scenario`).
    scenario_file: Annotated[
        Path | None,
        Flag(
            "the scenario file: requests, kinds of users and their paces, the health path (default: the profile's "
            "scenario_file, else the workshop's; docs/scenario.md)",
            "load",
            parse=Path,
            metavar="FILE",
            flag="--scenario",
        ),
    ] = None
    locustfile: Annotated[
        Path | None,
        Flag(
            "a locustfile of your own, for what a scenario file cannot say (default: the package's, driven by the "
            "scenario; the gate then cannot know what its users should send)",
            "load",
            parse=Path,
            metavar="PATH",
        ),
    ] = None

    def scenario(self, profile: Profile, thresholds: Path, profile_name: str) -> Scenario:
        """The scenario the cells follow: --scenario's (LOADTEST_SCENARIO_FILE's) at its own paces, else the
        profile's `scenario_file` (relative to `thresholds`; default the workshop's) at the profile's `pace`.
        ScenarioError (a ValueError) names the file, the key and the value."""
        return chosen_scenario(self.scenario_file, profile.scenario_file, profile.pace, thresholds, profile_name)

    def backend_settings(
        self, api_command: str | None, calibrate: bool, enforce_limits: bool, scenario: Scenario
    ) -> BackendSettings:
        """The backend these options give, with the command's own server command, calibration and limits, and
        the scenario's health path unless --health-path names another."""
        return BackendSettings(
            name=self.backend,
            ready_timeout=self.ready_timeout,
            locust_workers=self.locust_workers,
            api_port=self.api_port,
            enforce_limits=enforce_limits,
            api_image=self.api_image,
            locust_image=self.locust_image,
            compose_file=self.compose_file,
            compose=self.compose,
            api_command=api_command,
            health_path=self.health_path or scenario.health,
            locustfile=self.locustfile,
            calibrate=calibrate,
        )


class LimitsOption(CommandOptions):
    """--no-limits (run, ui and compare; a search needs its limits)."""

    no_limits: Annotated[
        bool,
        switch_flag(
            "run the process backend's replicas without cgroup limits (recorded as limits_enforced: false)", "backend"
        ),
    ] = False


class ServerOption(CommandOptions):
    """--api-command: a server of your own (run, search and ui; compare has one per side)."""

    api_command: Annotated[
        str | None,
        Flag(
            "a server command of your own, with {port} where its port goes (default: python -m api, this "
            "project's service, from its checkout only), "
            "e.g. '.venv/bin/python scripts/baseline_server.py --port {port}' (process backend)",
            "backend",
            metavar="CMD",
        ),
    ] = None


def load_from(profile: Profile) -> dict[str, Any]:
    """What a profile sets of `LoadOptions`."""
    return {
        "users": profile.users,
        "spawn_rate": profile.spawn_rate,
        "run_time": profile.run_time,
        "warmup": profile.warmup,
    }


# --------------------------------------------------------------------------- run


class RunOptions(ServerOption, LimitsOption, BackendOptions, LoadOptions, MatrixOptions, ProfileOptions):
    """The options of `python -m loadtest run`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        **ProfileOptions.GROUPS,
        "matrix": ("matrix", "the cells: every replica count x CPU limit x memory limit"),
        "load": ("load", "how hard Locust pushes in every cell"),
        **BackendOptions.GROUPS,
        "output": ("output", None),
    }

    profile: Annotated[str, profile_flag(RUN_PROFILE)] = RUN_PROFILE
    out: Annotated[
        Path,
        output_flag(f"results folder: one sub-folder per cell, matrix.json, summary.md (default {DEFAULT_OUT})"),
    ] = DEFAULT_OUT

    max_run_time: Annotated[
        Duration | None,
        Flag(
            "how long a cell still too close to call at its run time may extend, Locust syntax (default: the "
            "run time, no extension)",
            "load",
            parse=duration,
            metavar="T",
        ),
    ] = None

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        return {**load_from(profile), "max_run_time": profile.max_run_time}

    def max_run_time_seconds(self) -> int | None:
        """How long a cell may extend, checked against the run time (None: no extension)."""
        if self.max_run_time is None:
            return None
        if self.max_run_time.seconds < self.run_time.seconds:
            raise OptionsError(
                f"max_run_time {self.max_run_time.text} is shorter than run_time {self.run_time.text}: a cell extends "
                "from its run time up to max_run_time; give --max-run-time (LOADTEST_MAX_RUN_TIME) of at least "
                f"{self.run_time.text}"
            )
        return self.max_run_time.seconds

    def config(self, thresholds: Thresholds, profile: Profile) -> RunConfig:
        """What the runner runs: these options, with the profile's cells under the matrix flags."""
        scenario = self.scenario(profile, self.thresholds, self.profile)
        return RunConfig(
            profile=self.profile,
            cells=profile_cells(profile, self.replicas, self.cpus, self.memory),
            load=replace(self.load_settings(scenario), max_run_time_seconds=self.max_run_time_seconds()),
            run_time=self.run_time,
            thresholds=self.thresholds,
            slo=thresholds.slo,
            out=self.out,
            backend=self.backend_settings(self.api_command, not self.no_calibration, not self.no_limits, scenario),
        )


def run_config(
    flags: argparse.Namespace, environ: Mapping[str, str], read: Callable[[Path], Thresholds] = load_thresholds
) -> RunConfig:
    """What `run` runs: its profile (in the thresholds file as `read` reads it), the LOADTEST_ variables
    of `environ` and the flags on top. ThresholdsError or ValueError (OptionsError) names what is wrong."""
    options, thresholds, profile = RunOptions.resolve_with_profile(flags, environ, read)
    return options.config(thresholds, profile)


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


def first_cell(profile: Profile, replicas: int | None, cpus: float | None, memory: str | None) -> Cell:
    """The one cell of a command that runs one (compare, ui): the profile's first, with the flags' values in it."""
    return profile_cells(
        profile,
        None if replicas is None else [replicas],
        None if cpus is None else [cpus],
        None if memory is None else [memory],
    )[0]
