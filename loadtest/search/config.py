"""What one `python -m loadtest search` does: a profile's `search:` block (or its cells) with the flags on top."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path

from loadtest.locust_contract import LoadSettings
from loadtest.runner.config import (
    DEFAULT_OUT,
    BackendSettings,
    RunConfig,
    backend_settings,
    find_profile,
    load_settings,
)
from loadtest.search.grid import Grid
from loadtest.thresholds import Profile, SearchSettings, Thresholds
from loadtest.util.units import parse_run_time


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


def merge_search_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> SearchConfig:
    """The profile's search with every given flag on top; ValueError names what is wrong."""
    name, profile = find_profile(args.profile, thresholds, thresholds_path)
    settings = search_settings(profile)
    grid = Grid.of(
        args.replicas or settings.replicas, args.cpus or settings.cpus, args.memory or settings.memory, settings.cost
    )
    load, time_text = load_settings(args, profile)
    run = RunConfig(
        profile=name,
        cells=grid.configurations(),
        load=load,
        run_time=time_text,
        thresholds=thresholds_path,
        slo=thresholds.slo,
        out=args.out if args.out is not None else DEFAULT_OUT / "search",
        backend=replace(
            backend_settings(args, api_command=args.api_command, calibrate=not args.no_calibration), enforce_limits=True
        ),
    )
    return SearchConfig(
        run=run,
        grid=grid,
        probe_seconds=parse_run_time(args.probe_time or settings.probe_time),
        budget_seconds=parse_run_time(args.budget or settings.budget),
        capacity_steps=args.capacity_steps if args.capacity_steps is not None else settings.capacity_steps,
        against=args.against,
    )
