"""One comparison from start to end: base and head on the same machine, interleaved.

`run_comparison` prepares both sides (`sides`), runs their trials alternately in randomised blocks
(`trials`), judges the per-block changes (`statistics`), and writes comparison.json after every trial
(`complete: false` until the end) and comparison.md and comparison.png at the end (`comparison_summary`).
Whatever happens (a side that cannot start, Ctrl-C, SIGTERM), every replica, Locust process, container,
cgroup and worktree it made is gone before it returns, and the trials done so far stay on disk.
Reference: docs/compare.md.
"""

from __future__ import annotations

import math
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loadtest import exitcodes
from loadtest.compare.compare_options import CompareConfig
from loadtest.compare.comparison_summary import CHART_FILE, MARKDOWN_FILE, render_chart, render_console, render_markdown
from loadtest.compare.lab import SIDES_DIR, Lab, MachineLab
from loadtest.compare.sides import WORKING_TREE, Side, SideError
from loadtest.compare.statistics import Block, judge_metrics, overall_verdict
from loadtest.compare.trials import TRIALS_DIR, plan_trials
from loadtest.records import (
    COMPARISON_FILE,
    OUTCOME_WORDS,
    Comparison,
    ComparisonCell,
    ComparisonVerdict,
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


def minimum_blocks(alpha: float, judged: int) -> int:
    """The fewest blocks with which the exact signed-rank test can confirm a regression at its level,
    alpha over the judged metrics (its smallest p-value is 1/2^n)."""
    return max(2, math.floor(math.log2(judged / alpha)) + 1)


def run_comparison(config: CompareConfig, repo: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The whole comparison; its exit code (0 no change or improved, 1 regressed, 2 cannot judge, 3 inconclusive)."""
    return ComparisonSession(config, repo, out, err).run()


class ComparisonSession:
    """One comparison from start to end."""

    def __init__(self, config: CompareConfig, repo: Path, out: TextIO, err: TextIO, lab: Lab | None = None) -> None:
        """`lab` runs the trials (default: a `MachineLab`, on this machine for real)."""
        self.config, self.repo, self.out, self.err, self.lab = config, repo, out, err, lab
        self.plan = plan_trials(config.settings.trials, config.seed)
        self.trials: list[TrialRecord] = []
        self.sides: dict[SideRole, Side] = {}
        self.started_at = datetime.now(UTC)

    def say(self, text: str) -> None:
        """A line on the terminal (stderr: stdout carries the result)."""
        self.err.write(text + "\n")
        self.err.flush()

    # -- the flow ------------------------------------------------------------------------

    def run(self) -> int:
        """Prepare, run every trial, judge, write; the exit code."""
        self.clear_folder()
        self.say(self.budget())
        lab = self.lab or MachineLab(self.config, self.repo, self.err, self.say)
        failure: str | None = None
        with interrupts.catch_signals():
            try:
                self.sides = lab.open()
                self.say(f"{self.sides['base'].label} against {self.sides['head'].label}")
                failure = self.run_trials(lab)
            except interrupts.RunInterrupted:
                pass
            except (SideError, BackendError) as error:
                failure = str(error)
            finally:
                with interrupts.shielded():
                    problems = lab.close()
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
        """What the comparison will run and about how long it takes."""
        config, settings = self.config, self.config.settings
        trials = len(self.plan)
        seconds = trials * (settings.run_time.seconds + TRIAL_OVERHEAD_SECONDS[config.backend.name])
        revisions = len({config.base, config.head} - {None}) if config.backend.name == "process" else 0
        prepare = f", plus ~{PREPARE_SECONDS:.0f} s to prepare each of {revisions} revision(s)" if revisions else ""
        judged = ", ".join(settings.judged)
        lines = [
            f"compare: {trials} trials ({settings.trials} blocks of one base and one head trial, in random order, "
            f"seed {config.seed}) of {settings.run_time} each on {config.cell.name} under {config.load.users:,} users: "
            f"about {seconds / 60:.0f} min{prepare}",
            f"judged: {judged}; δ {settings.delta:.0%}, no change at {settings.confidence:.0%}, regressed or "
            f"improved at {1 - (1 - settings.confidence) / len(settings.judged):.1%} per metric",
        ]
        alpha = (1 - settings.confidence) / 2
        needed = minimum_blocks(alpha, len(settings.judged))
        if settings.trials < needed:
            lines.append(
                f"note: with {settings.trials} blocks the signed-rank test cannot confirm any verdict at this level "
                f"(its best p is 1/2^{settings.trials}): every metric will be inconclusive; give --trials {needed} "
                "or more"
            )
        return "\n".join(lines)

    def run_trials(self, lab: Lab) -> str | None:
        """Every planned trial in order, comparison.json rewritten after each; why it could not go on, if so."""
        settings = self.config.settings
        for planned in self.plan:
            self.say(
                f"trial {planned.index}/{len(self.plan)} (block {planned.block}, {self.sides[planned.role].label}): "
                f"{settings.run_time}..."
            )
            # A signal during the trial ends it as interrupted (the engine returns it, written); one received
            # before it makes the engine refuse to start it.
            trial = lab.run(planned)
            self.trials.append(trial)
            self.say(f"  {trial_line(trial)}")
            self.write_progress()
            if trial.outcome in ("failed to run", "cannot judge"):
                side = self.sides[trial.role].label
                return f"{side} could not be measured (trial {trial.index}): {trial.reasons[0]}"
            if trial.outcome == "cut short" or interrupts.received():
                return None
            inconclusive = sum(t.outcome == "inconclusive" for t in self.trials)
            if inconclusive > settings.max_inconclusive_share * len(self.plan):
                self.say(
                    f"stopping: {inconclusive} of {len(self.plan)} planned trials are inconclusive already, more than "
                    f"max_inconclusive_share {settings.max_inconclusive_share:.0%} allows"
                )
                return None
        return None

    # -- the result ----------------------------------------------------------------------

    def blocks(self) -> list[Block]:
        """Each block that ran: its base and head figures (None unless the trial was valid)."""
        pairs: dict[int, dict[SideRole, TrialRecord]] = {}
        for trial in self.trials:
            pairs.setdefault(trial.block, {})[trial.role] = trial
        result: list[Block] = []
        for block in sorted(pairs):
            base, head = pairs[block].get("base"), pairs[block].get("head")
            result.append(
                (
                    base.figures if base is not None and base.valid else None,
                    head.figures if head is not None and head.valid else None,
                )
            )
        return result

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
            planned=[planned.role for planned in self.plan],
            trials=self.trials,
            metrics=judge_metrics(self.blocks(), config.settings),
            started_at=self.started_at,
            ended_at=datetime.now(UTC) if complete else None,
        )

    def write_progress(self) -> None:
        """comparison.json with the trials so far, marked incomplete."""
        reason = f"in progress: {len(self.trials)} of {len(self.plan)} trials run"
        write_record(self.config.out / COMPARISON_FILE, self.document("inconclusive", [reason], complete=False))

    def finish(self, failure: str | None) -> int:
        """The verdict: comparison.json, comparison.md, comparison.png, the terminal; the exit code."""
        config = self.config
        signal = interrupts.received()
        inconclusive = sum(trial.outcome == "inconclusive" for trial in self.trials)
        verdict: ComparisonVerdict = "inconclusive"
        if failure is not None:
            reasons, complete, code = [f"cannot judge: {failure}"], False, exitcodes.CANNOT_JUDGE
        elif signal is not None:
            reasons = [f"cut short by {signal} after {len(self.trials)} of {len(self.plan)} trials"]
            complete, code = False, exitcodes.CANNOT_JUDGE
        else:
            document = self.document("inconclusive", [], complete=True)
            verdict, reasons = overall_verdict(document.metrics, len(self.trials), inconclusive, config.settings)
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


def trial_line(trial: TrialRecord) -> str:
    """One trial's outcome for the terminal."""
    figures = trial.figures
    if figures is None:
        return f"{OUTCOME_WORDS[trial.outcome]}: {first_line(trial.reasons[0] if trial.reasons else trial.outcome)}"
    text = (
        f"{figures.rps:,.0f} req/s, P50 {figures.p50_ms or 0:,.0f} ms, P95 {figures.p95_ms or 0:,.0f} ms, "
        f"errors {figures.error_rate or 0:.2%}"
    )
    if trial.outcome == "inconclusive":
        text += f" — INCONCLUSIVE (not counted): {first_line('; '.join(trial.reasons))}"
    return text
