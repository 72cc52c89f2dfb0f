"""The options of `python -m loadtest search`, and what they resolve to: a profile's `search:` block
(or its cells) and its load, the LOADTEST_ variables and the flags on top, as a SearchConfig."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar

from loadtest.locust_contract import LoadSettings
from loadtest.options import (
    Flag,
    ProfileOptions,
    comma_list,
    duration,
    memory_size,
    output_flag,
    positive_float,
    positive_int,
    profile_flag,
    whole_number,
)
from loadtest.runner.run_options import (
    DEFAULT_OUT,
    RUN_PROFILE,
    BackendOptions,
    BackendSettings,
    LoadOptions,
    RunConfig,
    ServerOption,
    load_from,
)
from loadtest.search.grid import Grid
from loadtest.thresholds import Profile, SearchSettings, Thresholds, load_thresholds
from loadtest.util.units import Duration

SEARCH_PROFILE = RUN_PROFILE
"""A search walks the grid of the profile `run` uses unless told otherwise."""
DEFAULT_SEARCH_OUT = DEFAULT_OUT / "search"


@dataclass(frozen=True)
class SearchConfig:
    """Everything a search needs, profile and flags merged."""

    run: RunConfig
    """The full-length load (the profile's), the SLO, the backend, the output folder; `cells` are the CPU
    configurations the walk may probe, at the grid's largest memory limit."""
    grid: Grid
    probe_seconds: int
    """A probe's measured window, after its ramp."""
    budget_seconds: int
    capacity_steps: int
    against: Path | None = None
    """Another search's folder to compare the answer with."""

    @property
    def backend(self) -> BackendSettings:
        """Where the probes run (the backend every command's `prepare` opens)."""
        return self.run.backend

    @property
    def ramp_seconds(self) -> int:
        """How long the full load's users take to start: the warm-up of every probe."""
        return math.ceil(self.run.load.users / self.run.load.spawn_rate)

    def probe_load(self, users: int | None = None) -> LoadSettings:
        """A probe's load: `users` (default the profile's) started over the same ramp, then the measured
        window; the ramp is never judged."""
        count = users or self.run.load.users
        return replace(
            self.run.load,
            users=count,
            spawn_rate=count / self.ramp_seconds,
            run_time_seconds=self.ramp_seconds + self.probe_seconds,
            warmup="spawn",
        )


def search_settings(profile: Profile) -> SearchSettings:
    """The profile's `search:` block, or a grid of its own cells' values with the search's defaults."""
    if profile.search is not None:
        return profile.search
    specs = profile.cell_specs()
    return SearchSettings(
        replicas=sorted({spec.replicas for spec in specs}),
        cpus=sorted({spec.cpus for spec in specs}),
        memory=list(dict.fromkeys(spec.memory for spec in specs)),
    )


# A search needs its limits: it offers no --no-limits.
class SearchOptions(ServerOption, BackendOptions, LoadOptions, ProfileOptions):
    """The options of `python -m loadtest search`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        **ProfileOptions.GROUPS,
        "matrix": (
            "grid",
            "the configurations searched: every replica count x CPU limit x memory limit (default: the profile's)",
        ),
        "search": ("search", "how long it may take"),
        "load": ("load", "how hard Locust pushes in every cell"),
        **BackendOptions.GROUPS,
        "output": ("output", None),
    }

    profile: Annotated[str, profile_flag(SEARCH_PROFILE)] = SEARCH_PROFILE
    replicas: Annotated[
        list[int], Flag("API replica counts, e.g. 1,2", "matrix", parse=comma_list(positive_int), metavar="N[,N...]")
    ]
    cpus: Annotated[
        list[float],
        Flag(
            "CPU limit per replica (Docker's --cpus), e.g. 0.5 or 0.5,1.0",
            "matrix",
            parse=comma_list(positive_float),
            metavar="CPUS[,...]",
        ),
    ]
    memory: Annotated[
        list[str],
        Flag(
            "memory limit per replica, Docker syntax, e.g. 512m or 1g",
            "matrix",
            parse=comma_list(memory_size),
            metavar="SIZE[,...]",
        ),
    ]
    budget: Annotated[
        Duration,
        Flag(
            "the whole search never takes longer than this, e.g. 15m (default: the profile's, else 15m)",
            "search",
            parse=duration,
            metavar="T",
        ),
    ]
    probe_time: Annotated[
        Duration,
        Flag(
            "a probe's measured window after its ramp, e.g. 15s (default: the profile's, else 15s)",
            "search",
            parse=duration,
            metavar="T",
        ),
    ]
    capacity_steps: Annotated[
        int,
        Flag(
            "probes per configuration that holds to find the most users it holds (0: none; default 4)",
            "search",
            parse=whole_number,
            metavar="N",
        ),
    ]
    against: Annotated[
        Path | None,
        Flag(
            "another search's results folder (another service, same grid and load) to compare the answer with",
            "search",
            parse=Path,
            metavar="DIR",
        ),
    ] = None
    out: Annotated[
        Path,
        output_flag(f"results folder: search.json, search.md, search.png, probes/ (default {DEFAULT_SEARCH_OUT})"),
    ] = DEFAULT_SEARCH_OUT

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        settings = search_settings(profile)
        grid = {"replicas": settings.replicas, "cpus": settings.cpus, "memory": settings.memory}
        walk = {"budget": settings.budget, "probe_time": settings.probe_time, "capacity_steps": settings.capacity_steps}
        return {**load_from(profile), **grid, **walk}

    def config(self, thresholds: Thresholds, profile: Profile) -> SearchConfig:
        """What the search walks; ValueError names a grid value listed twice."""
        grid = Grid.of(self.replicas, self.cpus, self.memory, search_settings(profile).cost)
        scenario = self.scenario(profile, self.thresholds, self.profile)
        run = RunConfig(
            profile=self.profile,
            cells=grid.configurations(),
            load=self.load_settings(scenario),
            run_time=self.run_time,
            thresholds=self.thresholds,
            slo=thresholds.slo,
            out=self.out,
            backend=self.backend_settings(self.api_command, not self.no_calibration, True, scenario),
        )
        return SearchConfig(
            run=run,
            grid=grid,
            probe_seconds=self.probe_time.seconds,
            budget_seconds=self.budget.seconds,
            capacity_steps=self.capacity_steps,
            against=self.against,
        )


def search_config(
    flags: argparse.Namespace, environ: Mapping[str, str], read: Callable[[Path], Thresholds] = load_thresholds
) -> SearchConfig:
    """What `search` walks: its profile (in the thresholds file as `read` reads it), the LOADTEST_
    variables of `environ` and the flags on top. ThresholdsError or ValueError names what is wrong."""
    options, thresholds, profile = SearchOptions.resolve_with_profile(flags, environ, read)
    return options.config(thresholds, profile)
