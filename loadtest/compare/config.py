"""What one `python -m loadtest compare` does: a profile's load and cell, its `compare:` block, the flags on top."""

from __future__ import annotations

import argparse
import secrets
from dataclasses import dataclass
from pathlib import Path

from loadtest.locust_contract import LoadSettings
from loadtest.runner.config import BackendSettings, RunConfig, backend_settings, profile_cells
from loadtest.runner.matrix import Cell
from loadtest.thresholds import CompareSettings, Slo, Thresholds

DEFAULT_PROFILE = "compare"
DEFAULT_OUT = Path("results/compare")
MIN_MEASURED_SECONDS = 2
"""A trial must measure at least this long after its ramp (the CPU samples come once a second)."""


@dataclass(frozen=True)
class CompareConfig:
    """Everything a comparison needs, profile and flags merged."""

    profile: str
    thresholds: Path
    slo: Slo
    settings: CompareSettings
    """The profile's `compare:` block, with --trials, --run-time and --delta on top."""
    cell: Cell
    load: LoadSettings
    """The profile's load; each trial runs `settings.run_time`, its ramp not judged."""
    backend: BackendSettings
    base: str
    head: str | None
    """None: the working tree (process backend) or the image under test (`--image`, compose)."""
    base_api_command: str | None
    head_api_command: str | None
    seed: int
    out: Path

    def run_config(self, out: Path) -> RunConfig:
        """The one-cell run each trial is, with its folder under `out`."""
        return RunConfig(
            profile=self.profile,
            cells=[self.cell],
            load=self.load,
            run_time=self.settings.run_time,
            thresholds=self.thresholds,
            slo=self.slo,
            out=out,
            backend=self.backend,
        )


def merge_compare_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> CompareConfig:
    """The profile's values with every given flag on top; ValueError names what is wrong."""
    name = args.profile or DEFAULT_PROFILE
    if name not in thresholds.profiles:
        known = ", ".join(sorted(thresholds.profiles)) or "none"
        raise ValueError(f"profile {name!r} is not in {thresholds_path} (profiles: {known})")
    profile = thresholds.profiles[name]
    overrides = {
        key: value
        for key, value in (("trials", args.trials), ("run_time", args.run_time), ("delta", args.delta))
        if value is not None
    }
    settings = CompareSettings.model_validate({**profile.compare.model_dump(), **overrides})
    # Both sides run one cell: the profile's first, or the one the flags give.
    cell = profile_cells(
        profile,
        [args.replicas] if args.replicas is not None else None,
        [args.cpus] if args.cpus is not None else None,
        [args.memory] if args.memory is not None else None,
    )[0]
    users = args.users if args.users is not None else profile.users
    spawn_rate = args.spawn_rate if args.spawn_rate is not None else profile.spawn_rate
    ramp = users / spawn_rate
    if settings.run_time_seconds < ramp + MIN_MEASURED_SECONDS:
        raise ValueError(
            f"a trial of {settings.run_time} leaves less than {MIN_MEASURED_SECONDS} s after the ramp "
            f"({users:,} users at {spawn_rate:g}/s take {ramp:g} s): give a longer --run-time"
        )
    load = LoadSettings(
        users=users,
        spawn_rate=spawn_rate,
        run_time_seconds=settings.run_time_seconds,
        scenario=profile.scenario,
        warmup="spawn",
    )
    # Each side's server command is its own (`sides`); a comparison never calibrates: its trials
    # show whether Locust was the limit.
    backend = backend_settings(args, api_command=None, calibrate=False)
    if backend.name == "compose" and (args.api_command or args.base_api_command or args.head_api_command):
        raise ValueError("--api-command is for the process backend; the compose backend compares images")
    return CompareConfig(
        profile=name,
        thresholds=thresholds_path,
        slo=thresholds.slo,
        settings=settings,
        cell=cell,
        load=load,
        backend=backend,
        base=args.base,
        head=args.head,
        base_api_command=args.base_api_command or args.api_command,
        head_api_command=args.head_api_command or args.api_command,
        seed=args.seed if args.seed is not None else secrets.randbelow(2**32),
        out=args.out if args.out is not None else DEFAULT_OUT,
    )
