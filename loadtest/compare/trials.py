"""The trials: both sides alternately on the same cores, in randomised blocks, one short run each.

Block after block, one base trial and one head trial run back to back in an order drawn at random
(A B, B A, B A, A B ...), so neither side always runs first, warm or cold, early or late. Each
trial is a whole one-cell run of `loadtest.runner` (replicas started fresh under the cell's
limits, Locust, run.json, the gate's verdict.json) in `trials/NN-<side>/`; its ramp is not judged.
A trial gives one value per metric, from the Aggregated row of its judged window; a trial that
the gate finds inconclusive (Locust saturated, limits not enforced) gives none.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadtest.gate import GateInputError, evaluate, read_stats
from loadtest.records import (
    RUN_FILE,
    VERDICT_FILE,
    RecordError,
    RunRecord,
    SideRole,
    TrialFigures,
    TrialRecord,
    Verdict,
    read_record,
)
from loadtest.runner.backends import Backend
from loadtest.runner.config import RunConfig
from loadtest.runner.matrix import Cell
from loadtest.runner.runner import Runner
from loadtest.thresholds import Slo

TRIALS_DIR = "trials"


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of the plan."""

    index: int
    """1-based, in running order."""
    block: int
    role: SideRole

    @property
    def folder(self) -> str:
        """Its folder under trials/, e.g. `03-head`."""
        return f"{self.index:02d}-{self.role}"


def plan_trials(blocks: int, seed: int) -> list[PlannedTrial]:
    """`blocks` blocks of one base and one head trial, each block's order drawn with `seed`."""
    rng = random.Random(seed)
    plan: list[PlannedTrial] = []
    for block in range(1, blocks + 1):
        order: list[SideRole] = ["base", "head"]
        rng.shuffle(order)
        plan += [PlannedTrial(len(plan) + offset, block, role) for offset, role in enumerate(order, start=1)]
    return plan


def trial_figures(verdict: Verdict) -> TrialFigures:
    """The trial's values: its judged window's Aggregated row."""
    figures = verdict.figures
    return TrialFigures(
        throughput=figures.rps,
        p50=figures.p50_ms,
        p95=figures.p95_ms,
        p99=figures.p99_ms,
        error_rate=verdict.error_rate,
        requests=figures.requests,
        failures=figures.failures,
    )


def read_trial(folder: Path, planned: PlannedTrial, slo: Slo, started_at: datetime, seconds: float) -> TrialRecord:
    """What the trial in `folder` gave: valid figures, the gate's doubts, or why it did not run."""

    def record(status: str, reasons: list[str], figures: TrialFigures | None = None) -> TrialRecord:
        return TrialRecord.model_validate(
            {
                "index": planned.index,
                "block": planned.block,
                "role": planned.role,
                "folder": f"{TRIALS_DIR}/{planned.folder}",
                "status": status,
                "reasons": reasons,
                "figures": figures,
                "started_at": started_at,
                "duration_seconds": round(seconds, 3),
            }
        )

    try:
        run = read_record(folder / RUN_FILE, RunRecord)
    except RecordError as error:
        return record("failed", [str(error)])
    if run.status != "completed":
        return record(run.status, [run.error or run.status])
    if not (folder / VERDICT_FILE).is_file():
        # The gate could not judge it (no requests, a broken locustfile): say why, as it did.
        try:
            evaluate(read_stats(folder), slo, run)
        except GateInputError as error:
            return record("failed", [str(error)])
        return record("failed", [f"the trial left no {VERDICT_FILE}"])
    try:
        verdict = read_record(folder / VERDICT_FILE, Verdict)
    except RecordError as error:
        return record("failed", [str(error)])
    if verdict.outcome == "inconclusive":
        return record("inconclusive", verdict.reasons, trial_figures(verdict))
    return record("valid", [], trial_figures(verdict))


FORWARDED = ("cleanup problem", "note: Locust exited", "API replica")
"""The runner's lines a comparison passes on to the terminal (the rest speak of the SLO, not judged here)."""


class TrialRunner:
    """Runs one trial of either side: a one-cell `Runner` with that side's backend and commit."""

    def __init__(
        self,
        run_config: RunConfig,
        cell: Cell,
        backends: dict[SideRole, Backend],
        served: dict[SideRole, tuple[str | None, bool | None]],
        cwd: Path,
        say: Callable[[str], None],
    ) -> None:
        self.run_config, self.cell, self.backends, self.served, self.cwd = run_config, cell, backends, served, cwd
        self.say = say

    def run(self, planned: PlannedTrial) -> TrialRecord:
        """Run it into trials/NN-side/ and read what it gave."""
        quiet = io.StringIO()
        runner = Runner(
            self.run_config,
            self.backends[planned.role],
            self.cwd,
            out=quiet,
            err=quiet,
            served=self.served[planned.role],
        )
        started_at, clock = datetime.now(UTC), time.monotonic()
        try:
            folder = runner.run_cell(1, self.cell, folder=planned.folder)
        finally:
            for line in quiet.getvalue().splitlines():
                if line.strip().startswith(FORWARDED):
                    self.say(f"  {line.strip()}")
        return read_trial(folder, planned, self.run_config.slo, started_at, time.monotonic() - clock)
