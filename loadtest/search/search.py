"""The search: the cheapest configuration of the grid that holds the SLO, confirmed, its memory and capacity.

In order, each step only when the budget still covers it:
1. the CPU walk (`plan`) at the grid's largest memory limit, until the cheapest configuration that holds
   is known;
2. memory: the winner's replicas and CPU limit at the grid's smaller memory limits, largest first, until
   one fails (an OOM kill is a failure with that reason); the smallest that held is the winner's;
3. confirmation: the winner twice at full length (the profile's load, as `python -m loadtest run` runs
   it), each with P95 at most 0.9 x the limit, and the configuration just cheaper once at full length,
   which must fail. A winner without that margin counts as failed and the walk goes on; a runner-up that
   holds becomes the configuration to beat;
4. capacity (question 3): the most users each configuration that held still holds.
What each probe means is recorded in the search's state (`state`), through a transition named for it;
search.json, search.md and search.png are built from that state by the renderer (`search_summary`).
Whatever stops it (the budget, Ctrl-C, a cell that breaks), they keep what was measured and say what
was not tried; search.json is rewritten after every probe.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import TextIO

from loadtest import exitcodes
from loadtest.records import RecordError, read_record, write_record
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend
from loadtest.runner.generator import cell_workers
from loadtest.runner.matrix import Cell
from loadtest.runner.matrix_run import GENERATOR_HEADROOM, measure_generator, offered_load_line, run_engine
from loadtest.runner.progress import ProgressLine
from loadtest.search.budget import Budget
from loadtest.search.capacity import Bisection
from loadtest.search.probe import MARGIN, Prober, Trial
from loadtest.search.records import (
    PROBES_DIR,
    SEARCH_FILE,
    AgainstRecord,
    BudgetRecord,
    CapacityPoint,
    CapacityRecord,
    Limit,
    ProbeRecord,
    SearchRecord,
    cell_fields,
)
from loadtest.search.search_options import SearchConfig
from loadtest.search.search_summary import search_record, write_outputs
from loadtest.search.state import BudgetRanOut, Confirmation, CutShort, ProbeBroke, SearchState, Stop
from loadtest.search.walk import Finding, most_probes, probes_to_reach
from loadtest.util.text import first_line
from loadtest.util.units import format_clock

CONFIRMATION_RUNS = 2


class StopSearch(Exception):
    """The search cannot go on: `stop` says why (the budget, a cell that broke, a signal)."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.reason)
        self.stop = stop


class Search:
    """One `python -m loadtest search`: the phases, each probe's meaning recorded in `state`."""

    def __init__(
        self,
        config: SearchConfig,
        backend: Backend,
        cwd: Path,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        trial: Trial | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`trial` runs and judges one probe (default: a cell of the engine); `clock` times the budget."""
        self.config, self.backend, self.cwd, self.out = config, backend, cwd, out
        self.grid = config.grid
        self.engine = run_engine(config.run, backend, cwd)
        # The probe's own line (`describe_probe`) gives its outcome: the terminal does not repeat the verdict.
        self.progress = ProgressLine(err, numbered=False, verdicts=False)
        self.budget = Budget(config.budget_seconds, clock)
        self.state = SearchState(
            self.grid,
            budget=BudgetRecord(
                seconds=config.budget_seconds,
                probe_seconds_estimate=0,
                reserve_seconds=0,
                probes_allowed=0,
                walk_at_most=0,
            ),
        )
        self.prober = Prober(self.engine, self.progress, self.state, config.run.slo, config.run.out, self.budget, trial)
        self.prober.planned = tuple(cell.name for cell in config.run.cells)
        self.prober.on_record = self.save
        self.compared: AgainstRecord | None = None
        """The other search's answer (`--against`), read once at the start."""

    # ----------------------------------------------------------------------------------- the run

    def say(self, text: str) -> None:
        """A line on the terminal (stderr)."""
        self.progress.message(text)

    def run(self) -> int:
        """The whole search; the exit code."""
        config = self.config
        if not self.backend.limits_enforced:
            # Nothing to compare: every configuration would run unlimited, so no probe could judge one.
            self.say(
                f"loadtest search: the search compares CPU and memory limits, which cannot be enforced here "
                f"({self.backend.limits_not_enforced_reason}): it cannot judge any configuration"
            )
            self.backend.close()
            return exitcodes.CANNOT_JUDGE
        config.run.out.mkdir(parents=True, exist_ok=True)
        # The probes of an earlier search into the same folder are not this one's.
        shutil.rmtree(config.run.out / PROBES_DIR, ignore_errors=True)
        self.compared = self.against()
        grid = self.grid
        self.say(
            f"search: {grid.size} configuration(s) of replicas {_listed(grid.replicas)} x CPU {_listed(grid.cpus)} x "
            f"memory {', '.join(grid.memory)}, cheapest first by {self.cost_rule()}"
        )
        self.say(
            f"each probe: {config.ramp_seconds} s of ramp (not judged), then {config.probe_seconds} s measured; "
            f"the winner's confirmation: {config.run.run_time} at full length, twice"
        )
        self.say(offered_load_line(config.run.load, config.run.slo))
        self.say(self.backend.describe())
        with interrupts.catch_signals():
            try:
                if config.run.backend.calibrate:
                    self.engine.calibration = measure_generator(config.run, self.cwd, self.say)
                self.plan_budget()
                self.search()
                self.measure_capacities()
            except StopSearch as stopped:
                self.state.stopped(stopped.stop)
            except interrupts.RunInterrupted:
                pass
            finally:
                with interrupts.shielded():
                    for problem in self.backend.close():
                        self.say(f"cleanup problem: {problem}")
            if interrupts.received():
                self.state.stopped(
                    CutShort(f"cut short by {interrupts.received()} after {len(self.state.probes)} probe(s)")
                )
            with interrupts.shielded():
                return self.report()

    def cost_rule(self) -> str:
        """How configurations are priced, in words."""
        weights = self.grid.weights
        if weights.memory_gib == 0:
            return f"CPUs (replicas x CPU limit{f' x {weights.cpu:g}' if weights.cpu != 1 else ''}), then memory"
        return f"{weights.cpu:g} per CPU + {weights.memory_gib:g} per GiB of memory"

    def plan_budget(self) -> None:
        """Say what the budget allows: probes, the confirmation kept aside, what the walk cannot reach."""
        config, grid, budget, cells = self.config, self.grid, self.budget, self.state.cells
        probe = mean(budget.estimate(cell, config.probe_load().run_time_seconds) for cell in cells)
        full = mean(budget.estimate(cell, config.run.load.run_time_seconds) for cell in cells)
        reserve = (CONFIRMATION_RUNS + 1) * full
        allowed = max(0, math.floor((budget.remaining - reserve) / probe))
        unreachable = [cell.name for cell in cells if probes_to_reach(cell, grid) > allowed]
        self.state.planned(
            self.state.budget.model_copy(
                update={
                    "probe_seconds_estimate": round(probe, 1),
                    "reserve_seconds": round(reserve, 1),
                    "probes_allowed": allowed,
                    "walk_at_most": most_probes(grid),
                    "could_not_reach": unreachable,
                }
            )
        )
        self.say(
            f"budget {format_clock(config.budget_seconds)} ({format_clock(budget.remaining)} left): about {allowed} "
            f"probe(s) of ~{probe:.0f} s, after ~{reserve:.0f} s kept to confirm the winner; the walk needs at most "
            f"{most_probes(grid)} ({len(grid.replicas)} replica count(s) + {len(grid.cpus)} CPU limit(s) - 1)"
        )
        if unreachable:
            self.say(f"the budget cannot reach, whatever the probes find: {', '.join(unreachable)}")

    # ----------------------------------------------------------------------------------- the phases

    def search(self) -> None:
        """Walk, fit the memory, confirm; again while a winner loses its confirmation or a runner-up holds."""
        state = self.state
        while True:
            self.walk()
            best = state.cheapest_pass()
            if best is None:
                return
            if best in state.proposed:
                state.boundary_unsettled(best)
                return
            final = self.fit_memory(best)
            state.propose(best, final)
            confirmation = self.confirm(final)
            state.confirmation_ended(confirmation)
            if confirmation.state == "unsettled":
                return
            if confirmation.state == "lost":
                state.lost(best, f"held its probe, not its confirmation: {confirmation.runs[-1].reason}")
                self.say(f"{final.name} did not hold at full length with margin: the walk goes on")
                continue
            state.held(final)
            if confirmation.runner_up_state == "held":
                runner_up = self.at_largest_memory(confirmation.runner_up)
                state.found(runner_up, "pass")
                self.say(f"the runner-up {runner_up.name} held at full length: it is now the configuration to beat")
                continue
            if confirmation.confirmed:
                state.confirmed(final)
            if confirmation.runner_up_state == "failed" and self.failure_counts(confirmation.runner_up_runs[-1]):
                # It may have been inconclusive in the walk: its failure at full length settles it.
                state.found(self.at_largest_memory(confirmation.runner_up), "breach")
            return

    def at_largest_memory(self, cell: Cell | None) -> Cell:
        """`cell`'s replicas and CPU at the grid's largest memory limit: the CPU walk's configuration."""
        assert cell is not None  # a runner-up ran, so it is known
        return Cell(cell.replicas, cell.cpus, self.grid.largest_memory)

    def failure_counts(self, record: ProbeRecord) -> bool:
        """Whether a failure at `record`'s memory limit is one at the grid's largest (the walk's findings):
        memory does not change latency, so only an OOM kill under a smaller limit does not carry over."""
        return record.memory == self.grid.largest_memory or record.oom_kills == 0

    def walk(self) -> None:
        """Probe the CPU configurations the walk names until the cheapest that holds is known."""
        while (cell := self.state.next_probe()) is not None:
            load = self.config.probe_load()
            self.afford(cell, load.run_time_seconds, self.confirmation_cost(cell))
            record = self.settle(self.prober.probe("cpu", cell, load))
            ruled = self.state.found(cell, _finding(record))
            if ruled:
                names = ", ".join(other.name for other in ruled)
                self.say(f"  {cell.name} failed: it rules out {names} (no more of any resource)")

    def fit_memory(self, best: Cell) -> Cell:
        """The winner's replicas and CPU at the grid's smaller memory limits, largest first; the smallest that held."""
        final = best
        for size in reversed(self.grid.memory[:-1]):
            cell = Cell(best.replicas, best.cpus, size)
            load = self.config.probe_load()
            self.afford(cell, load.run_time_seconds, self.confirmation_cost(cell))
            record = self.settle(self.prober.probe("memory", cell, load))
            self.state.memory_probed(cell, record)
            if record.outcome != "pass":
                smaller = [other for other in self.grid.memory_variants(best) if other.memory_bytes < cell.memory_bytes]
                if record.outcome == "breach" and smaller:
                    self.say(f"  {cell.name} failed: it rules out {', '.join(other.name for other in smaller)}")
                break
            final = cell
        return final

    def confirm(self, final: Cell) -> Confirmation:
        """The winner twice at full length with margin, then the configuration just cheaper once."""
        load = self.config.run.load
        confirmation = Confirmation(final, MARGIN * self.config.run.slo.max_p95_ms)
        self.say(
            f"confirming {final.name}: {CONFIRMATION_RUNS} runs at full length, P95 at most "
            f"{confirmation.margin_p95_ms:,.0f} ms ({MARGIN:g} x the limit)"
        )
        for _ in range(CONFIRMATION_RUNS):
            self.afford(final, load.run_time_seconds, 0.0)
            confirmation.ran(self.settle(self.prober.probe("confirm", final, load, confirmation.margin_p95_ms)))
            if confirmation.state != "running":
                return confirmation
        confirmation.all_held()
        runner_up = self.grid.next_cheaper(final)
        if runner_up is None:
            self.say(f"{final.name} is the grid's cheapest configuration: there is no runner-up to re-run")
            confirmation.nothing_cheaper()
            return confirmation
        self.afford(runner_up, load.run_time_seconds, 0.0)
        confirmation.runner_up_ran(runner_up, self.settle(self.prober.probe("runner-up", runner_up, load)))
        return confirmation

    def measure_capacities(self) -> None:
        """The most users the winner, then every other configuration that held, still holds (budget allowing)."""
        chosen = self.state.best_known()
        if self.config.capacity_steps == 0 or chosen is None:
            return
        targets = [chosen]
        findings = self.state.findings
        held = [cell for cell in self.grid.cheapest_first(findings) if findings[cell] == "pass"]
        for cell in held:
            if all((cell.replicas, cell.cpus) != (other.replicas, other.cpus) for other in targets):
                targets.append(cell)
        for cell in targets:
            base = self.state.last_pass(cell, self.config.run.load.users)
            if base is None:
                continue
            self.state.capacity_measured(self.capacity(cell, base))
            self.save()

    def capacity(self, cell: Cell, base: ProbeRecord) -> CapacityRecord:
        """A bisection over users from the users `base` held at."""
        bisection = Bisection(held=base.users, steps=self.config.capacity_steps)
        points = [_point(base)]
        limited: Limit | None = None
        self.say(f"capacity of {cell.name}: from {base.users:,} users, at most {self.config.capacity_steps} probes")
        while (users := bisection.next_users()) is not None:
            load = self.config.probe_load(users)
            if self.generator_short(cell, users):
                limited = "generator"
                self.say(f"  {users:,} users would ask more than {GENERATOR_HEADROOM:.0%} of what Locust can send here")
                break
            if not self.budget.allows(self.budget.estimate(cell, load.run_time_seconds)):
                limited = "budget"
                break
            record = self.prober.probe("capacity", cell, load)
            if record.outcome == "out of budget":
                limited = "budget"
                break
            self.settle(record)
            points.append(_point(record))
            if record.outcome == "inconclusive":
                limited = "generator"
                break
            bisection.record(users, record.outcome == "pass")
        best = max((point for point in points if point.outcome == "pass"), key=lambda point: point.users)
        return CapacityRecord(
            **cell_fields(cell),
            users=best.users,
            rps=best.rps,
            p95_ms=best.p95_ms,
            failed_at=bisection.failed,
            limited_by=limited or ("slo" if bisection.failed is not None else "steps"),
            points=points,
        )

    # ----------------------------------------------------------------------------------- helpers

    def afford(self, cell: Cell, run_seconds: int, reserve: float) -> None:
        """StopSearch unless the budget covers a probe of `cell` and then `reserve` seconds more."""
        need = self.budget.estimate(cell, run_seconds)
        if not self.budget.allows(need + reserve):
            after = f" and {reserve:.0f} s to confirm a winner" if reserve else ""
            raise StopSearch(
                BudgetRanOut(
                    f"the budget ran out: {format_clock(self.budget.remaining)} left, not enough for {cell.name} "
                    f"(~{need:.0f} s){after}"
                )
            )

    def confirmation_cost(self, cell: Cell) -> float:
        """What confirming `cell` would take: the winner twice and the runner-up once, at full length."""
        seconds = self.config.run.load.run_time_seconds
        runner_up = self.grid.next_cheaper(cell) or cell
        return CONFIRMATION_RUNS * self.budget.estimate(cell, seconds) + self.budget.estimate(runner_up, seconds)

    def settle(self, record: ProbeRecord) -> ProbeRecord:
        """`record`, unless it ends the search: a cell that broke, Ctrl-C, the budget (StopSearch)."""
        if record.outcome in ("failed to run", "cannot judge"):
            raise StopSearch(ProbeBroke(f"probe {record.index} ({record.cell}) could not be judged: {record.reason}"))
        if record.outcome == "cut short":
            raise StopSearch(CutShort(f"probe {record.index} ({record.cell}) was cut short: {record.reason}"))
        if record.outcome == "out of budget":
            raise StopSearch(BudgetRanOut(f"the budget ran out during probe {record.index} ({record.cell})"))
        return record

    def generator_short(self, cell: Cell, users: int) -> bool:
        """Whether `users` would ask more of this cell's Locust than it delivers with room to spare."""
        calibration = self.engine.calibration
        if calibration is None:
            return False
        workers = cell_workers(cell, self.config.run.backend.locust_workers)
        asked = self.config.run.load.scenario.asked_rps(users)
        return asked > GENERATOR_HEADROOM * calibration.for_workers(workers).total_rps

    # ----------------------------------------------------------------------------------- the answer

    def report(self) -> int:
        """Write search.json, search.md and search.png and print the answer; the exit code."""
        record = self.record(complete=self.state.stop is None)
        write_record(self.config.run.out / SEARCH_FILE, record)
        console = write_outputs(record, self.config.run.out)
        self.progress.end_line()
        self.out.write("\n" + console)
        self.out.write(f"\nResults: {self.config.run.out}/ (answers: {self.config.run.out / 'search.md'})\n")
        self.out.flush()
        return record.exit_code

    def save(self) -> None:
        """search.json as it stands (marked incomplete), after every probe."""
        write_record(self.config.run.out / SEARCH_FILE, self.record(complete=False))

    def record(self, complete: bool) -> SearchRecord:
        """search.json from the state as it stands."""
        calibration = self.engine.calibration
        return search_record(
            self.state,
            self.config,
            used_seconds=self.budget.used,
            generator_rps=calibration.per_worker_rps if calibration is not None else None,
            compared=self.compared,
            complete=complete,
            signal=interrupts.received(),
        )

    def against(self) -> AgainstRecord | None:
        """The comparison with another search's answer, when one was given."""
        folder = self.config.against
        if folder is None:
            return None
        try:
            other = read_record(folder / SEARCH_FILE, SearchRecord)
        except RecordError as error:
            self.say(f"cannot compare with {folder}: {first_line(error)}")
            return None
        runs = other.confirmation.runs if other.confirmation is not None else []
        try:
            figures = other.probe(runs[-1]).figures if runs else None
        except KeyError:
            figures = None
        # The ratio waits for this search's winner: the renderer sets it.
        return AgainstRecord(
            folder=str(folder), winner=other.winner, rps=figures.rps if figures else None, cost_ratio=None
        )


_FINDINGS: dict[str, Finding] = {"pass": "pass", "breach": "breach", "inconclusive": "inconclusive"}


def _finding(record: ProbeRecord) -> Finding:
    """What a settled probe found (`settle` lets only these three through)."""
    return _FINDINGS[record.outcome]


def _point(record: ProbeRecord) -> CapacityPoint:
    figures = record.figures
    return CapacityPoint(
        users=record.users,
        outcome=record.outcome,
        rps=figures.rps if figures else None,
        p95_ms=figures.p95_ms if figures else None,
        probe=record.index,
    )


def _listed(values: tuple[float, ...] | tuple[int, ...]) -> str:
    return ",".join(f"{value:g}" for value in values)
