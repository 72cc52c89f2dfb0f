"""comparison.md, the terminal view and comparison.png, from a comparison with known figures."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from loadtest.compare.comparison_summary import render_chart, render_console, render_markdown
from loadtest.compare.statistics import judge_metrics, overall_verdict
from loadtest.compare.trials import blocks_of
from loadtest.records import (
    Comparison,
    ComparisonCell,
    Figures,
    PhaseName,
    RunOutcome,
    SideInfo,
    SideRole,
    TrialRecord,
)
from loadtest.thresholds import CompareSettings

SETTINGS = CompareSettings(trials=6)
WOBBLE = (0.01, -0.012, 0.004, -0.006, 0.011, -0.003)
LOAD = 612.0
"""The fixed load: 60% of the base's capacity in block 1."""


def trial(
    index: int,
    block: int,
    role: SideRole,
    throughput: float,
    outcome: RunOutcome = "pass",
    phase: PhaseName = "capacity",
) -> TrialRecord:
    """A side's trial in one phase of a CPU-bound service of half a CPU serving `throughput` at capacity."""
    load = phase == "load"
    return TrialRecord.model_validate(
        {
            "index": index,
            "block": block,
            "role": role,
            "phase": phase,
            "load_rps": LOAD if load else None,
            "folder": f"trials/{index:02d}-{role}-{phase}",
            "outcome": outcome,
            "reasons": ["Locust CPU 100% (limit 90%) for 9 s of 18 s"] if outcome == "inconclusive" else [],
            "figures": Figures(
                name="Aggregated",
                requests=int((LOAD if load else throughput) * 18),
                failures=0,
                error_rate=0.0,
                rps=LOAD if load else throughput,
                p50_ms=8_000 / throughput if load else 16_000 / throughput,
                p95_ms=20_000 / throughput if load else 64_000 / throughput,
                p99_ms=30_000 / throughput if load else 96_000 / throughput,
            ),
            "started_at": datetime(2026, 12, 1, tzinfo=UTC),
            "duration_seconds": 26.0,
            "cpu_ms_per_request": 500 / throughput if load else None,  # half a CPU over its capacity
        }
    )


def comparison(ratio: float, inconclusive_block: int | None = None, complete: bool = True) -> Comparison:
    trials: list[TrialRecord] = []
    for block, wobble in enumerate(WOBBLE, start=1):
        base = 1000.0 * (1 + 0.02 * block)
        head = base * ratio * math.exp(wobble)
        outcome: RunOutcome = "inconclusive" if block == inconclusive_block else "pass"
        trials.append(trial(len(trials) + 1, block, "base", base, outcome))
        trials.append(trial(len(trials) + 1, block, "head", head))
        if block != inconclusive_block:  # a block dropped at its capacity phase runs no load phase
            trials.append(trial(len(trials) + 1, block, "base", base, phase="load"))
            trials.append(trial(len(trials) + 1, block, "head", head, phase="load"))
    metrics = judge_metrics(blocks_of(trials), SETTINGS)
    verdict, reasons = overall_verdict(metrics, len(trials), inconclusive_block is not None, SETTINGS)
    return Comparison(
        complete=complete,
        verdict=verdict if complete else "inconclusive",
        reasons=reasons if complete else ["cut short by SIGINT after 12 of 12 trials"],
        on_inconclusive="fail",
        profile="compare",
        backend="process",
        base=SideInfo(role="base", spec="main", commit="a" * 40, checkout="/tmp/wt"),
        head=SideInfo(role="head", spec="working tree", commit="b" * 40, dirty=True, checkout="/repo"),
        cell=ComparisonCell(
            replicas=1, cpus=0.5, memory="512m", users=32, spawn_rate=32, warmup="spawn", scenario=None
        ),
        settings=SETTINGS,
        run_time_seconds=20,
        seed=42,
        planned=[t.role for t in trials],
        trials=trials,
        metrics=metrics,
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        max_blocks=8,
        blocks_run=6,
        blocks_dropped=int(inconclusive_block is not None),
        stopped="the most blocks: 6 valid blocks ran" if complete else None,
        load_rps=LOAD,
        load_source="60% of the base's capacity in block 1 (1,020 req/s)",
    )


def test_the_markdown_leads_with_the_verdict_and_a_row_per_metric() -> None:
    text = render_markdown(comparison(0.75))
    lines = text.splitlines()
    assert lines[0] == "### ❌ Comparison REGRESSED: head vs base"
    assert lines[2] == "| metric | base | head | change (interval) | verdict |"
    rows = [line for line in lines if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| **capacity**",
        "| **CPU per request**",
        "| **error rate**",
        "| P50 at the fixed load",
        "| P95 at the fixed load",
        "| P99 at the fixed load",
    ]
    capacity = rows[0]
    assert "1,070 req/s" in capacity  # the base's median
    assert "-24." in capacity
    assert "❌ regressed |" in capacity
    assert "| 0.467 ms CPU | " in rows[1]  # the base's median: 500 / 1,070 req/s, to 3 digits
    assert "+3" in rows[1]  # a third more CPU per request
    assert "❌ regressed |" in rows[1]
    assert "| ✅ no change |" in rows[2]
    assert "(not gating)" in rows[3]
    assert "base (main, aaaaaaaaaaaa) · head (working tree, bbbbbbbbbbbb, uncommitted changes)" in text
    assert "**δ = 10%**" in text
    assert "6 blocks of at most 8 (0 dropped), 24 trials run, 0 inconclusive; stopped: the most blocks" in text
    assert (
        "each side per block: 15s of capacity under 32 saturating users, then 15s at the fixed load of 612 req/s "
        "(60% of the base's capacity in block 1 (1,020 req/s)), an open loop; ramps not judged" in text
    )
    assert "- capacity: regressed: the 9" in text
    assert text.rstrip().endswith("(comparison.png)")


def test_no_change_reads_as_such() -> None:
    text = render_markdown(comparison(1.0), chart=None)
    assert text.startswith("### ✅ Comparison NO CHANGE: head vs base")
    assert "comparison.png" not in text
    assert "The other judged metrics" not in text  # no change names every judged metric already


def test_the_judged_metrics_that_did_not_decide_say_why() -> None:
    regressed = comparison(0.75)
    markdown, console = render_markdown(regressed), render_console(regressed)
    assert [reason.split(":")[0] for reason in regressed.reasons] == ["capacity", "CPU per request"]
    assert "The other judged metrics:\n\n- error rate: no change: no change larger than" in markdown
    assert "  the other judged metrics:\n    error rate: no change: no change larger than" in console
    assert "P50 at the fixed load:" not in markdown  # not judged: its verdict is the table's, not a reason


def test_trials_that_gave_no_value_are_listed_with_their_reason() -> None:
    text = render_markdown(comparison(1.0, inconclusive_block=3))
    assert "6 blocks of at most 8 (1 dropped), 22 trials run, 1 inconclusive" in text
    assert (
        "- trial 9 (block 3, base, `trials/09-base-capacity`): inconclusive: Locust CPU 100% (limit 90%) for 9 s of "
        "18 s" in text
    )


def test_an_incomplete_comparison_says_so() -> None:
    text = render_markdown(comparison(0.75, complete=False))
    assert text.startswith("### ⚠️ Comparison INCONCLUSIVE (incomplete): head vs base")
    assert "- cut short by SIGINT after 12 of 12 trials" in text


def test_the_terminal_shows_the_same_table() -> None:
    text = render_console(comparison(0.75))
    assert text.splitlines()[0] == "❌ Comparison REGRESSED: head vs base"
    assert "metric" in text.splitlines()[2]
    assert "regressed" in text
    assert "δ 10%; 6 blocks of at most 8 (0 dropped), 24 trials run, 0 inconclusive; stopped: the most" in text


def test_the_chart_is_a_png_when_any_trial_gave_figures() -> None:
    picture = render_chart(comparison(0.75))
    assert picture is not None
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    empty = comparison(0.75).model_copy(update={"trials": []})
    assert render_chart(empty) is None


@pytest.mark.parametrize("ratio", [0.75, 1.0, 1.3])
def test_the_chart_draws_every_verdict(ratio: float) -> None:
    assert render_chart(comparison(ratio)) is not None


@pytest.mark.parametrize(
    ("cores", "locust_cores", "words"),
    [
        pytest.param(
            "1",
            "0",
            "duet blocks: both sides' trials at the same time on the same cores (both sides' replicas on CPU 1, "
            "both Locusts on CPU 0), orders balanced",
            id="shared-cores",
        ),
        pytest.param(
            "0",
            None,
            "duet blocks: both sides' trials at the same time on the same machine, each side on its own cores, "
            "swapping cores every block, balanced",
            id="a-comparison-json-of-before-the-shared-cores",
        ),
    ],
)
def test_a_duet_says_where_its_sides_ran(cores: str, locust_cores: str | None, words: str) -> None:
    ran = comparison(0.9)
    pinned = [one.model_copy(update={"cores": cores, "locust_cores": locust_cores}) for one in ran.trials]
    duet = ran.model_copy(update={"design": "duet", "trials": pinned})
    assert words in render_markdown(duet)
