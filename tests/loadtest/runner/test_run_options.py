"""What one run does (loadtest/runner/run_options.py): a profile, the variables and the flags on top."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from loadtest.commands import run
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import RunConfig, run_config
from loadtest.thresholds import parse_thresholds
from loadtest.util.units import Duration

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  ci:    {users: 10000, spawn_rate: 500, run_time: 2m, replicas: [1, 2], cpus: 1.0, memory: 1g}
  local: {users: 1000, spawn_rate: 100, run_time: 30s, replicas: [1, 2], cpus: 0.5, memory: 512m}
  long:  {users: 500, spawn_rate: 500, run_time: 1m, max_run_time: 2m, replicas: [1], cpus: 1.0, memory: 1g}
"""
)


def args_of(argv: list[str]) -> argparse.Namespace:
    """`python -m loadtest run ARGV` as its parser reads it."""
    parser = argparse.ArgumentParser()
    run.register(parser.add_subparsers())
    return parser.parse_args(["run", *argv])


def merged(argv: list[str], environ: dict[str, str] | None = None) -> RunConfig:
    """What `run ARGV` runs with the variables of `environ` (only), THRESHOLDS read as the file."""
    return run_config(args_of(argv), environ or {}, lambda _: THRESHOLDS)


def test_the_local_profile_gives_every_default() -> None:
    config = merged([])
    assert config.profile == "local"
    assert config.cells == [Cell(1, 0.5, "512m"), Cell(2, 0.5, "512m")]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (1000, 100, 30)
    assert config.run_time == Duration("30s", 30)
    assert config.out == Path("results")
    assert config.slo == THRESHOLDS.slo
    assert config.backend.name == "process"
    assert config.backend.enforce_limits is True


def test_another_profile() -> None:
    config = merged(["--profile", "ci"])
    assert [cell.name for cell in config.cells] == ["r1-cpu1.0-mem1g", "r2-cpu1.0-mem1g"]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (10000, 500, 120)


def test_every_flag_overrides_its_key_of_the_profile() -> None:
    argv = ["--profile", "ci", "--replicas", "2", "--cpus", "0.5", "--memory", "256m", "--users", "200"]
    config = merged([*argv, "--spawn-rate", "50", "--run-time", "15s", "--out", "elsewhere", "--no-limits"])
    assert config.cells == [Cell(2, 0.5, "256m")]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (200, 50, 15)
    assert config.out == Path("elsewhere")
    assert config.backend.enforce_limits is False


def test_a_flag_leaves_the_other_keys_to_the_profile() -> None:
    config = merged(["--profile", "ci", "--users", "5"])
    assert (config.load.users, config.load.spawn_rate, config.run_time.text) == (5, 500, "2m")


def test_lists_make_a_matrix() -> None:
    config = merged(["--replicas", "1,2,4", "--cpus", "0.5,1.0", "--memory", "512m"])
    assert len(config.cells) == 6
    assert config.cells[-1].name == "r4-cpu1.0-mem512m"


def test_environment_variables_stand_in_for_flags_and_flags_win() -> None:
    environ = {"LOADTEST_PROFILE": "ci", "LOADTEST_REPLICAS": "3", "LOADTEST_USERS": "77", "LOADTEST_RUN_TIME": "1m"}
    config = merged([], environ)
    assert [cell.replicas for cell in config.cells] == [3]
    assert (config.load.users, config.load.run_time_seconds, config.load.spawn_rate) == (77, 60, 500)
    assert merged(["--users", "5"], environ).load.users == 5


def test_the_backend_settings() -> None:
    config = merged(
        ["--backend", "compose", "--image", "me/api:1", "--loadtest-image", "me/lt:1", "--ready-timeout", "90"]
    )
    backend = config.backend
    assert (backend.name, backend.api_image, backend.locust_image, backend.ready_timeout) == (
        "compose",
        "me/api:1",
        "me/lt:1",
        90.0,
    )


def test_max_run_time_is_the_run_time_unless_a_profile_a_variable_or_the_flag_gives_it() -> None:
    assert merged([]).load.max_run_time_seconds is None  # no profile changes behaviour unless it asks
    assert merged(["--profile", "long"]).load.max_run_time_seconds == 120
    assert merged(["--profile", "long"], {"LOADTEST_MAX_RUN_TIME": "3m"}).load.max_run_time_seconds == 180
    flag = merged(["--profile", "long", "--max-run-time", "90s"], {"LOADTEST_MAX_RUN_TIME": "3m"})
    assert flag.load.max_run_time_seconds == 90
    assert merged(["--max-run-time", "1m"]).load.max_run_time_seconds == 60


def test_a_max_run_time_shorter_than_the_run_time_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"max_run_time 20s is shorter than run_time 30s: .*--max-run-time"):
        merged(["--max-run-time", "20s"])
    with pytest.raises(ValueError, match=r"max_run_time 2m is shorter than run_time 5m"):
        merged(["--profile", "long", "--run-time", "5m"])
    with pytest.raises(ValueError, match=r"LOADTEST_MAX_RUN_TIME='soon': "):
        merged([], {"LOADTEST_MAX_RUN_TIME": "soon"})


def test_an_unknown_profile_is_named() -> None:
    with pytest.raises(ValueError, match=r"profile 'nightly' is not in thresholds.yaml \(profiles: ci, local, long\)"):
        merged(["--profile", "nightly"])


def test_a_duplicate_cell_is_named() -> None:
    with pytest.raises(ValueError, match="replica count 2 is listed twice"):
        merged(["--replicas", "2,2"])


def test_a_bad_environment_variable_is_named_with_its_value() -> None:
    with pytest.raises(ValueError, match="environment variable LOADTEST_USERS='many': 'many' is not a whole number"):
        merged([], {"LOADTEST_USERS": "many"})


def test_the_warmup_and_the_calibration() -> None:
    assert (merged([]).load.warmup, merged([]).backend.calibrate) == ("none", True)
    config = merged(["--warmup", "spawn"], {"LOADTEST_NO_CALIBRATION": "1"})
    assert (config.load.warmup, config.backend.calibrate) == ("spawn", False)
