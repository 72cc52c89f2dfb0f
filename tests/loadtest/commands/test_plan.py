"""`python -m loadtest plan`: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.commands.plan import locust_cores
from loadtest.scenario import Pace, workshop_scenario
from tests.usage import assert_cannot_judge, usage_error

if TYPE_CHECKING:
    from tests.conftest import Cli, WriteText

THRESHOLDS = """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  ci: {users: 10, spawn_rate: 5, run_time: 10s, cpus: 0.5, memory: 512m, replicas: [3, 1]}
  nightly: {users: 10, spawn_rate: 5, run_time: 10s, cpus: 0.5, memory: 512m, replicas: [4]}
"""


ROOMY = ("--cores", "64")
"""A runner with room for every cell: these tests are about the matrix, not the cores."""


@pytest.fixture
def thresholds(write_thresholds: WriteText) -> Path:
    return write_thresholds(THRESHOLDS)


def planned(done: subprocess.CompletedProcess[str]) -> list[int]:
    """The replica counts of `replicas=[...]`, the one line plan prints for $GITHUB_OUTPUT."""
    assert done.returncode == exitcodes.PASSED, done.stderr
    key, _, value = done.stdout.strip().partition("=")
    assert key == "replicas"
    return list(json.loads(value))


@pytest.mark.parametrize(("text", "expected"), [("1", [1]), ("1,2", [1, 2]), (" 4 , 1,2 ", [4, 1, 2]), ("10", [10])])
def test_the_input_wins(loadtest_cli: Cli, thresholds: Path, text: str, expected: list[int]) -> None:
    assert planned(loadtest_cli("plan", "--replicas", text, "--thresholds", thresholds, *ROOMY)) == expected


def test_no_input_takes_the_ci_profiles_replicas(loadtest_cli: Cli, thresholds: Path) -> None:
    assert planned(loadtest_cli("plan", "--thresholds", thresholds, *ROOMY)) == [3, 1]


def test_another_profile(loadtest_cli: Cli, thresholds: Path) -> None:
    assert planned(loadtest_cli("plan", "--thresholds", thresholds, "--profile", "nightly", *ROOMY)) == [4]


def test_an_empty_variable_is_no_input(loadtest_cli: Cli, thresholds: Path) -> None:
    env = {"LOADTEST_REPLICAS": "", "LOADTEST_THRESHOLDS": str(thresholds), "LOADTEST_PROFILE": "nightly"}
    env["LOADTEST_CORES"] = ROOMY[1]
    assert planned(loadtest_cli("plan", env=env)) == [4]
    assert planned(loadtest_cli("plan", env={**env, "LOADTEST_REPLICAS": "2,1"})) == [2, 1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "nope"], "profile 'nope' is not in"),
        (["--thresholds", "missing.yaml"], "missing.yaml"),
        (["--replicas", "2,1,2"], "replica count 2 is listed twice"),
    ],
)
def test_a_bad_plan_exits_2_with_a_clear_message(
    loadtest_cli: Cli, thresholds: Path, argv: list[str], message: str
) -> None:
    done = loadtest_cli("plan", "--thresholds", thresholds, *argv)
    assert_cannot_judge(done, message)
    assert done.stdout == ""


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
    assert problem in usage_error(capsys, loadtest_cli, "plan", "--replicas", text)


@pytest.mark.parametrize(
    ("replicas", "cpus", "cores", "crowded"),
    [
        ("1,2", "1.0", 4, []),  # public repositories' runners: 2 x 1.0 + 1 for Locust fits
        ("1,2", "1.0", 2, ["r2-cpu1.0-mem512m"]),  # private repositories' runners: the 2-replica cell does not
        ("1,2,4", "0.5", 2, ["r4-cpu0.5-mem512m"]),
        ("1", "0.5,1.0,1.5", 2, ["r1-cpu1.5-mem512m"]),
        ("1", "1.0", 1, ["r1-cpu1.0-mem512m"]),
        ("3", "1.0", 4, []),
    ],
)
def test_cells_that_leave_locust_too_few_cores_are_refused(
    replicas: str, cpus: str, cores: int, crowded: list[str], thresholds: Path, tmp_path: Path, loadtest_cli: Cli
) -> None:
    # 10 users of the workshop's scenario: one Locust core.
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps' summary\n")
    argv = ["--replicas", replicas, "--cpus", cpus, "--cores", str(cores), "--summary", str(summary)]
    done = loadtest_cli("plan", "--thresholds", thresholds, *argv)
    annotations = [line for line in done.stderr.splitlines() if line.startswith("::error")]
    assert [line.split("::")[2].split(" needs")[0] for line in annotations] == [f"cell {cell}" for cell in crowded]
    text = summary.read_text()
    assert text.startswith("earlier steps' summary\n")
    assert all(f"cell {cell} needs" in text for cell in crowded)
    if crowded:
        assert done.returncode == exitcodes.CANNOT_JUDGE
        assert done.stdout == ""  # no matrix: no cell job starts
        assert "### ❌ The plan refuses this run (matrix mode)" in text
    else:
        assert planned(done) == [int(count) for count in replicas.split(",")]


@pytest.mark.parametrize(
    ("users", "rate", "cores"),
    [
        (10, 0.1, 1),
        (5_000, 0.1, 1),  # 500 req/s and 5,000 users: one core
        (5_001, 0.1, 2),  # one user too many for one core
        (2_000, 1.0, 2),  # 2,000 req/s: over one core's 1,700
        (10_000, 0.25, 2),  # the ci profile: 2,500 req/s, 10,000 users
        (12_000, 0.25, 3),  # 3,000 req/s, 12,000 users: the users decide
        (6_000, 1.0, 4),  # 6,000 req/s: the rate decides
    ],
)
def test_locusts_cores_come_from_the_asked_rate_and_the_users(users: int, rate: float, cores: int) -> None:
    scenario = workshop_scenario().with_paces({"ordinary": Pace(rate=rate), "heavy": Pace(rate=rate)})
    assert locust_cores(scenario, users) == cores


def test_the_ci_profile_fits_a_4_vcpu_runner_and_a_third_replica_does_not(loadtest_cli: Cli) -> None:
    """The ci profile's Locust needs 2 cores: 1 and 2 replicas of 1 CPU fit GitHub's public 4-vCPU runners;
    a dispatch of 1,2,3 is refused in the plan job rather than ending inconclusive after 10 minutes."""
    assert planned(loadtest_cli("plan", "--cores", "4")) == [1, 2]
    done = loadtest_cli("plan", "--replicas", "1,2,3", "--cores", "4")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    (refusal,) = done.stderr.splitlines()
    assert refusal == (
        "::error title=The plan refuses::cell r3-cpu1.0-mem1g needs 5 cores: 3 x 1.0 CPU for the API + 2 for Locust "
        "(10,000 users asking ~2,500 req/s, at ~1,700 req/s and ~5,000 users per core), but the runner has 4: Locust "
        "would share the API's cores and the cell would end inconclusive. Use a larger runner, or plan fewer "
        "replicas, smaller CPU limits or fewer users"
    )
    # A private repository's 2-vCPU runner: every cell of the ci profile is refused.
    refused = loadtest_cli("plan", "--cores", "2")
    assert refused.returncode == exitcodes.CANNOT_JUDGE
    assert refused.stderr.count("::error") == 2
    # Fewer users need fewer cores: 5,000 of them leave 1 core's work for Locust.
    assert planned(loadtest_cli("plan", "--cores", "2", "--replicas", "1", env={"LOADTEST_USERS": "5000"})) == [1]


def test_locusts_cores_follow_the_scenario_the_cells_will_run(loadtest_cli: Cli, tmp_path: Path) -> None:
    """A workflow's `scenario` input (LOADTEST_SCENARIO_FILE) replaces the profile's: the plan counts its rate."""
    scenario = tmp_path / "busy.yaml"
    scenario.write_text(
        "requests:\n  - {name: predict, method: POST, path: /predict, json: {x: 1}}\n"
        "users:\n  client: {share: 1.0, rate: 1.0}\n"
    )
    # The ci profile's 10,000 users, each asking 1 req/s: 10,000 req/s need 6 Locust cores, not 2.
    refused = loadtest_cli("plan", "--cores", "4", "--replicas", "1", env={"LOADTEST_SCENARIO_FILE": str(scenario)})
    assert refused.returncode == exitcodes.CANNOT_JUDGE
    assert "+ 6 for Locust (10,000 users asking ~10,000 req/s" in refused.stderr
    given = loadtest_cli("plan", "--cores", "4", "--replicas", "1", "--scenario", str(scenario), "--users", "100")
    assert planned(given) == [1]
    missing = loadtest_cli("plan", "--scenario", str(tmp_path / "none.yaml"))
    assert missing.returncode == exitcodes.CANNOT_JUDGE
    assert "none.yaml" in missing.stderr


def test_the_cores_default_to_this_machines(loadtest_cli: Cli) -> None:
    cores = len(os.sched_getaffinity(0))
    done = loadtest_cli("plan", "--replicas", str(cores), "--cpus", "1.0")
    assert f"but the runner has {cores}:" in done.stderr


@pytest.mark.parametrize(
    ("argv", "refusal"),
    [
        (["--run-time", "2m"], None),
        (["--run-time", "23m"], None),  # 23 min + 20 s of ramp + 6 min of set-up: inside 30
        (
            ["--run-time", "24m"],
            "run_time 24m: a cell job needs ~30.3 min (24m of load + 20 s of ramp + ~6 min to set up, calibrate and "
            "gate), over the perf job's timeout-minutes 30: give at most 23m",
        ),
        (["--run-time", "2m", "--users", "10000", "--spawn-rate", "1"], "10000 s of ramp"),
        (["--mode", "search", "--budget", "39m"], None),
        (
            ["--mode", "search", "--budget", "40m"],
            "budget 40m: the search job needs ~46.0 min (40m of search + ~6 min to set up), over its timeout-minutes "
            "45: give at most 39m",
        ),
        (["--mode", "search"], None),  # the ci profile's 25m
        (["--mode", "compare"], None),  # the compare profile's 16 trials of 20 s: ~16.7 min
        (["--mode", "search", "--run-time", "2h"], None),  # run_time is the cells'; the budget bounds a search
    ],
)
def test_inputs_that_cannot_fit_in_their_jobs_timeout_are_refused_in_every_mode(
    loadtest_cli: Cli, argv: list[str], refusal: str | None
) -> None:
    minutes = ["--cell-minutes", "30", "--search-minutes", "45", "--compare-minutes", "30", "--cores", "4"]
    done = loadtest_cli("plan", *minutes, *argv)
    if refusal is None:
        assert done.returncode == exitcodes.PASSED, done.stderr
    else:
        assert done.returncode == exitcodes.CANNOT_JUDGE
        assert refusal in done.stderr
        assert done.stderr.startswith("::error title=The plan refuses::")


def test_a_comparison_longer_than_its_job_is_refused(write_thresholds: WriteText, loadtest_cli: Cli) -> None:
    compare = (
        "  compare: {users: 2, spawn_rate: 2, run_time: 5s, replicas: [1], cpus: 0.5, memory: 512m,"
        " compare: {trials: 20, run_time: 40s, budget: 40m}}\n"
    )
    long = write_thresholds(THRESHOLDS + compare)
    done = loadtest_cli("plan", "--thresholds", long, "--mode", "compare", "--compare-minutes", "30")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert (
        "the compare profile's 40 trials of 40s + 15s (capacity, then the fixed load) within its budget of 40m need "
        "~46.0 min (each phase ~20 s to start and stop, the job ~6 min to set up), over the compare job's "
        "timeout-minutes 30" in done.stderr
    )
    # The budget bounds the comparison: the same trials within the default 12 minutes fit.
    short = write_thresholds(THRESHOLDS + compare.replace(", budget: 40m", ""), "short.yaml")
    fits = loadtest_cli("plan", "--thresholds", short, "--mode", "compare", "--compare-minutes", "30")
    assert fits.returncode == exitcodes.PASSED, fits.stderr


def test_the_profiles_cpus_are_used_without_an_input(
    thresholds: Path, write_thresholds: WriteText, loadtest_cli: Cli
) -> None:
    roomy = write_thresholds(THRESHOLDS.replace("cpus: 0.5", "cpus: 0.25"), "roomy.yaml")
    assert loadtest_cli("plan", "--thresholds", roomy, "--cores", "2").returncode == exitcodes.PASSED  # 3 x 0.25 + 1
    done = loadtest_cli("plan", "--thresholds", thresholds, "--cores", "2")
    assert "cell r3-cpu0.5-mem512m needs 2.5 cores" in done.stderr  # 3 x 0.5 + 1 does not fit
