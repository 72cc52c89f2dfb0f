"""`python -m loadtest plan`: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.cli import main

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


@pytest.mark.parametrize(
    ("replicas", "cpus", "cores", "crowded"),
    [
        ("1,2", "1.0", 4, []),  # public repositories' runners: 2 x 1.0 + 1 for Locust fits
        ("1,2", "1.0", 2, ["r2-cpu1.0-mem1g"]),  # private repositories' runners: the 2-replica cell does not
        ("1,2,4", "0.5", 2, ["r4-cpu0.5-mem1g"]),
        ("1", "0.5,1.0,1.5", 2, ["r1-cpu1.5-mem1g"]),
        ("1", "1.0", 1, ["r1-cpu1.0-mem1g"]),
        ("3", "1.0", 4, []),
    ],
)
def test_cells_that_leave_no_core_for_locust_are_warned_about(
    replicas: str, cpus: str, cores: int, crowded: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps' summary\n")
    argv = ["--replicas", replicas, "--cpus", cpus, "--cores", str(cores), "--summary", str(summary)]
    assert main(["plan", *argv]) == exitcodes.PASSED
    captured = capsys.readouterr()
    assert captured.out == f"replicas=[{', '.join(replicas.split(','))}]\n"
    annotations = [line for line in captured.err.splitlines() if line.startswith("::warning")]
    assert [line.split("::")[2].split(":")[0] for line in annotations] == [f"cell {cell}" for cell in crowded]
    text = summary.read_text()
    assert text.startswith("earlier steps' summary\n")
    assert all(f"cell {cell}:" in text for cell in crowded)
    assert (f"The runner has {cores} cores" in text) is bool(crowded)


def test_the_warning_names_the_cores_needed_and_had(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "--replicas", "2", "--cpus", "1.0", "--cores", "2"])
    (warning,) = capsys.readouterr().err.splitlines()
    assert warning == (
        "::warning title=Runner too small for a cell::cell r2-cpu1.0-mem1g: 2 x 1.0 CPU for the API + 1 core for "
        "Locust = 3 cores, but the runner has 2; Locust and the replicas will share cores, so the cell measures the "
        "load generator as much as the API"
    )


def test_the_cores_default_to_this_machines(capsys: pytest.CaptureFixture[str]) -> None:
    cores = len(os.sched_getaffinity(0))
    main(["plan", "--replicas", str(cores), "--cpus", "1.0"])
    assert f"but the runner has {cores};" in capsys.readouterr().err


def test_the_profiles_cpus_are_used_without_an_input(
    write_thresholds: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    roomy = write_thresholds(THRESHOLDS.replace("cpus: 0.5", "cpus: 0.25"))
    main(["plan", "--thresholds", str(roomy), "--cores", "2"])
    assert "::warning" not in capsys.readouterr().err  # 3 x 0.25 + 1 core for Locust fits in 2
    crowded = write_thresholds(THRESHOLDS)
    main(["plan", "--thresholds", str(crowded), "--cores", "2"])
    assert "cell r3-cpu0.5-mem512m:" in capsys.readouterr().err  # 3 x 0.5 + 1 does not
