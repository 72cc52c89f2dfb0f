"""The options of `python -m loadtest compare`, and what they resolve to: a profile's load, its first
cell and its `compare:` block, the LOADTEST_ variables and the flags on top, as a CompareConfig."""

from __future__ import annotations

import argparse
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field

from loadtest.locust_contract import LoadSettings
from loadtest.options import (
    Flag,
    ProfileOptions,
    at_least_two,
    choice,
    duration,
    memory_size,
    open_fraction,
    output_flag,
    positive_float,
    positive_int,
    profile_flag,
    random_seed,
)
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import BackendOptions, BackendSettings, LimitsOption, RunConfig, first_cell
from loadtest.thresholds import CompareDesign, CompareSettings, Profile, Slo, Thresholds, load_thresholds
from loadtest.util.units import Duration

COMPARE_PROFILE = "compare"
"""The profile `compare` takes its defaults from unless told otherwise."""
DEFAULT_OUT = Path("results/compare")
MIN_MEASURED_SECONDS = 2
"""A trial must measure at least this long after its ramp (the CPU samples come once a second)."""
NOT_A_RATE = "{!r} is neither a share of the base's capacity (60%) nor requests per second (400)"


def fixed_rate(text: str) -> str:
    """The fixed-load phase's rate, `--load-rate`: `60%` (a share of the base's capacity) or `400` (requests per
    second), as its canonical text."""
    value = text.strip()
    try:
        figure = float(value.removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(NOT_A_RATE.format(text)) from None
    if not math.isfinite(figure):
        raise argparse.ArgumentTypeError(NOT_A_RATE.format(text))
    if value.endswith("%"):
        if not 0 < figure < 100:
            raise argparse.ArgumentTypeError(f"{text!r}: a share of the base's capacity lies between 0% and 100%")
        return f"{figure:g}%"
    if figure <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a rate in requests per second is above 0")
    if figure < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is {figure:g} request per second; a share of the base's capacity is written with %, as 60%"
        )
    return f"{figure:g}"


def rate_settings(rate: str) -> dict[str, float | None]:
    """The `compare:` block's keys that `--load-rate` sets: `load_share`, or `load_rps` (which wins over it)."""
    if rate.endswith("%"):
        return {"load_share": float(rate[:-1]) / 100, "load_rps": None}
    return {"load_rps": float(rate)}


def rate_text(settings: CompareSettings) -> str:
    """The `compare:` block's fixed load as `--load-rate` writes it."""
    if settings.load_rps is not None:
        return f"{settings.load_rps:g}"
    return f"{settings.load_share * 100:g}%"


@dataclass(frozen=True)
class CompareConfig:
    """Everything a comparison needs, profile and flags merged."""

    profile: str
    thresholds: Path
    slo: Slo
    settings: CompareSettings
    """The profile's `compare:` block, with --trials, --budget, --design, --run-time, --load-time, --load-rate and
    --delta on top."""
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


class CompareOptions(LimitsOption, BackendOptions, ProfileOptions):
    """The options of `python -m loadtest compare`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        "sides": ("sides", "what is compared"),
        **ProfileOptions.GROUPS,
        "trials": ("trials", "how many, how long, how judged (default: the profile's compare:)"),
        "cell": ("cell", "the one cell both sides run in (default: the profile's first)"),
        "load": ("load", "the same for both sides, from this checkout"),
        "backend": (
            "backend",
            "where the replicas run (compose: --base and --head are images; --image is the head's default)",
        ),
        "output": ("output", None),
    }

    base: Annotated[
        str | None, Flag("the base: a git revision (compose: an image reference); required", "sides", metavar="REV")
    ] = None
    head: Annotated[
        str | None,
        Flag(
            "the head: a git revision (default: the working tree as it is, its replicas in a venv synced as the "
            "base's; compose: an image, default --image)",
            "sides",
            metavar="REV",
        ),
    ] = None
    api_command: Annotated[
        str | None,
        Flag(
            "both sides' server instead of python -m api, with {port}; each runs in its own checkout",
            "sides",
            metavar="CMD",
        ),
    ] = None
    base_api_command: Annotated[
        str | None, Flag("the base's server command only (wins over --api-command)", "sides", metavar="CMD")
    ] = None
    head_api_command: Annotated[
        str | None, Flag("the head's server command only (wins over --api-command)", "sides", metavar="CMD")
    ] = None
    profile: Annotated[str, profile_flag(COMPARE_PROFILE)] = COMPARE_PROFILE
    trials: Annotated[
        int,
        Flag(
            "the most blocks of one trial of each side (at least 2); it stops earlier once decided",
            "trials",
            parse=at_least_two,
            metavar="N",
        ),
    ]
    budget: Annotated[
        Duration,
        Flag(
            "the whole comparison's time, preparation included: blocks are added while one more fits (12m)",
            "trials",
            parse=duration,
            metavar="T",
        ),
    ]
    design: Annotated[
        CompareDesign,
        Flag(
            "duet: both sides at once on the same cores; interleaved: one after the other; auto: a duet where "
            "the machine allows one",
            "trials",
            parse=choice("auto", "duet", "interleaved"),
            metavar="{auto,duet,interleaved}",
        ),
    ]
    run_time: Annotated[
        Duration,
        Flag(
            "each trial's capacity phase, ramp included, Locust syntax: 15s, 1m (its fixed-load phase: the "
            "compare: block's load_time)",
            "trials",
            parse=duration,
            metavar="T",
        ),
    ]
    load_time: Annotated[
        Duration,
        Flag(
            "each trial's fixed-load phase (an open loop at the comparison's fixed rate), ramp included: 15s",
            "trials",
            parse=duration,
            metavar="T",
        ),
    ]
    load_rate: Annotated[
        str,
        Flag(
            "each fixed-load phase's rate, the same for both sides and every block: a share of the base's capacity "
            "in the first valid block (60%%) or requests per second (400); the compare: block's load_share or "
            "load_rps",
            "trials",
            parse=fixed_rate,
            metavar="RATE",
        ),
    ]
    delta: Annotated[
        float,
        Flag("the margin: no change within a factor 1 + delta (0.1 = 10%%)", "trials", parse=open_fraction),
    ]
    seed: Annotated[
        int, Flag("the seed of the blocks' random order (default: a random one, recorded)", "trials", parse=random_seed)
    ] = Field(default_factory=lambda: secrets.randbelow(2**32))
    replicas: Annotated[int | None, Flag("API replicas", "cell", parse=positive_int, metavar="N")] = None
    cpus: Annotated[
        float | None, Flag("CPU limit per replica (Docker's --cpus)", "cell", parse=positive_float, metavar="CPUS")
    ] = None
    memory: Annotated[
        str | None,
        Flag("memory limit per replica, Docker syntax: 512m, 1g", "cell", parse=memory_size, metavar="SIZE"),
    ] = None
    users: Annotated[int, Flag("concurrent Locust users", "load", parse=positive_int, metavar="N")]
    spawn_rate: Annotated[float, Flag("users started per second", "load", parse=positive_float, metavar="R")]
    out: Annotated[
        Path,
        output_flag(f"folder for comparison.json/.md/.png and trials/ (default {DEFAULT_OUT})"),
    ] = DEFAULT_OUT

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        block = profile.compare
        return {
            "trials": block.trials,
            "budget": block.budget,
            "design": block.design,
            "run_time": block.run_time,
            "load_time": block.load_time,
            "load_rate": rate_text(block),
            "delta": block.delta,
            "users": profile.users,
            "spawn_rate": profile.spawn_rate,
        }

    def config(self, thresholds: Thresholds, profile: Profile, base: str) -> CompareConfig:
        """What the comparison runs; ValueError names a setting it cannot run with."""
        settings = profile.compare.model_copy(
            update={
                "trials": self.trials,
                "budget": self.budget,
                "design": self.design,
                "run_time": self.run_time,
                "load_time": self.load_time,
                **rate_settings(self.load_rate),
                "delta": self.delta,
            }
        )
        # Both sides run one cell: the profile's first, or the one the flags give.
        cell = first_cell(profile, self.replicas, self.cpus, self.memory)
        ramp = self.users / self.spawn_rate
        for key, length, fix in (
            ("run_time", self.run_time, "give a longer --run-time"),
            ("load_time", self.load_time, "give a longer --load-time"),
        ):
            if length.seconds < ramp + MIN_MEASURED_SECONDS:
                raise ValueError(
                    f"{key} {length}: a trial's phase leaves less than {MIN_MEASURED_SECONDS} s after the ramp "
                    f"({self.users:,} users at {self.spawn_rate:g}/s take {ramp:g} s): {fix}"
                )
        load = LoadSettings(
            users=self.users,
            spawn_rate=self.spawn_rate,
            run_time_seconds=self.run_time.seconds,
            scenario=self.scenario(profile, self.thresholds, self.profile),
            warmup="spawn",
        )
        # Each side's server command is its own (`sides`); a comparison never calibrates: its trials
        # show whether Locust was the limit.
        backend = self.backend_settings(
            None, calibrate=False, enforce_limits=not self.no_limits, scenario=load.scenario
        )
        if backend.name == "compose" and (self.api_command or self.base_api_command or self.head_api_command):
            raise ValueError("--api-command is for the process backend; the compose backend compares images")
        return CompareConfig(
            profile=self.profile,
            thresholds=self.thresholds,
            slo=thresholds.slo,
            settings=settings,
            cell=cell,
            load=load,
            backend=backend,
            base=base,
            head=self.head,
            base_api_command=self.base_api_command or self.api_command,
            head_api_command=self.head_api_command or self.api_command,
            seed=self.seed,
            out=self.out,
        )


def compare_config(
    flags: argparse.Namespace, environ: Mapping[str, str], read: Callable[[Path], Thresholds] = load_thresholds
) -> CompareConfig:
    """What `compare` runs: its profile (in the thresholds file as `read` reads it), the LOADTEST_
    variables of `environ` and the flags on top. ThresholdsError or ValueError names what is wrong,
    a missing --base among them."""
    options, thresholds, profile = CompareOptions.resolve_with_profile(flags, environ, read)
    if not options.base:
        raise ValueError("give --base: a git revision such as main (compose: an image)")
    return options.config(thresholds, profile, options.base)
