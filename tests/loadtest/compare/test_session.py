"""A comparison's plan before it runs: the budget it prints, and how few blocks can decide."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from loadtest.commands import compare
from loadtest.compare.compare_options import compare_config
from loadtest.compare.session import ComparisonSession, minimum_blocks
from loadtest.thresholds import load_thresholds

REPO = Path(__file__).resolve().parents[3]
THRESHOLDS = REPO / "thresholds.yaml"


def session(*argv: str) -> ComparisonSession:
    parser = argparse.ArgumentParser()
    compare.register(parser.add_subparsers())
    args = parser.parse_args(["compare", *argv])
    config = compare_config(args, {}, lambda _: load_thresholds(THRESHOLDS))
    return ComparisonSession(config, REPO, io.StringIO(), io.StringIO())


@pytest.mark.parametrize(
    ("alpha", "judged", "blocks"),
    [(0.05, 3, 6), (0.05, 2, 6), (0.05, 1, 5), (0.025, 3, 7), (0.5, 1, 2)],
)
def test_the_fewest_blocks_the_signed_rank_check_can_confirm(alpha: float, judged: int, blocks: int) -> None:
    assert minimum_blocks(alpha, judged) == blocks
    assert 0.5**blocks < alpha / judged or blocks == 2
    assert 0.5 ** (blocks - 1) >= alpha / judged or blocks == 2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["--base", "main"], ", plus ~15 s to prepare each of 1 revision(s)", id="working-tree-head"),
        pytest.param(
            ["--base", "main", "--head", "main"], ", plus ~15 s to prepare each of 1 revision(s)", id="a-and-a"
        ),
        pytest.param(["--base", "main", "--head", "v2"], ", plus ~15 s to prepare each of 2 revision(s)", id="two"),
        pytest.param(["--backend", "compose", "--base", "me/api:1"], "", id="images"),
    ],
)
def test_the_budget_says_what_runs_and_how_long(argv: list[str], expected: str) -> None:
    lines = session(*argv).budget().splitlines()
    assert lines[0].startswith("compare: 16 trials (8 blocks of one base and one head trial, in random order, seed ")
    assert "of 20s each on r1-cpu0.5-mem512m under 32 users: about " in lines[0]
    assert lines[0].endswith(f" min{expected}")
    assert (
        lines[1]
        == "judged: p95, throughput, error_rate; δ 10%, no change at 90%, regressed or improved at 96.7% per metric"
    )
    assert len(lines) == 2


def test_too_few_blocks_are_announced_before_any_trial() -> None:
    (note,) = session("--base", "main", "--trials", "5").budget().splitlines()[2:]
    assert note.startswith("note: with 5 blocks the signed-rank test cannot confirm any verdict at this level")
    assert note.endswith("give --trials 6 or more")
