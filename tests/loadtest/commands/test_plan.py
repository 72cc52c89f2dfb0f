"""`python -m loadtest plan`: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes

if TYPE_CHECKING:
    from tests.conftest import Cli

THRESHOLDS = """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  ci: {users: 10, spawn_rate: 5, run_time: 10s, cpus: 0.5, memory: 512m, replicas: [3, 1]}
  nightly: {users: 10, spawn_rate: 5, run_time: 10s, cpus: 0.5, memory: 512m, replicas: [4]}
"""


@pytest.fixture
def thresholds(write_thresholds: Callable[[str], Path]) -> Path:
    return write_thresholds(THRESHOLDS)


def planned(done: subprocess.CompletedProcess[str]) -> list[int]:
    """The replica counts of `replicas=[...]`, the one line plan prints for $GITHUB_OUTPUT."""
    assert done.returncode == exitcodes.PASSED, done.stderr
    key, _, value = done.stdout.strip().partition("=")
    assert key == "replicas"
    return list(json.loads(value))


@pytest.mark.parametrize(("text", "expected"), [("1", [1]), ("1,2", [1, 2]), (" 4 , 1,2 ", [4, 1, 2]), ("10", [10])])
def test_the_input_wins(loadtest_cli: Cli, thresholds: Path, text: str, expected: list[int]) -> None:
    assert planned(loadtest_cli("plan", "--replicas", text, "--thresholds", thresholds)) == expected


def test_no_input_takes_the_ci_profiles_replicas(loadtest_cli: Cli, thresholds: Path) -> None:
    assert planned(loadtest_cli("plan", "--thresholds", thresholds)) == [3, 1]


def test_another_profile(loadtest_cli: Cli, thresholds: Path) -> None:
    assert planned(loadtest_cli("plan", "--thresholds", thresholds, "--profile", "nightly")) == [4]


def test_an_empty_variable_is_no_input(loadtest_cli: Cli, thresholds: Path) -> None:
    env = {"LOADTEST_REPLICAS": "", "LOADTEST_THRESHOLDS": str(thresholds), "LOADTEST_PROFILE": "nightly"}
    assert planned(loadtest_cli("plan", env=env)) == [4]
    assert planned(loadtest_cli("plan", env={**env, "LOADTEST_REPLICAS": "2,1"})) == [2, 1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "nope"], "no profile 'nope' (have: ci, nightly)"),
        (["--thresholds", "missing.yaml"], "missing.yaml"),
        (["--replicas", "2,1,2"], "replica count 2 is listed twice"),
    ],
)
def test_a_bad_plan_exits_2_with_a_clear_message(
    loadtest_cli: Cli, thresholds: Path, argv: list[str], message: str
) -> None:
    done = loadtest_cli("plan", "--thresholds", thresholds, *argv)
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert done.stdout == ""
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "'0' must be at least 1"),
        ("1,x", "'x' is not a whole number"),
        ("1,,2", "is not a comma-separated list such as 1,2"),
        ("1.5", "'1.5' is not a whole number"),
    ],
)
def test_a_bad_input_is_a_usage_error(
    loadtest_cli: Cli, text: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        loadtest_cli("plan", "--replicas", text)
    assert stop.value.code == 2
    assert problem in capsys.readouterr().err
