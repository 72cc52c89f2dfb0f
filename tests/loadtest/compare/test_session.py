"""The comparison's bookkeeping (loadtest/compare/session.py), the real `ComparisonSession` on a scripted lab.

The lab is the session's injected collaborator that prepares the sides and runs one trial (`lab.Lab`):
here its sides need no preparing and each trial is answered by a script from the trial's side, block and
index, with figures drawn from a seeded generator. So the plan, the judging, the stop on too many
inconclusive trials, a side that breaks, Ctrl-C and the files written run as they do for real, without a
replica or a Locust process. What a real trial gives is tested in test_trials.py; a real comparison end to
end in test_compare_integration.py.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from loadtest.commands import compare
from loadtest.compare.compare_options import compare_config
from loadtest.compare.duet import Pinning, choose_design
from loadtest.compare.session import ComparisonSession, minimum_blocks
from loadtest.compare.sides import Side, SideError
from loadtest.compare.trials import PlannedTrial
from loadtest.records import Figures, RunOutcome, SideRole, TrialRecord
from loadtest.runner import interrupts
from loadtest.runner.placement import Placement
from loadtest.thresholds import load_thresholds

REPO = Path(__file__).resolve().parents[3]
THRESHOLDS = REPO / "thresholds.yaml"
BASE_COMMIT, HEAD_COMMIT = "a" * 40, "b" * 40
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def session(*argv: str, lab: ScriptedLab | None = None, err: io.StringIO | None = None) -> ComparisonSession:
    parser = argparse.ArgumentParser()
    compare.register(parser.add_subparsers())
    args = parser.parse_args(["compare", *argv])
    config = compare_config(args, {}, lambda _: load_thresholds(THRESHOLDS))
    if lab is None:
        return ComparisonSession(config, REPO, io.StringIO(), err or io.StringIO())
    return ComparisonSession(config, REPO, io.StringIO(), err or io.StringIO(), lab, clock=lab.clock)


# --------------------------------------------------------------------------- the scripted lab


def record(
    planned: PlannedTrial,
    outcome: RunOutcome,
    reasons: list[str],
    figures: Figures | None,
    cpu_ms_per_request: float | None = None,
) -> TrialRecord:
    return planned.record(outcome, reasons, figures, NOW, 20.0, cpu_ms_per_request=cpu_ms_per_request)


def figures(rps: float, p95_ms: float, failures: int = 0) -> Figures:
    requests = int(rps * 19)
    return Figures(
        name="Aggregated",
        requests=requests,
        failures=failures,
        error_rate=failures / requests,
        rps=rps,
        p50_ms=p95_ms / 2,
        p95_ms=p95_ms,
        p99_ms=p95_ms * 1.5,
    )


def service(cost: float = 0.0, spread: float = 0.01, seed: int = 7) -> Callable[[PlannedTrial], TrialRecord]:
    """Valid trials of a CPU-bound service of half a CPU whose head costs `cost` more CPU per request: its
    capacity falls by 1 / (1 + cost), its CPU per request and its latency at the fixed load rise by 1 + cost;
    each trial scatters by `spread`, a block's trials alike (the machine's speed in that block)."""
    rng = random.Random(seed)
    host: dict[int, float] = {}

    def answer(planned: PlannedTrial) -> TrialRecord:
        speed = host.setdefault(planned.block, rng.uniform(0.8, 1.2))  # the machine's speed in this block
        own = rng.gauss(1.0, spread) * (1 + cost if planned.role == "head" else 1.0)
        if planned.load_rps is None:
            return record(planned, "pass", [], figures(1000 * speed / own, 1000 * own / speed))
        return record(planned, "pass", [], figures(planned.load_rps, 20 * own / speed), 500 * own / speed)

    return answer


@dataclass
class ScriptedLab:
    """Sides that need no preparing; each trial answered by `answer` (or by `signal_at`: Ctrl-C in that trial),
    taking `seconds` of the fake clock the session's budget reads."""

    answer: Callable[[PlannedTrial], TrialRecord]
    cannot_open: str | None = None
    signal_at: int | None = None
    seconds: float = 22.0
    """One phase of one trial: 15 s and ~7 s of start-up and judging, as the session estimates it."""
    signal_on_close: bool = False
    cores: frozenset[int] = frozenset({0})
    """The machine's: one core (interleaved blocks) unless a test gives two."""
    now: float = 0.0
    problems: list[str] = field(default_factory=list)
    ran: list[PlannedTrial] = field(default_factory=list)
    steps: list[list[PlannedTrial]] = field(default_factory=list)
    """The trials of each step: one interleaved trial, or a duet's two at once."""
    closed: int = 0

    def open(self) -> dict[SideRole, Side]:
        if self.cannot_open is not None:
            raise SideError(self.cannot_open)
        return {
            "base": Side("base", "main", BASE_COMMIT, False, checkout=Path("/tmp/base")),
            "head": Side("head", "working tree", HEAD_COMMIT, False, checkout=REPO),
        }

    def run(self, planned: PlannedTrial) -> TrialRecord:
        return self.run_together([planned])[0]

    def run_together(self, planned: Sequence[PlannedTrial]) -> list[TrialRecord]:
        assert self.closed == 0, "a trial ran after the lab was closed"
        self.ran += planned
        self.steps.append(list(planned))
        self.now += self.seconds  # at the same time: a duet's block takes one trial's time
        if self.signal_at in [one.index for one in planned]:
            # As the engine does: the signal ends the trials it arrives in, which come back cut short.
            try:
                signal.raise_signal(signal.SIGINT)
            except interrupts.RunInterrupted as interrupted:
                return [record(one, "cut short", [str(interrupted)], None) for one in planned]
        return [self.answer(one) for one in planned]

    def pinning(self) -> Pinning:
        return Pinning(self.cores)

    def close(self) -> list[str]:
        self.closed += 1
        if self.signal_on_close:
            signal.raise_signal(signal.SIGINT)  # held back by the session's shield until the lab is closed
        return self.problems

    def clock(self) -> float:
        return self.now


@dataclass
class Compared:
    code: int
    document: dict[str, Any]
    err: str
    lab: ScriptedLab
    out: Path


def run_compare(tmp_path: Path, lab: ScriptedLab, *flags: str) -> Compared:
    out = tmp_path / "comparison"
    err = io.StringIO()
    code = session("--base", "main", "--out", str(out), "--seed", "3", *flags, lab=lab, err=err).run()
    document = json.loads((out / "comparison.json").read_text())
    return Compared(code, document, err.getvalue(), lab, out)


# --------------------------------------------------------------------------- whole comparisons


def test_a_cost_per_request_is_regressed_and_every_file_is_written(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(cost=0.3)))
    assert done.code == exitcodes.BREACHED, done.err
    assert done.document["verdict"] == "regressed"
    assert done.document["complete"] is True
    blocks = done.document["blocks_run"]
    assert done.document["stopped"] == f"decided after {blocks} valid blocks"
    assert blocks < done.document["max_blocks"] == 8  # it stopped as soon as it knew; (12m - 15 s) / ~88 s a block
    assert len(done.document["trials"]) == 4 * blocks == len(done.lab.ran)  # each side's capacity and load phase
    assert [trial.role for trial in done.lab.ran] == done.document["planned"]
    assert done.document["design"] == "interleaved"
    verdicts = {metric["metric"]: metric["verdict"] for metric in done.document["metrics"] if metric["judged"]}
    assert verdicts == {"capacity": "regressed", "cpu_per_request": "regressed", "error_rate": "no change"}
    p95 = next(metric for metric in done.document["metrics"] if metric["metric"] == "p95")
    assert (p95["judged"], p95["verdict"]) == (False, "regressed")  # shown at the fixed load, not gating
    assert (done.out / "comparison.md").read_text().startswith("### ")
    assert (done.out / "comparison.png").read_bytes().startswith(b"\x89PNG")
    assert done.lab.closed == 1
    assert "base (main, aaaaaaaaaaaa) against head (working tree, bbbbbbbbbbbb)" in done.err


def test_a_and_a_on_a_machine_that_changes_speed_from_block_to_block_is_no_change(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(cost=0.0)))
    assert done.code == exitcodes.PASSED, done.err
    assert done.document["verdict"] == "no change"
    assert done.document["stopped"].startswith("decided after ")


def test_too_many_inconclusive_trials_stop_the_comparison_inconclusive_never_a_pass(tmp_path: Path) -> None:
    # The rule on its own; test_compare_integration.py runs it once with real trials (--no-limits) for the plumbing.
    reason = "limits were not enforced (disabled with --no-limits): the measurement is not valid"

    def unlimited(planned: PlannedTrial) -> TrialRecord:
        return record(planned, "inconclusive", [reason], figures(1000, 200))

    done = run_compare(tmp_path, ScriptedLab(unlimited), "--trials", "6")
    assert done.code == exitcodes.INCONCLUSIVE, done.err
    assert done.document["verdict"] == "inconclusive"
    assert done.document["complete"] is True
    assert len(done.document["trials"]) == 4 == len(done.lab.ran)  # past a quarter of the 12 planned it stops
    assert {one.phase for one in done.lab.ran} == {"capacity"}  # a dropped block's load phase is not run
    assert (done.document["load_rps"], done.document["load_source"]) == (None, None)
    assert all(trial["outcome"] == "inconclusive" for trial in done.document["trials"])
    invalid = (
        "4 trials were inconclusive, more than max_inconclusive_share 25% of the 12 a full comparison runs: the "
        "measurement was not valid"
    )
    assert done.document["reasons"] == [invalid]
    assert f"stopping: {invalid}" in done.err
    assert (done.document["blocks_run"], done.document["blocks_dropped"]) == (2, 2)
    assert done.lab.closed == 1


def test_replaced_blocks_do_not_hold_back_a_verdict_the_metrics_reached(tmp_path: Path) -> None:
    # Three dropped blocks are 6 inconclusive trials: within a quarter of the 24 a full comparison runs. Counted
    # against the trials run so far (6 of 18 at the first look) they held back a verdict every metric had reached,
    # until more blocks diluted them or the budget ran out (an A/A beside the noisy neighbour did).
    valid = service(cost=0.0)
    reason = "not steady: throughput fell from 602.0 to 551.2 req/s (by at least 40.8, tolerance 30.1)"

    def first_three_dropped(planned: PlannedTrial) -> TrialRecord:
        if planned.block <= 3:
            return record(planned, "inconclusive", [reason], figures(1000, 200))
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(first_three_dropped), "--budget", "20m")
    assert done.code == exitcodes.PASSED, done.err
    assert done.document["verdict"] == "no change"
    assert done.document["max_blocks"] == 12
    blocks, dropped = done.document["blocks_run"], done.document["blocks_dropped"]
    assert dropped == 3
    assert done.document["stopped"] == f"decided after {blocks - 3} valid blocks"
    assert blocks < 12  # not held until the trials run diluted the dropped ones to a quarter


def test_dropped_blocks_are_replaced_in_the_same_order_and_the_rest_decide(tmp_path: Path) -> None:
    # Issue 22: three dropped blocks left five of eight, whose best p could not confirm even -50% throughput.
    valid = service(cost=1.0)

    def answer(planned: PlannedTrial) -> TrialRecord:
        if planned.block in (1, 3, 4) and planned.role == "head":
            return record(planned, "inconclusive", ["Locust CPU 100%"], figures(500, 900))
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer), "--trials", "8", "--budget", "20m")
    assert done.code == exitcodes.BREACHED, done.err
    assert done.document["blocks_dropped"] == 3
    counted = done.document["blocks_run"] - 3
    capacity = next(metric for metric in done.document["metrics"] if metric["metric"] == "capacity")
    assert capacity["blocks"] == counted  # the dropped blocks gave no pair
    firsts: dict[int, str] = {}
    for trial in done.lab.ran:
        firsts.setdefault(trial.block, trial.role)
    dropped = {1, 3, 4}
    assert [firsts[block] for block in (2, 4, 5)] == [firsts[block] for block in (1, 3, 4)]  # replaced next
    kept = [role for block, role in sorted(firsts.items()) if block not in dropped]
    assert abs(kept.count("base") - kept.count("head")) <= 1  # the blocks that count stay balanced


def test_the_budget_ends_the_comparison_at_a_final_look(tmp_path: Path) -> None:
    # Trials take 40 s, not the ~22 s estimated: 3 blocks of four use 480 s of 10 min and a fourth would not fit.
    done = run_compare(tmp_path, ScriptedLab(service(cost=0.0), seconds=40.0), "--budget", "10m")
    assert done.document["max_blocks"] == 6  # (600 s - 15 s to prepare main) / ~88 s a block
    assert done.document["stopped"] == "the budget of 10m is spent: 480 s used, the next block needs ~160 s"
    assert done.document["blocks_run"] == 3
    assert done.document["verdict"] == "inconclusive"  # 3 blocks reach p = 1/8 at best
    assert done.code == exitcodes.INCONCLUSIVE
    assert done.document["budget_seconds"] == 600


def test_a_side_that_breaks_cannot_be_judged_naming_the_side_and_nothing_runs_after_it(tmp_path: Path) -> None:
    # Moved here from test_compare_integration.py (a head whose API could not start); the engine's message for
    # a replica that exits is tested in tests/loadtest/runner, its trial record in test_trials.py.
    error = "API replica 0 exited with code 1 before it was ready: RuntimeError: this head is broken on purpose"
    valid = service()

    def answer(planned: PlannedTrial) -> TrialRecord:
        if planned.role == "head":
            return record(planned, "failed to run", [error], None)
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer), "--trials", "2")
    assert done.code == exitcodes.CANNOT_JUDGE, done.err
    assert done.document["complete"] is False
    assert done.document["verdict"] == "inconclusive"
    head = done.lab.ran[-1]
    assert head.role == "head"
    assert done.document["reasons"] == [
        f"cannot judge: head (working tree, bbbbbbbbbbbb) could not be measured (trial {head.index}): {error}"
    ]
    assert len(done.document["trials"]) == head.index
    assert done.document["ended_at"] is not None
    assert done.lab.closed == 1


def test_a_side_that_cannot_be_prepared_cannot_be_judged_before_any_trial(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(), cannot_open="base: unknown revision 'nope'"))
    assert done.code == exitcodes.CANNOT_JUDGE
    assert done.document["reasons"] == ["cannot judge: base: unknown revision 'nope'"]
    assert done.document["trials"] == []
    assert done.document["base"]["spec"] == "main"  # the sides as asked, though not prepared
    assert done.lab.ran == []
    assert done.lab.closed == 1


def test_ctrl_c_keeps_the_trials_done_and_closes_the_lab_once(tmp_path: Path) -> None:
    # The bookkeeping of test_compare_integration.py's Ctrl-C test; that one still checks that the real
    # replicas, cgroups and worktree are gone.
    lab = ScriptedLab(service(), signal_at=5, problems=["could not remove /tmp/x"])
    done = run_compare(tmp_path, lab)
    assert done.code == exitcodes.CANNOT_JUDGE, done.err
    assert done.document["complete"] is False
    assert done.document["reasons"] == ["cut short by SIGINT after 5 trials (2 blocks)"]
    assert [trial["outcome"] for trial in done.document["trials"]] == ["pass"] * 4 + ["cut short"]
    assert len(lab.ran) == 5
    assert lab.closed == 1
    assert "cleanup problem: could not remove /tmp/x" in done.err


def test_ctrl_c_while_the_lab_closes_still_writes_the_result(tmp_path: Path) -> None:
    error = "API replica 0 exited with code 1 before it was ready"

    def broken(planned: PlannedTrial) -> TrialRecord:
        return record(planned, "failed to run", [error], None)

    done = run_compare(tmp_path, ScriptedLab(broken, signal_on_close=True, problems=["could not remove /tmp/x"]))
    assert done.code == exitcodes.CANNOT_JUDGE, done.err
    assert done.document["reasons"][0].endswith(f"could not be measured (trial 1): {error}")
    assert done.document["ended_at"] is not None
    assert "cleanup problem: could not remove /tmp/x" in done.err


def test_every_trial_is_on_disk_as_it_ends(tmp_path: Path) -> None:
    seen: list[int] = []
    valid = service()
    out = tmp_path / "comparison"

    def answer(planned: PlannedTrial) -> TrialRecord:
        if planned.index > 1:
            document = json.loads((out / "comparison.json").read_text())
            assert document["complete"] is False
            assert document["reasons"][0].startswith(f"in progress: {planned.index - 1} trials run, ")
            seen.append(len(document["trials"]))
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer), "--trials", "4")
    assert seen == list(range(1, len(done.lab.ran)))


# --------------------------------------------------------------------------- the two phases


def test_each_block_runs_both_capacity_phases_then_both_load_phases_in_its_order(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service()))
    blocks: dict[int, list[PlannedTrial]] = {}
    for one in done.lab.ran:
        blocks.setdefault(one.block, []).append(one)
    for trials in blocks.values():
        assert [one.phase for one in trials] == ["capacity", "capacity", "load", "load"]
        assert [one.role for one in trials[:2]] == [one.role for one in trials[2:]]
    # A head-first block too: the base's capacity is known before either side's load phase.
    assert {trials[0].role for trials in blocks.values()} == {"base", "head"}
    assert [trial["folder"] for trial in done.document["trials"][:4]] == [
        f"trials/{one.index:02d}-{one.role}-{one.phase}" for one in done.lab.ran[:4]
    ]


def test_a_fixed_load_asked_in_requests_per_second_is_every_blocks(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(cost=0.3)), "--load-rate", "300")
    assert done.code == exitcodes.BREACHED, done.err
    assert (done.document["load_rps"], done.document["load_source"]) == (300, "as asked: --load-rate or load_rps")
    assert {one.load_rps for one in done.lab.ran if one.phase == "load"} == {300}
    assert "at a fixed load of 300 req/s" in done.err
    assert "the fixed load:" not in done.err  # nothing chosen from a measured capacity


def test_the_fixed_load_is_set_once_from_the_bases_capacity_in_the_first_valid_block(tmp_path: Path) -> None:
    valid = service(cost=0.3)

    def answer(planned: PlannedTrial) -> TrialRecord:
        if planned.block == 1 and planned.role == "base":
            return record(planned, "inconclusive", ["Locust CPU 100%"], figures(500, 900))
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer))
    assert done.code == exitcodes.BREACHED, done.err
    base = next(trial for trial in done.document["trials"] if trial["block"] == 2 and trial["role"] == "base")
    capacity = base["figures"]["rps"]
    assert done.document["load_rps"] == pytest.approx(0.6 * capacity)
    source = f"60% of the base's capacity in block 2 ({capacity:,.0f} req/s)"
    assert done.document["load_source"] == source
    loads = [one for one in done.lab.ran if one.phase == "load"]
    assert {one.load_rps for one in loads} == {done.document["load_rps"]}  # the same rate for every block
    assert min(one.block for one in loads) == 2  # block 1, dropped at its capacity phase, ran no load phase
    assert f"the fixed load: {done.document['load_rps']:,.0f} req/s, {source}" in done.err
    assert source in (done.out / "comparison.md").read_text()


def test_a_cost_that_shows_in_the_cpu_per_request_alone_is_regressed(tmp_path: Path) -> None:
    # The capacity reads the same (a host that hides it), the replicas' CPU per request at the fixed load rises 30%.
    valid = service()

    def answer(planned: PlannedTrial) -> TrialRecord:
        trial = valid(planned)
        if planned.role == "head" and trial.cpu_ms_per_request is not None:
            return trial.model_copy(update={"cpu_ms_per_request": trial.cpu_ms_per_request * 1.3})
        return trial

    done = run_compare(tmp_path, ScriptedLab(answer))
    assert done.code == exitcodes.BREACHED, done.err
    verdicts = {metric["metric"]: metric["verdict"] for metric in done.document["metrics"] if metric["judged"]}
    assert verdicts["cpu_per_request"] == "regressed"
    assert verdicts["capacity"] != "regressed"


# --------------------------------------------------------------------------- duet blocks

TWO_CORES = frozenset({0, 1})


def test_a_duet_runs_each_blocks_two_trials_at_once_on_the_same_cores(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(cost=0.3), cores=TWO_CORES))
    assert done.code == exitcodes.BREACHED, done.err
    assert done.document["design"] == "duet"
    assert done.document["design_reason"].startswith(
        "duet: base and head at the same time on the same cores: both sides' 1 replica(s) of 0.5 CPU on CPU 1"
    )
    assert all(sorted(one.role for one in step) == ["base", "head"] for step in done.lab.steps)
    # Each phase at the same time: the block's capacity phases, then its load phases, on the same cores.
    assert [{one.phase for one in step} for step in done.lab.steps] == [{"capacity"}, {"load"}] * (
        len(done.lab.steps) // 2
    )
    assert all({one.block for one in step} == {(index + 1) // 2} for index, step in enumerate(done.lab.steps, 1))
    # Both sides' replicas on CPU 1 and both Locusts on CPU 0, in every phase of every block.
    placement = Placement(frozenset({1}), frozenset({0}), sharing=2)
    assert all(one.placement == placement for step in done.lab.steps for one in step)
    assert {(trial["cores"], trial["locust_cores"]) for trial in done.document["trials"]} == {("1", "0")}
    # The orders say which side starts first, balanced: each side as often, within one block; both phases of
    # a block in its order.
    first = [step[0].role for step in done.lab.steps[::2]]
    assert abs(first.count("base") - first.count("head")) <= 1
    assert all(
        [one.role for one in capacity] == [one.role for one in load]
        for capacity, load in zip(done.lab.steps[::2], done.lab.steps[1::2], strict=True)
    )
    assert (
        "duet blocks: both sides' trials at the same time on the same cores" in (done.out / "comparison.md").read_text()
    )
    assert "at once, replicas on CPU 1, Locust on CPU 0..." in done.err


def test_a_duet_block_takes_one_trials_time_so_the_budget_holds_twice_the_blocks() -> None:
    planned = session("--base", "main", "--budget", "6m")
    assert planned.max_blocks == 3  # interleaved: (360 s - 15 s to prepare main) / ~88 s a block
    planned.plan_for(choose_design("auto", Pinning(TWO_CORES), planned.config.cell))
    assert planned.max_blocks == 7  # a duet: ... / ~44 s
    assert planned.budget().startswith(
        "compare: up to 7 duet blocks (base and head at the same time on the same cores, orders balanced, seed "
    )


def test_a_dropped_duet_block_is_replaced_in_the_same_order(tmp_path: Path) -> None:
    valid = service(cost=1.0)

    def answer(planned: PlannedTrial) -> TrialRecord:
        if planned.block == 1:
            return record(planned, "inconclusive", ["Locust CPU 100%"], figures(500, 900))
        return valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer, cores=TWO_CORES), "--trials", "8")
    assert done.document["blocks_dropped"] == 1
    first, replacement = done.lab.steps[0], done.lab.steps[1]
    assert [one.role for one in first] == [one.role for one in replacement]
    assert done.code == exitcodes.BREACHED, done.err


def test_one_core_falls_back_to_interleaved_blocks_and_says_why(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(), cores=frozenset({1})))
    why = (
        "both sides' 1 replica(s) of 0.5 CPU (1 CPU together) fill 1 core(s) and their Locusts need one more, but "
        "the comparison may use 1 CPU (1)"
    )
    assert done.document["design"] == "interleaved"
    assert done.document["design_reason"] == f"interleaved blocks, not a duet: {why}"
    assert all(len(step) == 1 for step in done.lab.steps)
    assert all(trial["cores"] is None for trial in done.document["trials"])
    assert f"(not a duet: {why})" in (done.out / "comparison.md").read_text()
    assert f"interleaved blocks, not a duet: {why}" in done.err


def test_interleaved_blocks_run_where_asked_though_a_duet_fits(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(), cores=TWO_CORES), "--design", "interleaved")
    assert done.document["design"] == "interleaved"
    assert all(len(step) == 1 for step in done.lab.steps)


def test_a_duet_asked_where_none_fits_cannot_be_judged_before_any_trial(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service()), "--design", "duet")
    assert done.code == exitcodes.CANNOT_JUDGE
    assert done.document["reasons"] == [
        "cannot judge: --design duet cannot run here: both sides' 1 replica(s) of 0.5 CPU (1 CPU together) fill 1 "
        "core(s) and their Locusts need one more, but the comparison may use 1 CPU (0)"
    ]
    assert done.lab.ran == []
    assert done.lab.closed == 1


def test_a_side_that_breaks_in_a_duet_cannot_be_judged_naming_it(tmp_path: Path) -> None:
    error = "API replica 0 exited with code 1 before it was ready"
    valid = service()

    def answer(planned: PlannedTrial) -> TrialRecord:
        return record(planned, "failed to run", [error], None) if planned.role == "head" else valid(planned)

    done = run_compare(tmp_path, ScriptedLab(answer, cores=TWO_CORES))
    assert done.code == exitcodes.CANNOT_JUDGE, done.err
    head = next(one for one in done.lab.ran if one.role == "head")
    assert done.document["reasons"] == [
        f"cannot judge: head (working tree, bbbbbbbbbbbb) could not be measured (trial {head.index}): {error}"
    ]
    assert len(done.document["trials"]) == 2 == len(done.lab.ran)  # both of the block were kept, none after


def test_ctrl_c_in_a_duet_keeps_both_trials_of_the_block_cut_short(tmp_path: Path) -> None:
    done = run_compare(tmp_path, ScriptedLab(service(), signal_at=5, cores=TWO_CORES))
    assert done.code == exitcodes.CANNOT_JUDGE, done.err
    assert done.document["reasons"] == ["cut short by SIGINT after 6 trials (2 blocks)"]
    assert [trial["outcome"] for trial in done.document["trials"]] == ["pass"] * 4 + ["cut short"] * 2
    assert done.lab.closed == 1


# --------------------------------------------------------------------------- the plan before it runs


@pytest.mark.parametrize(
    ("alpha", "judged", "blocks"),
    [(0.05, 3, 6), (0.05, 2, 6), (0.05, 1, 5), (0.025, 3, 7), (0.5, 1, 2)],
)
def test_the_fewest_blocks_the_signed_rank_check_can_confirm(alpha: float, judged: int, blocks: int) -> None:
    assert minimum_blocks(alpha, judged) == blocks
    assert 0.5**blocks < alpha / judged or blocks == 2
    assert 0.5 ** (blocks - 1) >= alpha / judged or blocks == 2


@pytest.mark.parametrize(
    ("argv", "blocks", "expected"),
    [
        pytest.param(
            ["--base", "main"],
            8,
            ", plus ~15 s to prepare each of 1 revision(s) and ~1 s for the working tree's venv",
            id="working-tree-head",
        ),
        pytest.param(
            ["--base", "main", "--head-api-command", "./serve {port}"],
            8,
            ", plus ~15 s to prepare each of 1 revision(s)",
            id="working-tree-of-a-command",
        ),
        pytest.param(
            ["--base", "main", "--head", "main"], 8, ", plus ~15 s to prepare each of 1 revision(s)", id="a-and-a"
        ),
        pytest.param(["--base", "main", "--head", "v2"], 7, ", plus ~15 s to prepare each of 2 revision(s)", id="two"),
        pytest.param(["--backend", "compose", "--base", "me/api:1"], 6, "", id="images"),  # 12m / ~108 s a block
        pytest.param(
            ["--base", "main", "--budget", "10m"],
            6,
            ", plus ~15 s to prepare each of 1 revision(s) and ~1 s for the working tree's venv",
            id="10m",
        ),
    ],
)
def test_the_budget_says_what_runs_and_how_long(argv: list[str], blocks: int, expected: str) -> None:
    lines = session(*argv).budget().splitlines()
    assert lines[0].startswith(f"compare: up to {blocks} blocks of one base and one head trial (orders balanced, seed ")
    assert (
        "on r1-cpu0.5-mem512m, each trial 15s of capacity under 32 saturating users, then 15s at a fixed load of "
        "60% of the base's capacity in the first block, until the verdict is decided or the budget of " in lines[0]
    )
    assert lines[0].endswith(f" min at most{expected}")
    assert lines[1].startswith(
        "judged: capacity, cpu_per_request, error_rate; δ 10%, no change at 90%, regressed or improved at 96.7% per "
        "metric, "
        "over looks after each block from block "
    )
    assert len(lines) == 2


def test_too_few_blocks_are_announced_before_any_trial() -> None:
    (note,) = session("--base", "main", "--trials", "5").budget().splitlines()[2:]
    assert note.startswith("note: with 5 blocks the signed-rank test cannot confirm any verdict at this level")
    assert note.endswith("give --trials 6 or more, and a --budget that holds them")
