"""`python -m loadtest compare` end to end on the process backend: the cases the issue says must hold.

Each comparison is short (six blocks of 6 s trials, about two minutes) so the suite stays quick;
only the cost's runs to its end (the others stop early or are cut short). So
short a run on a shared 2-core machine tells a cost that cuts throughput by half from noise every
time, where the ~25% cost of the issue needs the profile's 20 s trials: that one, half of it, the
workshop's design as head and repeated A/A runs are measured by `scripts/compare_bench.py`, with
figures in docs/compare.md. The head with a regression is a commit made in a throwaway worktree on
top of HEAD: no branch moves. The bookkeeping rules (too many inconclusive trials, a side that breaks,
what Ctrl-C keeps) run on scripted trials in test_session.py; here what needs real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from loadtest.util.git import resolve_commit
from scripts.compare_bench import DEFAULT_COST_US, cpu_cost_commit
from tests.loadtest.processes import needs_cgroups

REPO = Path(__file__).resolve().parents[3]
SHORT = ["--trials", "6", "--run-time", "6s", "--load-time", "6s", "--seed", "11"]
"""Six blocks (the fewest with which the signed-rank check can confirm a verdict) of 6 s trials: Locust's
--run-time fires early by the time its start-up took (gevent's cached loop time: a 3 s limit ended 0.2-0.8 s
after Locust set it when both sides' Locusts started at once in a duet, each on one core), and a 3 s trial
then had no request after its 1 s ramp."""

pytestmark = pytest.mark.integration


def compare_argv(out: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "loadtest", "compare", "--out", str(out), *flags]


def run_compare(tmp_path: Path, *flags: str) -> tuple[int, dict[str, Any], str]:
    """The comparison's exit code, its comparison.json and what it said on stderr."""
    out = tmp_path / "comparison"
    done = subprocess.run(compare_argv(out, *flags), cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    document = json.loads((out / "comparison.json").read_text()) if (out / "comparison.json").is_file() else {}
    return done.returncode, document, done.stderr


def worktrees() -> list[str]:
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return [line.removeprefix("worktree ") for line in listed.stdout.splitlines() if line.startswith("worktree ")]


def processes_using(path: str) -> list[int]:
    """Processes whose working directory or command line is inside `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(path) or path in cmdline:
            found.append(int(entry.name))
    return found


def regressed(document: dict[str, Any]) -> set[str]:
    return {metric["metric"] for metric in document["metrics"] if metric["judged"] and metric["verdict"] == "regressed"}


# Over two minutes of CI's twenty: `make test-slow` runs it. `make test` keeps the rule as a unit test on a
# scripted lab (test_session.py: a cost per request is found regressed) and the real plumbing end to end
# (Ctrl-C below: real trials on a prepared side, and their clean-up).
@pytest.mark.slow
@needs_cgroups
def test_a_fixed_cpu_cost_per_predict_is_regressed(tmp_path: Path) -> None:
    head = cpu_cost_commit(REPO, 4 * DEFAULT_COST_US)  # ~330 us per /predict: about -50% here
    code, document, stderr = run_compare(tmp_path, "--base", "HEAD", "--head", head, *SHORT)
    assert code == exitcodes.BREACHED, stderr[-3000:]
    assert document["verdict"] == "regressed"
    assert regressed(document) & {"capacity", "cpu_per_request"}, document["reasons"]
    capacity = next(metric for metric in document["metrics"] if metric["metric"] == "capacity")
    assert capacity["change"] < -0.2
    cpu = next(metric for metric in document["metrics"] if metric["metric"] == "cpu_per_request")
    assert cpu["change"] > 0.2  # the same cost, per request, at the fixed load


@pytest.mark.slow
def test_too_many_inconclusive_trials_make_the_comparison_inconclusive_never_a_pass(tmp_path: Path) -> None:
    # Without limits every trial is inconclusive: past a quarter of the 12 planned it stops. HEAD
    # against itself also shows the A/A plumbing: one worktree serves both sides, every trial ran
    # that commit, and the worktree is gone after. Whether A/A is ever called a change is a
    # statistical property: tests/loadtest/compare/test_statistics.py and scripts/compare_bench.py.
    before = worktrees()
    commit = resolve_commit(REPO, "HEAD")  # before the run: a commit made meanwhile moves HEAD
    code, document, stderr = run_compare(tmp_path, "--base", "HEAD", "--head", "HEAD", "--no-limits", *SHORT)
    assert code == exitcodes.INCONCLUSIVE, stderr[-3000:]
    assert document["verdict"] == "inconclusive"
    assert document["complete"] is True
    assert len(document["trials"]) == 4
    assert all(trial["outcome"] == "inconclusive" for trial in document["trials"])
    assert document["trials"][0]["reasons"][0].startswith("limits were not enforced (disabled with --no-limits)")
    assert document["reasons"] == [
        "4 trials were inconclusive, more than max_inconclusive_share 25% of the 12 a full comparison runs: the "
        "measurement was not valid"
    ]
    assert document["base"]["commit"] == document["head"]["commit"] == commit
    assert document["base"]["checkout"] == document["head"]["checkout"]  # one worktree serves both
    out = tmp_path / "comparison"
    for trial in document["trials"]:
        folder = out / trial["folder"]
        assert (folder / "locust_stats.csv").is_file()
        assert json.loads((folder / "run.json").read_text())["git_commit"] == commit
    assert (out / "comparison.md").read_text().startswith("### ")
    assert worktrees() == before
    assert not Path(document["base"]["checkout"]).exists()


@needs_cgroups
def test_ctrl_c_leaves_nothing_behind_and_keeps_the_trials_done(tmp_path: Path) -> None:
    out = tmp_path / "comparison"
    argv = compare_argv(out, "--base", "HEAD", "--head", "HEAD", *SHORT)
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    document: dict[str, Any] = {}
    while time.monotonic() < deadline and process.poll() is None:
        try:
            document = json.loads((out / "comparison.json").read_text())
        except (OSError, ValueError):
            document = {}
        if document.get("trials"):
            break
        time.sleep(0.2)
    assert document.get("trials"), "no trial was done in time"
    checkout = document["base"]["checkout"]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == exitcodes.CANNOT_JUDGE, stderr[-3000:]
    document = json.loads((out / "comparison.json").read_text())
    assert document["complete"] is False
    assert document["reasons"][0].startswith("cut short by SIGINT after ")
    assert 1 <= len(document["trials"]) < 12
    assert checkout not in worktrees()
    assert not Path(checkout).exists()
    assert processes_using(checkout) == []
    assert not list(Path("/sys/fs/cgroup").glob(f"*/loadtest-{process.pid}"))
    assert not list(Path("/sys/fs/cgroup").glob(f"*/**/loadtest-{process.pid}"))
