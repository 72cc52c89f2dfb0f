"""What a search knows at each moment, and the only ways it changes.

`Search` (search.py) runs the phases and the probes; what each probe means for the answer is
recorded here, through a transition named for it (`found`, `propose`, `lost`, `held`, `confirmed`,
`boundary_unsettled`, `stopped`...). The renderer (`search_summary`) builds search.json, search.md
and search.png from this state alone. Every probe is kept as its record, so nothing looks a probe up
by its number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loadtest.runner.matrix import Cell
from loadtest.search.grid import Grid
from loadtest.search.records import BudgetRecord, CapacityRecord, ConfirmationRecord, ProbeRecord
from loadtest.search.walk import Finding, Resolution, cheapest_pass, next_probe, resolve

ConfirmationState = Literal["running", "held", "lost", "unsettled"]
"""running: not every run has been made; held: every run passed with margin; lost: one failed (a breach, or P95
over the margin); unsettled: one was inconclusive, or the search stopped."""
RunnerUpState = Literal["not run", "failed", "held", "unsettled", "none cheaper"]
"""The configuration just cheaper than the winner, at full length: it must fail for the winner to be confirmed;
`none cheaper`: the winner is the grid's cheapest."""


@dataclass(frozen=True)
class Stop:
    """Why the search ended before it was done, in words."""

    reason: str


@dataclass(frozen=True)
class BudgetRanOut(Stop):
    """Not enough budget left for the next probe (and what must follow it)."""


@dataclass(frozen=True)
class ProbeBroke(Stop):
    """A probe's cell could not be judged: nothing after it can be trusted to run."""


@dataclass(frozen=True)
class CutShort(Stop):
    """A signal (Ctrl-C, SIGTERM) or a probe cut short by one."""


@dataclass
class Confirmation:
    """The winner twice at full length with margin, then the configuration just cheaper once."""

    cell: Cell
    margin_p95_ms: float
    runs: list[ProbeRecord] = field(default_factory=list)
    state: ConfirmationState = "running"
    runner_up: Cell | None = None
    runner_up_runs: list[ProbeRecord] = field(default_factory=list)
    runner_up_state: RunnerUpState = "not run"

    def ran(self, record: ProbeRecord) -> None:
        """One run of the winner: a pass goes on; a breach loses it; anything else leaves it unsettled."""
        self.runs.append(record)
        if record.outcome != "pass":
            self.state = "lost" if record.outcome == "breach" else "unsettled"

    def all_held(self) -> None:
        """Every run of the winner passed with margin."""
        self.state = "held"

    def nothing_cheaper(self) -> None:
        """The winner is the grid's cheapest: there is no runner-up to run."""
        self.runner_up_state = "none cheaper"

    def runner_up_ran(self, cell: Cell, record: ProbeRecord) -> None:
        """The configuration just cheaper, at full length: failed, held, or neither."""
        self.runner_up = cell
        self.runner_up_runs.append(record)
        self.runner_up_state = (
            "failed" if record.outcome == "breach" else "held" if record.outcome == "pass" else "unsettled"
        )

    @property
    def confirmed(self) -> bool:
        """The winner held and nothing cheaper did."""
        return self.state == "held" and self.runner_up_state in ("failed", "none cheaper")

    def record(self) -> ConfirmationRecord:
        """As search.json states it."""
        return ConfirmationRecord(
            cell=self.cell.name,
            margin_p95_ms=self.margin_p95_ms,
            runs=[run.index for run in self.runs],
            held={"held": True, "lost": False}.get(self.state),
            runner_up=self.runner_up.name if self.runner_up is not None else None,
            runner_up_runs=[run.index for run in self.runner_up_runs],
            runner_up_failed={"failed": True, "held": False}.get(self.runner_up_state),
            confirmed=self.confirmed,
        )


@dataclass
class SearchState:
    """Everything a search has found, changed only through the transitions below."""

    grid: Grid
    budget: BudgetRecord
    """What the budget allows, as planned before the first probe (zeros until then)."""
    cells: list[Cell] = field(init=False)
    """The configurations of the CPU walk (at the grid's largest memory limit), cheapest first."""
    probes: list[ProbeRecord] = field(default_factory=list)
    findings: dict[Cell, Finding] = field(default_factory=dict)
    """What each configuration of the CPU walk was found to be, in the order first probed."""
    memory_probes: dict[Cell, ProbeRecord] = field(default_factory=dict)
    demoted: dict[Cell, str] = field(default_factory=dict)
    """Configurations that held their probe but not their confirmation, with why."""
    proposed: set[Cell] = field(default_factory=set)
    """The walk's winners that went on to be confirmed (a second time means the boundary is not settled)."""
    confirmations: list[Confirmation] = field(default_factory=list)
    candidate: Cell | None = None
    """The cheapest configuration that held its probes, with its memory limit, while it is being confirmed."""
    holding: Cell | None = None
    """The last configuration that held its confirmation runs (the winner once the runner-up fails)."""
    winner: Cell | None = None
    """The confirmed winner."""
    unsettled: Cell | None = None
    """A cheaper configuration that both failed and held at full length: the boundary is not settled."""
    capacities: list[CapacityRecord] = field(default_factory=list)
    stop: Stop | None = None

    def __post_init__(self) -> None:
        self.cells = self.grid.configurations()

    # ------------------------------------------------------------------------------ transitions

    def probed(self, record: ProbeRecord) -> None:
        """A probe ran (every probe, whatever its kind)."""
        self.probes.append(record)

    def found(self, cell: Cell, finding: Finding) -> list[Cell]:
        """What a probe of the CPU walk found for `cell`; the configurations it newly rules out."""
        before = self.resolved()
        self.findings[cell] = finding
        after = self.resolved()
        return [other for other in self.cells if after[other].state == "ruled out" != before[other].state]

    def memory_probed(self, cell: Cell, record: ProbeRecord) -> None:
        """The winner's CPU configuration at a smaller memory limit."""
        self.memory_probes[cell] = record

    def propose(self, best: Cell, final: Cell) -> None:
        """The walk's cheapest pass `best`, at its fitted memory limit `final`, goes to its confirmation."""
        self.proposed.add(best)
        self.candidate = final

    def confirmation_ended(self, confirmation: Confirmation) -> None:
        """A confirmation ran to its end (one the search stopped in the middle of is not kept)."""
        self.confirmations.append(confirmation)

    def lost(self, best: Cell, why: str) -> None:
        """The walk's winner did not hold at full length: it counts as failed, and the walk goes on."""
        self.demoted[best] = why
        self.findings[best] = "breach"
        self.candidate = None

    def held(self, final: Cell) -> None:
        """`final` held its confirmation runs."""
        self.holding = final

    def confirmed(self, final: Cell) -> None:
        """`final` held, and nothing cheaper did: the answer."""
        self.winner = final

    def boundary_unsettled(self, cell: Cell) -> None:
        """`cell` lost its confirmation before and has now held as a runner-up: it sits on the boundary."""
        self.unsettled = cell

    def capacity_measured(self, capacity: CapacityRecord) -> None:
        """The most users one configuration that held still holds."""
        self.capacities.append(capacity)

    def planned(self, budget: BudgetRecord) -> None:
        """What the budget allows, before the first probe."""
        self.budget = budget

    def stopped(self, stop: Stop) -> None:
        """The search ends before it is done (a signal's stop replaces any other: it is the last word)."""
        if self.stop is None or isinstance(stop, CutShort):
            self.stop = stop

    # ------------------------------------------------------------------------------ questions

    def resolved(self) -> dict[Cell, Resolution]:
        """Every configuration of the CPU walk's state, cheapest first."""
        return resolve(self.cells, self.findings, self.grid)

    def next_probe(self) -> Cell | None:
        """The configuration the CPU walk probes next (None: the walk is done)."""
        return next_probe(self.cells, self.findings, self.grid)

    def cheapest_pass(self) -> Cell | None:
        """The cheapest configuration of the walk found to hold."""
        return cheapest_pass(self.findings, self.grid)

    def best_known(self) -> Cell | None:
        """The winner, else the configuration that held its confirmation, else the one that held its probes."""
        return self.winner or self.holding or self.candidate

    def last_pass(self, cell: Cell, users: int) -> ProbeRecord | None:
        """The newest probe of `cell` at `users` that passed."""
        passed = [p for p in self.probes if p.cell == cell.name and p.outcome == "pass" and p.users == users]
        return passed[-1] if passed else None
