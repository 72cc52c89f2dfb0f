"""What one cell gave: `CellResult`, with the run record, the verdict, and a typed failure.

The cell engine (`loadtest.runner.engine`) returns one for every cell it runs, so that its callers
(`run`'s matrix, the search's probes, compare's trials, `ui`'s tests) never read back the files it
wrote; `python -m loadtest report` makes the same from a cell folder (`report.cells.collect_cell`).

A failure says why a cell has no verdict, as a type a caller can branch on instead of parsing
words: the run broke (`RunFailed`, or one of its kinds), a signal cut it short (`Interrupted`), or
it completed and the gate could not judge it (`CannotJudge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loadtest.gate.reading import LocustStats
from loadtest.gate.verdict import limits_reason
from loadtest.gate.verdict_summary import verdict_line
from loadtest.records import OUTCOME_WORDS, Figures, RunOutcome, RunRecord, Verdict
from loadtest.util.text import first_line

PASS, FAIL, INCONCLUSIVE = OUTCOME_WORDS["pass"], OUTCOME_WORDS["breach"], OUTCOME_WORDS["inconclusive"]
CANNOT_JUDGE, CUT_SHORT, ERROR = (
    OUTCOME_WORDS["cannot judge"],
    OUTCOME_WORDS["cut short"],
    OUTCOME_WORDS["failed to run"],
)
"""How a cell's outcome reads in the matrix's table and matrix.json."""


@dataclass(frozen=True)
class CellFailure:
    """Why a cell has no verdict; `reason` says it with its evidence (a log's tail, the gate's message)."""

    reason: str


@dataclass(frozen=True)
class RunFailed(CellFailure):
    """The run broke (run.json's status `failed`): a backend that could not start the replicas or lost them."""


@dataclass(frozen=True)
class NotReady(RunFailed):
    """The replicas started, none exited, and they were not ready in time (too little CPU to start, say)."""


@dataclass(frozen=True)
class ReplicaDied(RunFailed):
    """A replica exited before it was ready, or died more often than it may be restarted."""


@dataclass(frozen=True)
class LocustFailed(RunFailed):
    """Locust wrote no statistics, or did not finish in time."""


@dataclass(frozen=True)
class Interrupted(CellFailure):
    """A signal cut the cell short (run.json's status `interrupted`)."""


@dataclass(frozen=True)
class CannotJudge(CellFailure):
    """The cell completed, and the gate could not judge it (no requests, a broken locustfile, damaged CSVs)."""


@dataclass(frozen=True)
class CellResult:
    """One cell: what ran (`record`, run.json), the gate's `verdict`, the Aggregated `figures`, or a `failure`.

    `verdict` is None exactly when `failure` is set. `figures` are the verdict's, else Locust's
    Aggregated row when its files could be read; `stats` are Locust's files as the gate read them
    (None when they were not read, or could not be).
    """

    folder: Path
    record: RunRecord
    verdict: Verdict | None
    figures: Figures | None
    failure: CellFailure | None = None
    stats: LocustStats | None = None

    @property
    def problem(self) -> str | None:
        """Why the cell has no verdict, in words (None when it has one)."""
        return self.failure.reason if self.failure is not None else None

    @property
    def outcome(self) -> RunOutcome:
        """How the cell ended: the gate's outcome, or why there is none."""
        if self.record.status == "failed":
            return "failed to run"
        if self.record.status == "interrupted":
            return "cut short"
        if self.verdict is None:
            return "cannot judge"
        if not self.record.limits_enforced:
            # The gate's rule, also for a verdict made without run.json (an old or hand-made one).
            return "inconclusive"
        return self.verdict.outcome

    @property
    def result(self) -> str:
        """The outcome in the matrix's words: PASS, FAIL, INCONCLUSIVE, CANNOT JUDGE, CUT SHORT or ERROR."""
        return OUTCOME_WORDS[self.outcome]

    @property
    def reasons(self) -> list[str]:
        """Why the result, each with its evidence: the verdict's, or the unenforced limits when the
        verdict was made without knowing of them (its pass or breach judged an unlimited service)."""
        if self.verdict is None:
            return []
        if self.record.limits_enforced or limits_reason(self.record) in self.verdict.reasons:
            return self.verdict.reasons
        return [limits_reason(self.record), *(self.verdict.reasons if self.verdict.outcome == "inconclusive" else [])]


def result_line(result: CellResult, name: str | None = None) -> str:
    """A cell's outcome in one line, after `name` (default the cell's): its verdict, or why it has none."""
    name, failure = name or result.record.cell, result.failure
    if isinstance(failure, CannotJudge):
        return f"{name}: CANNOT JUDGE — {first_line(failure.reason)}"
    if failure is not None:
        return f"{name}: {result.record.status.upper()} — not judged: {first_line(failure.reason)}"
    assert result.verdict is not None  # a result without a failure has a verdict
    return f"{name}: {verdict_line(result.verdict)}"
