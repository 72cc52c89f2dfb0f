"""One comparison from start to end: base and head on the same machine, at the same time or interleaved.

`run_comparison` prepares both sides (`sides`), runs their trials in randomised blocks, both at once on
the same cores where the machine allows (`duet`), else alternately (`trials`), judges the per-block
changes (`statistics`), and writes comparison.json after every trial (`complete: false` until the end)
and comparison.md and comparison.png at the end (`comparison_summary`).
Whatever happens (a side that cannot start, Ctrl-C, SIGTERM), every replica, Locust process, container,
cgroup and worktree it made is gone before it returns, and the trials done so far stay on disk.
Reference: docs/compare.md.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loadtest import exitcodes
from loadtest.compare.compare_options import CompareConfig
from loadtest.compare.comparison_summary import CHART_FILE, MARKDOWN_FILE, render_chart, render_console, render_markdown
from loadtest.compare.duet import Design, DesignError, choose_design
from loadtest.compare.lab import SIDES_DIR, Lab, MachineLab
from loadtest.compare.orders import BlockOrders
from loadtest.compare.sides import WORKING_TREE, Side, SideError
from loadtest.compare.statistics import (
    CLAIMS,
    Block,
    ComparisonPlan,
    judge_metrics,
    overall_verdict,
    too_many_inconclusive,
)
from loadtest.compare.trials import TRIALS_DIR, PlannedTrial, blocks_of
from loadtest.records import (
    COMPARISON_FILE,
    OUTCOME_WORDS,
    Comparison,
    ComparisonCell,
    ComparisonVerdict,
    PhaseName,
    SideRole,
    TrialRecord,
    write_record,
)
from loadtest.runner import interrupts
from loadtest.runner.backends import BackendError
from loadtest.util.files import write_atomic
from loadtest.util.text import first_line

TRIAL_OVERHEAD_SECONDS = {"process": 7.0, "compose": 12.0}
"""Start-up and shut-down around each trial's load, as measured on a 2-core VM: replicas (or containers)
ready, Locust started, its files written and judged."""
PREPARE_SECONDS = 15.0
"""A revision's worktree, `uv sync --frozen` from uv's cache and its model's training."""
VENV_SECONDS = 1.0
"""The working tree's own venv: `uv sync --frozen` of its groups from uv's cache (0.5 s on a 2-core VM)."""


def minimum_blocks(alpha: float, judged: int) -> int:
    """The fewest blocks with which the exact signed-rank test can confirm a regression at its level,
    alpha over the judged metrics (its smallest p-value is 1/2^n)."""
    return max(2, math.floor(math.log2(judged / alpha)) + 1)


def block_seconds(config: CompareConfig, design: Design | None = None) -> float:
    """About how long one block takes, start-up and shut-down included: each side's capacity phase and its
    fixed-load phase, a cell each; both sides at once in a duet, one after the other interleaved."""
    sides = 1 if design is not None and design.name == "duet" else 2
    settings, overhead = config.settings, TRIAL_OVERHEAD_SECONDS[config.backend.name]
    return sides * (settings.run_time.seconds + settings.load_time.seconds + 2 * overhead)


def preparations(config: CompareConfig) -> tuple[int, bool]:
    """What preparing the sides makes (process backend): how many revisions get a worktree, and whether the
    working tree (the head when `--head` is not given) gets a venv of its own."""
    if config.backend.name != "process":
        return 0, False
    working_tree_venv = config.head is None and config.head_api_command is None
    return len({config.base, config.head} - {None}), working_tree_venv


def prepare_seconds(config: CompareConfig) -> float:
    """About how long preparing the sides takes."""
    revisions, working_tree_venv = preparations(config)
    return PREPARE_SECONDS * revisions + (VENV_SECONDS if working_tree_venv else 0.0)


def max_blocks(config: CompareConfig, design: Design | None = None) -> int:
    """The most valid blocks the comparison plans its looks for: `trials`, or fewer when the budget (less
    the preparation) holds fewer blocks at the estimated time each; at least 2."""
    settings = config.settings
    held = math.floor((settings.budget.seconds - prepare_seconds(config)) / block_seconds(config, design))
    return max(2, min(settings.trials, held))


def run_comparison(config: CompareConfig, repo: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The whole comparison; its exit code (0 no change or improved, 1 regressed, 2 cannot judge, 3 inconclusive)."""
    return ComparisonSession(config, repo, out, err).run()


class ComparisonSession:
    """One comparison from start to end."""

    def __init__(
        self,
        config: CompareConfig,
        repo: Path,
        out: TextIO,
        err: TextIO,
        lab: Lab | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`lab` runs the trials (default: a `MachineLab`, on this machine for real); `clock` times the budget."""
        self.config, self.repo, self.out, self.err, self.lab, self.clock = config, repo, out, err, lab, clock
        self.design = Design("interleaved", None, "interleaved blocks (the design is chosen once the sides are open)")
        self.plan_for(self.design)
        self.orders = BlockOrders(config.seed)
        self.trials: list[TrialRecord] = []
        self.sides: dict[SideRole, Side] = {}
        self.started_at = datetime.now(UTC)
        self.blocks_run = self.blocks_dropped = 0
        self.stopped: str | None = None
        """Why no more blocks were added (None while it may add more)."""
        self.final = True
        """The last look spends what is left of each claim's level (not when a verdict stopped it early)."""
        self.block_durations: list[float] = []
        self.began = clock()
        settings = config.settings
        self.load_rps: float | None = settings.load_rps
        """The fixed load of every load phase (None until the base's capacity is first measured)."""
        self.load_source = "as asked: --load-rate or load_rps" if settings.load_rps is not None else None

    def plan_for(self, design: Design) -> None:
        """The design that runs, and the most blocks and the looks the budget holds with it."""
        self.design = design
        self.max_blocks = max_blocks(self.config, design)
        self.plan = ComparisonPlan.sequential_plan(self.max_blocks, self.config.settings)

    def say(self, text: str) -> None:
        """A line on the terminal (stderr: stdout carries the result)."""
        self.err.write(text + "\n")
        self.err.flush()

    # -- the flow ------------------------------------------------------------------------

    def run(self) -> int:
        """Prepare, run every trial, judge, write; the exit code."""
        self.clear_folder()
        self.began = self.clock()  # the budget holds the preparation too
        lab = self.lab or MachineLab(self.config, self.repo, self.err, self.say)
        failure: str | None = None
        with interrupts.catch_signals():
            try:
                self.sides = lab.open()
                self.say(f"{self.sides['base'].label} against {self.sides['head'].label}")
                self.plan_for(choose_design(self.config.settings.design, lab.pinning(), self.config.cell))
                self.say(self.budget())
                self.say(self.design.why)
                failure = self.run_trials(lab)
            except interrupts.RunInterrupted:
                pass
            except (SideError, BackendError, DesignError) as error:
                failure = str(error)
            finally:
                problems: list[str] = []
                try:
                    with interrupts.shielded():
                        problems = lab.close()
                except interrupts.RunInterrupted:
                    pass  # received while closing: the shield let it finish; the result below says so
                for problem in problems:
                    self.say(f"cleanup problem: {problem}")
            with interrupts.shielded():
                return self.finish(failure)

    def clear_folder(self) -> None:
        """A fresh comparison in `out`: an earlier one's trials and files there are replaced."""
        out = self.config.out
        out.mkdir(parents=True, exist_ok=True)
        for name in (TRIALS_DIR, SIDES_DIR):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in (COMPARISON_FILE, MARKDOWN_FILE, CHART_FILE):
            (out / name).unlink(missing_ok=True)

    def budget(self) -> str:
        """What the comparison will run and about how long it takes at most."""
        config, settings = self.config, self.config.settings
        seconds = self.max_blocks * block_seconds(config, self.design) + prepare_seconds(config)
        revisions, working_tree_venv = preparations(config)
        steps = [f"~{PREPARE_SECONDS:.0f} s to prepare each of {revisions} revision(s)"] if revisions else []
        steps += [f"~{VENV_SECONDS:.0f} s for the working tree's venv"] if working_tree_venv else []
        prepare = f", plus {' and '.join(steps)}" if steps else ""
        judged = ", ".join(settings.judged)
        what = (
            "duet blocks (base and head at the same time on the same cores, orders balanced"
            if self.design.name == "duet"
            else "blocks of one base and one head trial (orders balanced"
        )
        load = (
            f"{settings.load_rps:,.0f} req/s"
            if settings.load_rps is not None
            else f"{settings.load_share:.0%} of the base's capacity in the first block"
        )
        lines = [
            f"compare: up to {self.max_blocks} {what}, seed "
            f"{config.seed}) on {config.cell.name}, each trial {settings.run_time} of capacity under "
            f"{config.load.users:,} saturating users, then {settings.load_time} at a fixed load of {load}, "
            f"until the verdict is decided or the budget of {settings.budget} is spent: about "
            f"{seconds / 60:.0f} min at most{prepare}",
            f"judged: {judged}; δ {settings.delta:.0%}, no change at {settings.confidence:.0%}, regressed or "
            f"improved at {1 - (1 - settings.confidence) / len(settings.judged):.1%} per metric, over looks after "
            f"each block from block {min(self.plan.first_look(claim) for claim in CLAIMS)} on",
        ]
        alpha = (1 - settings.confidence) / 2
        needed = minimum_blocks(alpha, len(settings.judged))
        if self.max_blocks < needed:
            lines.append(
                f"note: with {self.max_blocks} blocks the signed-rank test cannot confirm any verdict at this level "
                f"(its best p is 1/2^{self.max_blocks}): every metric will be inconclusive; give --trials {needed} "
                "or more, and a --budget that holds them"
            )
        return "\n".join(lines)

    def run_trials(self, lab: Lab) -> str | None:
        """Blocks until the verdict is decided, `max_blocks` valid blocks ran or the budget is spent; a dropped
        block (a trial that gave no valid figures) is replaced by one of the same order. Each block runs both
        sides' capacity phases, then (both valid) both sides' load phases at the fixed rate, in the block's
        order. comparison.json is rewritten after each trial. Why it could not go on, if so (`stopped` says
        why it stopped adding blocks)."""
        settings = self.config.settings
        valid = 0
        while self.stopped is None:
            if valid >= self.max_blocks:
                self.stopped = f"the most blocks: {valid} valid blocks ran"
                break
            spent, needed = self.clock() - self.began, self.next_block_seconds()
            if spent + needed > settings.budget.seconds:
                self.stopped = (
                    f"the budget of {settings.budget} is spent: {spent:.0f} s used, the next block needs "
                    f"~{needed:.0f} s"
                )
                break
            order = self.orders.next()
            self.blocks_run += 1
            block_started = self.clock()
            roles: list[SideRole] = ["base", "head"] if order == "base-first" else ["head", "base"]
            ran = self.run_phase(lab, self.planned(roles, None))
            if all(trial.valid for trial in ran) and len(ran) == len(roles):
                # A block whose capacity phase is not valid is dropped as it stands: its load phase is not run.
                ran += self.run_phase(lab, self.planned(roles, self.fixed_rate(ran)))
            broken = self.broken(ran)
            if broken is not None:
                return broken
            if any(trial.outcome == "cut short" for trial in ran) or interrupts.received():
                return None
            self.block_durations.append(self.clock() - block_started)
            if not all(trial.valid for trial in ran):
                self.blocks_dropped += 1
                self.orders.replace(order)
                inconclusive = self.inconclusive()
                if (invalid := too_many_inconclusive(inconclusive, self.full_trials, settings)) is not None:
                    self.say(f"stopping: {invalid}")
                    self.stopped = f"too many inconclusive trials: {inconclusive}"
                else:
                    self.say(f"  block {self.blocks_run} dropped (a trial gave no valid figures): another replaces it")
                continue
            valid += 1
            metrics = judge_metrics(self.blocks(), settings, self.plan, final=False)
            verdict, _ = overall_verdict(metrics, self.full_trials, self.inconclusive(), settings)
            if verdict != "inconclusive":
                self.stopped, self.final = f"decided after {valid} valid blocks", False
        return None

    def planned(self, roles: list[SideRole], load_rps: float | None) -> list[PlannedTrial]:
        """This block's trials of one phase, in the block's order: capacity (`load_rps` None) or the fixed load."""
        phase: PhaseName = "capacity" if load_rps is None else "load"
        return [
            PlannedTrial(
                len(self.trials) + 1 + position,
                self.blocks_run,
                role,
                self.design.placement,
                phase,
                load_rps,
            )
            for position, role in enumerate(roles)
        ]

    def fixed_rate(self, capacity: list[TrialRecord]) -> float:
        """The fixed load of every load phase: `load_rps`, else `load_share` of the base's capacity in the first
        block whose capacity phases were valid (this one, when none was before), fixed from then on."""
        if self.load_rps is None:
            base = next(trial for trial in capacity if trial.role == "base")
            measured = base.figures.rps if base.figures is not None else 0.0
            share = self.config.settings.load_share
            self.load_rps = share * measured
            self.load_source = f"{share:.0%} of the base's capacity in block {base.block} ({measured:,.0f} req/s)"
            self.say(f"  the fixed load: {self.load_rps:,.0f} req/s, {self.load_source}")
        return self.load_rps

    def run_phase(self, lab: Lab, planned: list[PlannedTrial]) -> list[TrialRecord]:
        """One phase of the block's trials: at the same time in a duet, else one after the other (stopping at a
        trial that broke or was cut short); what they gave, each also kept, shown and written at once."""
        # A signal during a trial ends it as interrupted (the engine returns it, written); one received
        # before it makes the engine refuse to start it.
        phase = phase_words(planned[0], self.config)
        if self.design.name == "duet":
            sides = " and ".join(self.sides[one.role].label for one in planned)
            where = f", {planned[0].placement.describe()}" if planned[0].placement is not None else ""
            trials = f"trials {planned[0].index} and {planned[1].index}"
            self.say(f"block {self.blocks_run}, {phase} ({trials}): {sides} at once{where}...")
            ran = lab.run_together(planned)
            self.ended(ran)
            return ran
        ran = []
        for one in planned:
            self.say(f"trial {one.index} (block {one.block}, {self.sides[one.role].label}): {phase}...")
            ran.append(lab.run(one))
            self.ended(ran[-1:])
            if self.broken(ran) or ran[-1].outcome == "cut short" or interrupts.received():
                break
        return ran

    def ended(self, ran: list[TrialRecord]) -> None:
        """Trials that ended: kept, on the terminal, and in comparison.json at once."""
        for trial in ran:
            self.trials.append(trial)
            prefix = f"{trial.role}: " if self.design.name == "duet" else ""
            self.say(f"  {prefix}{trial_line(trial)}")
        self.write_progress()

    def broken(self, ran: list[TrialRecord]) -> str | None:
        """Why the comparison cannot go on, when a trial of `ran` could not be run or judged."""
        for trial in ran:
            if trial.outcome in ("failed to run", "cannot judge"):
                side = self.sides[trial.role].label
                return f"{side} could not be measured (trial {trial.index}): {trial.reasons[0]}"
        return None

    def next_block_seconds(self) -> float:
        """What the next block should take: the blocks so far on average, else the estimate."""
        if self.block_durations:
            return sum(self.block_durations) / len(self.block_durations)
        return block_seconds(self.config, self.design)

    def inconclusive(self) -> int:
        """Sides' trials in a block (both phases of one side count once) whose measurement the gate found invalid
        so far (`TrialRecord.doubted`; one only too close to call on the SLO counts as measured)."""
        return len({(trial.block, trial.role) for trial in self.trials if trial.doubted})

    @property
    def full_trials(self) -> int:
        """Sides' trials a full comparison runs (both phases of one side in a block count once)."""
        return 2 * self.max_blocks

    # -- the result ----------------------------------------------------------------------

    def blocks(self) -> list[Block]:
        """Each block that ran: its base and head measures (`trials.blocks_of`)."""
        return blocks_of(self.trials)

    def document(self, verdict: ComparisonVerdict, reasons: list[str], complete: bool) -> Comparison:
        """comparison.json as it stands."""
        config = self.config
        sides = {role: side.info() for role, side in self.sides.items()}
        asked: dict[SideRole, str] = {"base": config.base, "head": config.head or WORKING_TREE}
        for role, spec in asked.items():
            if role not in sides:
                sides[role] = Side(role, spec).info()
        return Comparison(
            complete=complete,
            verdict=verdict,
            reasons=reasons,
            on_inconclusive=config.slo.on_inconclusive,
            profile=config.profile,
            backend=config.backend.name,
            base=sides["base"],
            head=sides["head"],
            cell=ComparisonCell(
                replicas=config.cell.replicas,
                cpus=config.cell.cpus,
                memory=config.cell.memory,
                users=config.load.users,
                spawn_rate=config.load.spawn_rate,
                warmup=config.load.warmup,
                scenario=None if config.backend.locustfile is not None else config.load.scenario,
            ),
            settings=config.settings,
            run_time_seconds=config.settings.run_time.seconds,
            seed=config.seed,
            planned=[trial.role for trial in self.trials],
            trials=self.trials,
            metrics=judge_metrics(self.blocks(), config.settings, self.plan, final=complete and self.final),
            design=self.design.name,
            design_reason=self.design.why,
            budget_seconds=config.settings.budget.seconds,
            max_blocks=self.max_blocks,
            blocks_run=self.blocks_run,
            blocks_dropped=self.blocks_dropped,
            stopped=self.stopped,
            load_rps=self.load_rps,
            load_source=self.load_source,
            started_at=self.started_at,
            ended_at=datetime.now(UTC) if complete else None,
        )

    def write_progress(self) -> None:
        """comparison.json with the trials so far, marked incomplete."""
        reason = f"in progress: {len(self.trials)} trials run, {self.blocks_run} blocks of at most {self.max_blocks}"
        write_record(self.config.out / COMPARISON_FILE, self.document("inconclusive", [reason], complete=False))

    def finish(self, failure: str | None) -> int:
        """The verdict: comparison.json, comparison.md, comparison.png, the terminal; the exit code."""
        config = self.config
        signal = interrupts.received()
        inconclusive = self.inconclusive()
        verdict: ComparisonVerdict = "inconclusive"
        if failure is not None:
            reasons, complete, code = [f"cannot judge: {failure}"], False, exitcodes.CANNOT_JUDGE
        elif signal is not None:
            reasons = [f"cut short by {signal} after {len(self.trials)} trials ({self.blocks_run} blocks)"]
            complete, code = False, exitcodes.CANNOT_JUDGE
        else:
            document = self.document("inconclusive", [], complete=True)
            verdict, reasons = overall_verdict(document.metrics, self.full_trials, inconclusive, config.settings)
            complete, code = True, exitcodes.BY_COMPARISON[verdict]
        comparison = self.document(verdict, reasons, complete)
        if not complete:
            comparison = comparison.model_copy(update={"ended_at": datetime.now(UTC)})
        write_record(config.out / COMPARISON_FILE, comparison)
        chart = render_chart(comparison)
        if chart is not None:
            write_atomic(config.out / CHART_FILE, chart)
        write_atomic(config.out / MARKDOWN_FILE, render_markdown(comparison, CHART_FILE if chart else None))
        self.out.write("\n" + render_console(comparison))
        self.out.write(f"\nResults: {config.out}/ ({config.out / MARKDOWN_FILE}, {config.out / COMPARISON_FILE})\n")
        self.out.flush()
        return code


def phase_words(planned: PlannedTrial, config: CompareConfig) -> str:
    """`capacity, 15s` or `fixed load of 912 req/s, 15s`: what a trial runs, for the terminal."""
    settings = config.settings
    if planned.load_rps is None:
        return f"capacity, {settings.run_time}"
    return f"fixed load of {planned.load_rps:,.0f} req/s, {settings.load_time}"


def trial_line(trial: TrialRecord) -> str:
    """One trial's outcome for the terminal."""
    figures = trial.figures
    if figures is None:
        return f"{OUTCOME_WORDS[trial.outcome]}: {first_line(trial.reasons[0] if trial.reasons else trial.outcome)}"
    if trial.phase == "capacity":
        text = f"capacity {figures.rps:,.0f} req/s, errors {figures.error_rate or 0:.2%}"
    else:
        cpu = f"{trial.cpu_ms_per_request:.3g} ms" if trial.cpu_ms_per_request is not None else "unknown"
        text = (
            f"{figures.rps:,.0f} req/s served, CPU per request {cpu}, P50 {figures.p50_ms or 0:,.1f} ms, "
            f"P95 {figures.p95_ms or 0:,.1f} ms, errors {figures.error_rate or 0:.2%}"
        )
    if trial.doubted:
        text += f" — INCONCLUSIVE (not counted): {first_line('; '.join(trial.reasons))}"
    return text
