"""What a `ui` session needs: the profile's values with the flags on top, for one cell."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from loadtest.locust_contract import DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, WebSettings
from loadtest.runner.config import DEFAULT_PROFILE, BackendSettings, merge_config
from loadtest.runner.matrix import Cell
from loadtest.thresholds import Slo, Thresholds

DEFAULT_UI_OUT = Path("results/ui")
CELL_KEYS = ("replicas", "cpus", "memory")
"""The flags that take one value here and a list in `run`."""


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


def merge_ui_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> UiConfig:
    """The profile's values with the flags on top, as for `run`, for one cell.

    Without --replicas, --cpus or --memory the cell takes the profile's first value of each; the
    profile's users and spawn rate pre-fill the UI's start form, and its run time is left out
    unless --run-time is given (a test runs until it is stopped from the UI).
    """
    one_cell = {key: [getattr(args, key)] if getattr(args, key) is not None else None for key in CELL_KEYS}
    run = merge_config(argparse.Namespace(**{**vars(args), **one_cell}), thresholds, thresholds_path)
    return UiConfig(
        profile=run.profile or DEFAULT_PROFILE,
        cell=run.cells[0],
        web=WebSettings(
            users=run.load.users,
            spawn_rate=run.load.spawn_rate,
            run_time_seconds=run.load.run_time_seconds if args.run_time is not None else None,
            host=args.web_host if args.web_host is not None else DEFAULT_WEB_HOST,
            port=args.web_port if args.web_port is not None else DEFAULT_WEB_PORT,
            scenario=run.load.scenario,
            warmup=run.load.warmup,
        ),
        thresholds=run.thresholds,
        slo=run.slo,
        out=args.out if args.out is not None else DEFAULT_UI_OUT,
        backend=run.backend,
    )
