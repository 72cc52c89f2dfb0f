"""The trials: both sides alternately on the same cores, in randomised blocks, one short run each.

Block after block, one base trial and one head trial run back to back in an order drawn at random
(A B, B A, B A, A B ...; balanced in pairs, `orders`), so neither side runs first more often. Each
trial is a cell of the cell engine (`loadtest.runner.engine`: replicas started fresh under the cell's
limits, Locust, run.json, the gate's verdict.json) in `trials/NN-<side>/`; its ramp is not judged.
A trial gives one value per metric, from the Aggregated row of its judged window; a trial that
the gate finds inconclusive (Locust saturated, limits not enforced) gives none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadtest.gate import HistoryRow
from loadtest.records import Figures, RunOutcome, SideRole, TrialRecord
from loadtest.results import CellResult
from loadtest.runner.backends import Backend
from loadtest.runner.engine import CellEngine, CellRequest, MessageKind
from loadtest.runner.matrix import Cell
from loadtest.runner.matrix_run import run_engine
from loadtest.runner.run_options import RunConfig

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

    def record(
        self,
        outcome: RunOutcome,
        reasons: list[str],
        figures: Figures | None,
        started_at: datetime,
        seconds: float,
        points: str | None = None,
    ) -> TrialRecord:
        """Its record in comparison.json, whatever ran it (the engine's cell, or a test's scripted lab)."""
        return TrialRecord(
            index=self.index,
            block=self.block,
            role=self.role,
            folder=f"{TRIALS_DIR}/{self.folder}",
            outcome=outcome,
            reasons=reasons,
            figures=figures,
            points=points,
            started_at=started_at,
            duration_seconds=round(seconds, 3),
        )


def trial_record(result: CellResult, planned: PlannedTrial, started_at: datetime, seconds: float) -> TrialRecord:
    """What the trial's cell gave: valid figures, the gate's doubts, or why it did not run."""

    points = result.verdict.points if result.verdict is not None else None

    def record(outcome: RunOutcome, reasons: list[str], figures: Figures | None = None) -> TrialRecord:
        return planned.record(outcome, reasons, figures, started_at, seconds, points)

    verdict, failure = result.verdict, result.failure
    if failure is not None or verdict is None:
        # Cut short, broke, or the gate could not judge it (no requests, a broken locustfile): say why, as it did.
        return record(result.outcome, [failure.reason if failure is not None else "the trial has no verdict"])
    # Pass or breach alike measured the service: the comparison does not judge the SLO.
    return record(result.outcome, verdict.reasons if verdict.outcome == "inconclusive" else [], verdict.figures)


class TrialProgress:
    """A trial's `CellProgress`: only what happened to the cell reaches the terminal (a replica restarted,
    Locust's exit code, a cleanup problem); its steps and verdict speak of the SLO, not judged here."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def message(self, text: str, kind: MessageKind) -> None:
        """Pass on events and problems, indented under the trial's line."""
        if kind in ("event", "problem"):
            self.say(f"  {text.strip()}")

    def load_started(self, request: CellRequest) -> None:
        """Nothing to show: the comparison says which trial runs."""

    def history(self, rows: Sequence[HistoryRow]) -> None:
        """Nothing to show while it runs."""

    def cell_ended(self, result: CellResult) -> None:
        """Nothing to show: the comparison prints the trial's line."""


class TrialRunner:
    """Runs one trial of either side: a cell of that side's engine (its backend and the commit it serves)."""

    def __init__(
        self,
        run_config: RunConfig,
        cell: Cell,
        backends: dict[SideRole, Backend],
        served: dict[SideRole, tuple[str | None, bool | None]],
        cwd: Path,
        say: Callable[[str], None],
    ) -> None:
        self.run_config, self.cell = run_config, cell
        self.engines: dict[SideRole, CellEngine] = {
            role: run_engine(run_config, backend, cwd, served[role]) for role, backend in backends.items()
        }
        self.progress = TrialProgress(say)

    def run(self, planned: PlannedTrial) -> TrialRecord:
        """Run it into trials/NN-side/; what it gave."""
        request = CellRequest(
            cell=self.cell,
            load=self.run_config.load,
            folder=self.run_config.out / planned.folder,
            label=f"trial {planned.index}",
            run_time=self.run_config.run_time.text,
        )
        started_at, clock = datetime.now(UTC), time.monotonic()
        result = self.engines[planned.role].run_cell(request, self.progress)
        return trial_record(result, planned, started_at, time.monotonic() - clock)
