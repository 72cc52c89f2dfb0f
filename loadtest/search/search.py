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
Whatever stops it (the budget, Ctrl-C, a cell that breaks), search.json, search.md and search.png keep
what was measured and say what was not tried; search.json is rewritten after every probe.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
from loadtest.search.config import SearchConfig
from loadtest.search.grid import cost_unit
from loadtest.search.memory import HEADROOM, largest_peaks, recommended_limit
from loadtest.search.plan import (
    Finding,
    Resolution,
    cheapest_pass,
    most_probes,
    next_probe,
    probes_to_reach,
    resolve,
)
from loadtest.search.probe import MARGIN, Prober, Trial
from loadtest.search.records import (
    PROBES_DIR,
    SEARCH_FILE,
    AgainstRecord,
    BudgetRecord,
    CapacityPoint,
    CapacityRecord,
    Choice,
    ConfigurationRecord,
    ConfirmationRecord,
    GridRecord,
    Limit,
    MemoryRecord,
    ProbeRecord,
    Result,
    SearchRecord,
    SkippedRecord,
    cell_fields,
)
from loadtest.search.render import write_outputs
from loadtest.util.text import first_line
from loadtest.util.units import format_clock

CONFIRMATION_RUNS = 2


class StopSearch(Exception):
    """The search cannot go on; the message says why (the budget, a cell that broke, a signal)."""


class Search:
    """One `python -m loadtest search`."""

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
        self.prober = Prober(self.engine, self.progress, self.grid, config.run.slo, config.run.out, self.budget, trial)
        self.prober.planned = tuple(cell.name for cell in config.run.cells)
        self.prober.on_record = self.save
        self.cells = self.grid.configurations()
        self.findings: dict[Cell, Finding] = {}
        self.demoted: dict[Cell, str] = {}
        """CPU configurations that passed a probe but not their confirmation, with why."""
        self.memory_probes: dict[Cell, ProbeRecord] = {}
        self.confirmations: list[ConfirmationRecord] = []
        self.winner: Cell | None = None
        """The confirmed winner, with its memory limit."""
        self.candidate: Cell | None = None
        """The cheapest configuration that held its probes, with its memory limit, while it is not confirmed."""
        self.holding: Cell | None = None
        """The last configuration that held its confirmation runs (the winner once the runner-up fails)."""
        self.unsettled: Cell | None = None
        """A cheaper configuration that both failed and held at full length: the boundary is not settled."""
        self.capacities: list[CapacityRecord] = []
        self.stopped: str | None = None
        """Why the search ended before it was done."""
        self.broken = False
        """A probe could not be judged (the cell broke): nothing after it can be trusted to run."""
        self.compared: AgainstRecord | None = None
        """The other search's answer (`--against`), read once at the start."""
        self.budget_plan = BudgetRecord(
            seconds=config.budget_seconds, probe_seconds_estimate=0, reserve_seconds=0, probes_allowed=0, walk_at_most=0
        )

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
            except StopSearch as reason:
                self.stopped = str(reason)
            except interrupts.RunInterrupted:
                pass
            finally:
                with interrupts.shielded():
                    for problem in self.backend.close():
                        self.say(f"cleanup problem: {problem}")
            if interrupts.received():
                self.stopped = f"cut short by {interrupts.received()} after {len(self.prober.records)} probe(s)"
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
        config, grid, budget = self.config, self.grid, self.budget
        probe = mean(budget.estimate(cell, config.probe_load().run_time_seconds) for cell in self.cells)
        full = mean(budget.estimate(cell, config.run.load.run_time_seconds) for cell in self.cells)
        reserve = (CONFIRMATION_RUNS + 1) * full
        allowed = max(0, math.floor((budget.remaining - reserve) / probe))
        unreachable = [cell.name for cell in self.cells if probes_to_reach(cell, grid) > allowed]
        self.budget_plan = self.budget_plan.model_copy(
            update={
                "probe_seconds_estimate": round(probe, 1),
                "reserve_seconds": round(reserve, 1),
                "probes_allowed": allowed,
                "walk_at_most": most_probes(grid),
                "could_not_reach": unreachable,
            }
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
        tried: set[Cell] = set()
        while True:
            self.walk()
            best = cheapest_pass(self.findings, self.grid)
            if best is None:
                return
            if best in tried:
                # It lost its confirmation before and has now held as a runner-up: it sits on the boundary.
                self.unsettled = best
                return
            tried.add(best)
            final = self.fit_memory(best)
            self.candidate = final
            confirmation = self.confirm(final)
            self.confirmations.append(confirmation)
            if confirmation.held is None:
                return
            if not confirmation.held:
                run = self.prober.records[confirmation.runs[-1] - 1]
                self.demoted[best] = f"held its probe, not its confirmation: {run.reason}"
                self.findings[best] = "fail"
                self.candidate = None
                self.say(f"{final.name} did not hold at full length with margin: the walk goes on")
                continue
            self.holding = final
            runner_up = (
                self.prober.records[confirmation.runner_up_runs[-1] - 1] if confirmation.runner_up_runs else None
            )
            if confirmation.runner_up_failed is not False:
                if confirmation.confirmed:
                    self.winner = final
                if runner_up is not None and confirmation.runner_up_failed and self.failure_counts(runner_up):
                    # It may have been inconclusive in the walk: its failure at full length settles it.
                    self.findings[Cell(runner_up.replicas, runner_up.cpus, self.grid.largest_memory)] = "fail"
                return
            assert runner_up is not None  # runner_up_failed is False only once it ran
            self.findings[Cell(runner_up.replicas, runner_up.cpus, self.grid.largest_memory)] = "pass"
            self.say(f"the runner-up {runner_up.cell} held at full length: it is now the configuration to beat")

    def failure_counts(self, record: ProbeRecord) -> bool:
        """Whether a failure at `record`'s memory limit is one at the grid's largest (the walk's findings):
        memory does not change latency, so only an OOM kill under a smaller limit does not carry over."""
        return record.memory == self.grid.largest_memory or record.oom_kills == 0

    def walk(self) -> None:
        """Probe the CPU configurations the walk names until the cheapest that holds is known."""
        while (cell := next_probe(self.cells, self.findings, self.grid)) is not None:
            load = self.config.probe_load()
            self.afford(cell, load.run_time_seconds, self.confirmation_cost(cell))
            record = self.settle(self.prober.probe("cpu", cell, load))
            finding = _finding(record)
            before = resolve(self.cells, self.findings, self.grid)
            self.findings[cell] = finding
            after = resolve(self.cells, self.findings, self.grid)
            ruled = [other.name for other in self.cells if after[other].state == "ruled out" != before[other].state]
            if ruled:
                self.say(f"  {cell.name} failed: it rules out {', '.join(ruled)} (no more of any resource)")

    def fit_memory(self, best: Cell) -> Cell:
        """The winner's replicas and CPU at the grid's smaller memory limits, largest first; the smallest that held."""
        final = best
        for size in reversed(self.grid.memory[:-1]):
            cell = Cell(best.replicas, best.cpus, size)
            load = self.config.probe_load()
            self.afford(cell, load.run_time_seconds, self.confirmation_cost(cell))
            record = self.settle(self.prober.probe("memory", cell, load))
            self.memory_probes[cell] = record
            if record.outcome != "pass":
                smaller = [other for other in self.grid.memory_variants(best) if other.memory_bytes < cell.memory_bytes]
                if record.outcome == "fail" and smaller:
                    self.say(f"  {cell.name} failed: it rules out {', '.join(other.name for other in smaller)}")
                break
            final = cell
        return final

    def confirm(self, final: Cell) -> ConfirmationRecord:
        """The winner twice at full length with margin, then the configuration just cheaper once."""
        load = self.config.run.load
        margin = MARGIN * self.config.run.slo.max_p95_ms
        confirmation = ConfirmationRecord(cell=final.name, margin_p95_ms=margin)
        runs: list[int] = []
        held: bool | None = True
        self.say(
            f"confirming {final.name}: {CONFIRMATION_RUNS} runs at full length, P95 at most {margin:,.0f} ms "
            f"({MARGIN:g} x the limit)"
        )
        for _ in range(CONFIRMATION_RUNS):
            self.afford(final, load.run_time_seconds, 0.0)
            record = self.settle(self.prober.probe("confirm", final, load, margin_ms=margin))
            runs.append(record.index)
            if record.outcome != "pass":
                held = False if record.outcome == "fail" else None
                break
        confirmation = confirmation.model_copy(update={"runs": runs, "held": held})
        if not held:
            return confirmation
        runner_up = self.grid.next_cheaper(final)
        if runner_up is None:
            self.say(f"{final.name} is the grid's cheapest configuration: there is no runner-up to re-run")
            return confirmation.model_copy(update={"confirmed": True})
        self.afford(runner_up, load.run_time_seconds, 0.0)
        record = self.settle(self.prober.probe("runner-up", runner_up, load))
        failed = {"fail": True, "pass": False}.get(record.outcome)
        return confirmation.model_copy(
            update={
                "runner_up": runner_up.name,
                "runner_up_runs": [record.index],
                "runner_up_failed": failed,
                "confirmed": failed is True,
            }
        )

    def measure_capacities(self) -> None:
        """The most users the winner, then every other configuration that held, still holds (budget allowing)."""
        chosen = self.best_known()
        if self.config.capacity_steps == 0 or chosen is None:
            return
        targets = [chosen]
        held = [cell for cell in self.grid.cheapest_first(self.findings) if self.findings[cell] == "pass"]
        for cell in held:
            if all((cell.replicas, cell.cpus) != (other.replicas, other.cpus) for other in targets):
                targets.append(cell)
        for cell in targets:
            base = self.last_pass(cell)
            if base is None:
                continue
            self.capacities.append(self.capacity(cell, base))
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
            if record.outcome == "budget":
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
            self.budget_plan = self.budget_plan.model_copy(update={"exhausted": True})
            after = f" and {reserve:.0f} s to confirm a winner" if reserve else ""
            raise StopSearch(
                f"the budget ran out: {format_clock(self.budget.remaining)} left, not enough for {cell.name} "
                f"(~{need:.0f} s){after}"
            )

    def confirmation_cost(self, cell: Cell) -> float:
        """What confirming `cell` would take: the winner twice and the runner-up once, at full length."""
        seconds = self.config.run.load.run_time_seconds
        runner_up = self.grid.next_cheaper(cell) or cell
        return CONFIRMATION_RUNS * self.budget.estimate(cell, seconds) + self.budget.estimate(runner_up, seconds)

    def settle(self, record: ProbeRecord) -> ProbeRecord:
        """`record`, unless it ends the search: a cell that broke, Ctrl-C, the budget (StopSearch)."""
        if record.outcome == "error":
            self.broken = True
            raise StopSearch(f"probe {record.index} ({record.cell}) could not be judged: {record.reason}")
        if record.outcome == "interrupted":
            raise StopSearch(f"probe {record.index} ({record.cell}) was cut short: {record.reason}")
        if record.outcome == "budget":
            self.budget_plan = self.budget_plan.model_copy(update={"exhausted": True})
            raise StopSearch(f"the budget ran out during probe {record.index} ({record.cell})")
        return record

    def generator_short(self, cell: Cell, users: int) -> bool:
        """Whether `users` would ask more of this cell's Locust than it delivers with room to spare."""
        calibration = self.engine.calibration
        if calibration is None:
            return False
        workers = cell_workers(cell, self.config.run.backend.locust_workers)
        asked = self.config.run.load.scenario.asked_rps(users)
        return asked > GENERATOR_HEADROOM * calibration.for_workers(workers).total_rps

    def last_pass(self, cell: Cell) -> ProbeRecord | None:
        """The newest probe of `cell` at the profile's users that passed."""
        users = self.config.run.load.users
        passed = [
            record
            for record in self.prober.records
            if record.cell == cell.name and record.outcome == "pass" and record.users == users
        ]
        return passed[-1] if passed else None

    # ----------------------------------------------------------------------------------- the answer

    def report(self) -> int:
        """Write search.json, search.md and search.png and print the answer; the exit code."""
        record = self.build_record(complete=self.stopped is None)
        write_record(self.config.run.out / SEARCH_FILE, record)
        console = write_outputs(record, self.config.run.out)
        self.progress.end_line()
        self.out.write("\n" + console)
        self.out.write(f"\nResults: {self.config.run.out}/ (answers: {self.config.run.out / 'search.md'})\n")
        self.out.flush()
        return record.exit_code

    def save(self) -> None:
        """search.json as it stands (marked incomplete), after every probe."""
        write_record(self.config.run.out / SEARCH_FILE, self.build_record(complete=False))

    def build_record(self, complete: bool) -> SearchRecord:
        """search.json from what the search knows now."""
        config, grid = self.config, self.grid
        resolved = resolve(self.cells, self.findings, grid)
        by_cell: dict[str, list[int]] = {}
        for probe in self.prober.records:
            by_cell.setdefault(probe.cell, []).append(probe.index)
        configurations = [
            ConfigurationRecord(
                **cell_fields(cell),
                cost=grid.cost(cell),
                state=resolution.state,
                by=resolution.by.name if resolution.by is not None else None,
                probes=by_cell.get(cell.name, []),
            )
            for cell, resolution in resolved.items()
        ]
        result, code = self.result(resolved)
        not_tried = [cell.name for cell in self.cells if resolved[cell].state == "not tried"]
        budget = self.budget_plan.model_copy(
            update={"used_seconds": round(self.budget.used, 1), "not_tried": not_tried}
        )
        return SearchRecord(
            generated_at=datetime.now(UTC),
            complete=complete,
            cut_short=self.stopped,
            exit_code=code,
            result=result,
            answer=self.answer(result),
            profile=config.run.profile,
            backend=config.run.backend.name,
            api_command=config.run.backend.api_command,
            slo=config.run.slo,
            users=config.run.load.users,
            spawn_rate=config.run.load.spawn_rate,
            run_time_seconds=config.run.load.run_time_seconds,
            probe_seconds=config.probe_seconds,
            scenario=config.run.load.scenario,
            grid=GridRecord(
                replicas=list(grid.replicas), cpus=list(grid.cpus), memory=list(grid.memory), cost=grid.weights
            ),
            configurations=configurations,
            probes=list(self.prober.records),
            skipped=self.skipped(resolved),
            winner=self.choice(self.winner),
            candidate=self.choice(None if self.winner else self.holding or self.candidate),
            confirmation=self.confirmations[-1] if self.confirmations else None,
            capacities=list(self.capacities),
            memory=self.memory_advice(),
            budget=budget,
            generator_rps=self.engine.calibration.per_worker_rps if self.engine.calibration else None,
            against=self.against_winner(),
            demoted={cell.name: why for cell, why in self.demoted.items()},
        )

    def result(self, resolved: dict[Cell, Resolution]) -> tuple[Result, int]:
        """The search's result and exit code."""
        states = {resolution.state for resolution in resolved.values()}
        if self.broken or interrupts.received():
            return "cannot judge", exitcodes.CANNOT_JUDGE
        if self.winner is not None:
            cheaper_unknown = any(
                self.findings.get(cell) == "inconclusive" and self.grid.cheaper(cell, self.winner)
                for cell in self.cells
            )
            if not cheaper_unknown:
                return "holds", exitcodes.PASSED
            return "inconclusive", exitcodes.INCONCLUSIVE
        if self.stopped is None and self.candidate is None and states <= {"fail", "ruled out"}:
            return "none holds", exitcodes.BREACHED
        return "inconclusive", exitcodes.INCONCLUSIVE

    def answer(self, result: Result) -> str:
        """One sentence for the terminal and search.json."""
        unit = cost_unit(self.grid.weights)
        why = f" ({self.stopped})" if self.stopped else ""
        if result == "holds" and self.winner is not None:
            return (
                f"the cheapest configuration that holds is {self.winner.name} ({self.grid.cost(self.winner):g} {unit})"
            )
        if result == "none holds":
            return "no configuration of the grid holds the SLO"
        if result == "cannot judge":
            return f"the search could not finish{why}"
        if self.winner is not None:
            return f"{self.winner.name} holds, but a cheaper configuration could not be judged"
        if self.holding is not None:
            cheaper = self.unsettled or self.grid.next_cheaper(self.holding)
            name = cheaper.name if cheaper is not None else "the configuration just cheaper"
            return f"{self.holding.name} holds, but whether {name}, just cheaper, holds too is not settled{why}"
        if self.candidate is not None:
            return f"the best so far, {self.candidate.name}, held its probes but is not confirmed{why}"
        return f"no configuration is known to hold{why}"

    def choice(self, cell: Cell | None) -> Choice | None:
        """A configuration as search.json names it."""
        if cell is None:
            return None
        return Choice(**cell_fields(cell), cost=self.grid.cost(cell))

    def skipped(self, resolved: dict[Cell, Resolution]) -> list[SkippedRecord]:
        """Every configuration never probed because one that covers it failed, with that one and its probe."""
        failed_in: dict[str, int] = {}
        for record in self.prober.records:
            if record.outcome == "fail":
                failed_in.setdefault(record.cell, record.index)
        rows = []
        for cell in self.cells:
            by = resolved[cell].by
            if resolved[cell].state == "ruled out" and by is not None:
                rows.append(_skipped(cell, by, failed_in.get(by.name, 0)))
        for failed, record in self.memory_probes.items():
            if record.outcome != "fail":
                continue
            for cell in self.grid.memory_variants(failed):
                if cell.memory_bytes < failed.memory_bytes and cell not in self.memory_probes:
                    rows.append(_skipped(cell, failed, record.index))
        return rows

    def best_known(self) -> Cell | None:
        """The winner, else the configuration that held its confirmation, else the cheapest that held a probe."""
        return self.winner or self.holding or self.candidate

    def memory_advice(self) -> MemoryRecord | None:
        """The recommended memory limit from the peaks of the winner's CPU configuration."""
        chosen = self.best_known()
        if chosen is None:
            return None
        runs = [
            record
            for record in self.prober.records
            if (record.replicas, record.cpus) == (chosen.replicas, chosen.cpus) and record.outcome == "pass"
        ]
        peaks = largest_peaks(record.memory_peak_bytes for record in runs)
        if not peaks:
            return None
        recommended, size = recommended_limit(max(peaks))
        return MemoryRecord(
            cell=chosen.name,
            peaks_bytes=peaks,
            peak_bytes=max(peaks),
            factor=HEADROOM,
            recommended=recommended,
            recommended_bytes=size,
            smallest_holding=chosen.memory,
            failed={
                cell.memory: record.reason or "failed"
                for cell, record in self.memory_probes.items()
                if record.outcome == "fail"
            },
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
        figures = other.probes[runs[-1] - 1].figures if runs and runs[-1] <= len(other.probes) else None
        # The ratio waits for this search's winner: `against_winner` sets it.
        return AgainstRecord(
            folder=str(folder), winner=other.winner, rps=figures.rps if figures else None, cost_ratio=None
        )

    def against_winner(self) -> AgainstRecord | None:
        """The comparison with this search's winner as it stands: the cost ratio once both have one."""
        compared = self.compared
        if compared is None or compared.winner is None or self.winner is None or compared.winner.cost <= 0:
            return compared
        ratio = round(self.grid.cost(self.winner) / compared.winner.cost, 3)
        return compared.model_copy(update={"cost_ratio": ratio})


_FINDINGS: dict[str, Finding] = {"pass": "pass", "fail": "fail", "inconclusive": "inconclusive"}


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


def _skipped(cell: Cell, by: Cell, probe: int) -> SkippedRecord:
    return SkippedRecord(**cell_fields(cell), ruled_out_by=by.name, probe=probe)


def _listed(values: tuple[float, ...] | tuple[int, ...]) -> str:
    return ",".join(f"{value:g}" for value in values)
