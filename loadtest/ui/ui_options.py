"""The options of `python -m loadtest ui`, and what they resolve to: one cell of a profile (its first
value of each, or the flags'), Locust's web UI pre-filled with the profile's load, as a UiConfig."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from loadtest.locust_contract import DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, WebSettings
from loadtest.options import (
    Flag,
    ProfileOptions,
    choice,
    duration,
    memory_size,
    output_flag,
    port_number,
    positive_float,
    positive_int,
    profile_flag,
)
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import (
    RUN_PROFILE,
    WARMUP_HELP,
    BackendOptions,
    BackendSettings,
    LimitsOption,
    ServerOption,
    Warmup,
    first_cell,
)
from loadtest.thresholds import Profile, Slo, Thresholds, load_thresholds
from loadtest.util.units import Duration

UI_PROFILE = RUN_PROFILE
"""A session explores a cell of the profile `run` uses unless told otherwise."""
DEFAULT_UI_OUT = Path("results/ui")


@dataclass(frozen=True)
class UiConfig:
    """Everything a session needs: profile and flags merged."""

    profile: str
    cell: Cell
    web: WebSettings
    thresholds: Path
    slo: Slo
    out: Path
    backend: BackendSettings


class UiOptions(ServerOption, LimitsOption, BackendOptions, ProfileOptions):
    """The options of `python -m loadtest ui`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        **ProfileOptions.GROUPS,
        "cell": ("cell", "the replicas and their limits (default: the profile's first value)"),
        "load": ("web UI", "Locust's web UI and what its start form is pre-filled with"),
        **BackendOptions.GROUPS,
        "output": ("output", None),
    }

    profile: Annotated[str, profile_flag(UI_PROFILE)] = UI_PROFILE
    replicas: Annotated[int | None, Flag("API replicas, e.g. 2", "cell", parse=positive_int, metavar="N")] = None
    cpus: Annotated[
        float | None,
        Flag("CPU limit per replica (Docker's --cpus), e.g. 0.5", "cell", parse=positive_float, metavar="CPUS"),
    ] = None
    memory: Annotated[
        str | None,
        Flag("memory limit per replica, Docker syntax, e.g. 512m", "cell", parse=memory_size, metavar="SIZE"),
    ] = None
    web_host: Annotated[
        str, Flag(f"address the UI listens on (default {DEFAULT_WEB_HOST})", "load", metavar="ADDR")
    ] = DEFAULT_WEB_HOST
    web_port: Annotated[
        int, Flag(f"port of the UI (default {DEFAULT_WEB_PORT})", "load", parse=port_number, metavar="PORT")
    ] = DEFAULT_WEB_PORT
    users: Annotated[
        int, Flag("users in the start form (default: the profile's)", "load", parse=positive_int, metavar="N")
    ]
    spawn_rate: Annotated[
        float, Flag("spawn rate in the start form (default: the profile's)", "load", parse=positive_float, metavar="R")
    ]
    # Not the profile's: a test runs until it is stopped from the UI unless --run-time is given.
    run_time: Annotated[
        Duration | None,
        Flag(
            "run time in the start form, Locust syntax: 90s, 2m (default: none, a test runs until stopped)",
            "load",
            parse=duration,
            metavar="T",
        ),
    ] = None
    warmup: Annotated[Warmup, Flag(WARMUP_HELP, "load", parse=choice("spawn", "none"), metavar="{spawn,none}")]
    out: Annotated[
        Path,
        output_flag(
            f"results folder: OUT/<cell>/ holds the session's logs and one test-N/ per test (default {DEFAULT_UI_OUT})"
        ),
    ] = DEFAULT_UI_OUT

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        return {"users": profile.users, "spawn_rate": profile.spawn_rate, "warmup": profile.warmup}

    def config(self, thresholds: Thresholds, profile: Profile) -> UiConfig:
        """The session: the profile's first cell with the flags' values in it."""
        cell = first_cell(profile, self.replicas, self.cpus, self.memory)
        scenario = self.scenario(profile, self.thresholds, self.profile)
        return UiConfig(
            profile=self.profile,
            cell=cell,
            web=WebSettings(
                users=self.users,
                spawn_rate=self.spawn_rate,
                run_time_seconds=self.run_time.seconds if self.run_time is not None else None,
                host=self.web_host,
                port=self.web_port,
                scenario=scenario,
                warmup=self.warmup,
            ),
            thresholds=self.thresholds,
            slo=thresholds.slo,
            out=self.out,
            # A session measures no generator capacity: there is no cell run to gate on it.
            backend=self.backend_settings(
                self.api_command, calibrate=False, enforce_limits=not self.no_limits, scenario=scenario
            ),
        )


def ui_config(
    flags: argparse.Namespace, environ: Mapping[str, str], read: Callable[[Path], Thresholds] = load_thresholds
) -> UiConfig:
    """What `ui` starts: its profile (in the thresholds file as `read` reads it), the LOADTEST_ variables
    of `environ` and the flags on top. ThresholdsError or ValueError names what is wrong."""
    options, thresholds, profile = UiOptions.resolve_with_profile(flags, environ, read)
    return options.config(thresholds, profile)
