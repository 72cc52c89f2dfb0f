"""`python -m loadtest run`: argument parsing, environment variables and profile merging."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.commands import run
from loadtest.runner.matrix import Cell
from loadtest.thresholds import parse_thresholds

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  ci:    {users: 10000, spawn_rate: 500, run_time: 2m, replicas: [1, 2], cpus: 1.0, memory: 1g}
  local: {users: 1000, spawn_rate: 100, run_time: 30s, replicas: [1, 2], cpus: 0.5, memory: 512m}
"""
)


def parse(argv: list[str], environ: dict[str, str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    run.register(subparsers, environ=environ or {})
    return parser.parse_args(["run", *argv])


def merged(argv: list[str], environ: dict[str, str] | None = None):
    return run.merge_config(parse(argv, environ), THRESHOLDS, Path("thresholds.yaml"))


def test_the_profile_gives_every_default() -> None:
    config = merged([])
    assert config.profile == "local"
    assert config.cells == [Cell(1, 0.5, "512m"), Cell(2, 0.5, "512m")]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds, config.run_time) == (
        1000,
        100,
        30,
        "30s",
    )
    assert config.out == Path("results")
    assert config.slo == THRESHOLDS.slo


def test_the_ci_profile() -> None:
    config = merged(["--profile", "ci"])
    assert [cell.name for cell in config.cells] == ["r1-cpu1.0-mem1g", "r2-cpu1.0-mem1g"]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (10000, 500, 120)


def test_explicit_flags_override_the_profile() -> None:
    config = merged(
        [
            "--profile",
            "ci",
            "--replicas",
            "2",
            "--cpus",
            "0.5",
            "--memory",
            "256m",
            "--users",
            "200",
            "--spawn-rate",
            "50",
            "--run-time",
            "15s",
            "--out",
            "elsewhere",
        ]
    )
    assert config.cells == [Cell(2, 0.5, "256m")]
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (200, 50, 15)
    assert config.out == Path("elsewhere")


def test_lists_make_a_matrix() -> None:
    config = merged(["--replicas", "1,2,4", "--cpus", "0.5,1.0", "--memory", "512m"])
    assert len(config.cells) == 6
    assert config.cells[-1].name == "r4-cpu1.0-mem512m"


def test_environment_variables_stand_in_for_flags_and_flags_win() -> None:
    environ = {"LOADTEST_PROFILE": "ci", "LOADTEST_REPLICAS": "3", "LOADTEST_USERS": "77", "LOADTEST_RUN_TIME": "1m"}
    config = merged([], environ)
    assert [cell.replicas for cell in config.cells] == [3]
    assert config.load.users == 77
    assert config.load.run_time_seconds == 60
    assert config.load.spawn_rate == 500
    assert merged(["--users", "5"], environ).load.users == 5


def test_backend_options() -> None:
    args = parse(
        ["--backend", "compose", "--image", "me/api:1", "--ready-timeout", "90", "--api-port", "18250", "--no-limits"]
    )
    assert (args.backend, args.image, args.ready_timeout, args.api_port, args.no_limits) == (
        "compose",
        "me/api:1",
        90.0,
        18250,
        True,
    )
    assert parse([], {"LOADTEST_API_IMAGE": "x/api:2", "LOADTEST_NO_LIMITS": "1"}).image == "x/api:2"
    assert parse([], {"LOADTEST_NO_LIMITS": "yes"}).no_limits is True
    assert parse([]).no_limits is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "0"], "'0' must be at least 1"),
        (["--replicas", "1,,2"], "not a comma-separated list"),
        (["--replicas", "one"], "'one' is not a whole number"),
        (["--cpus", "-1"], "must be a number above 0"),
        (["--cpus", "inf"], "must be a number above 0"),
        (["--memory", "lots"], "not a Docker memory size"),
        (["--memory", "1m"], "below Docker's minimum"),
        (["--users", "1.5"], "not a whole number"),
        (["--spawn-rate", "0"], "must be a number above 0"),
        (["--run-time", "soon"], "not a Locust duration"),
        (["--api-port", "70000"], "not a TCP port"),
        (["--backend", "k8s"], "is not one of process, compose"),
    ],
)
def test_bad_flags_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert argv[0] in error


def test_a_bad_environment_variable_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse([], {"LOADTEST_USERS": "many"})
    assert "'many' is not a whole number" in capsys.readouterr().err


def test_an_unknown_profile_is_named() -> None:
    with pytest.raises(ValueError, match=r"profile 'nightly' is not in thresholds.yaml \(profiles: ci, local\)"):
        merged(["--profile", "nightly"])


def test_a_duplicate_cell_is_named() -> None:
    with pytest.raises(ValueError, match="replica count 2 is listed twice"):
        merged(["--replicas", "2,2"])


def test_cli_exits_2_and_names_a_broken_thresholds_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "thresholds.yaml"
    broken.write_text("slo: {max_error_rate: 0.01, max_p95_ms: abc}\n")
    assert main(["run", "--thresholds", str(broken), "--out", str(tmp_path / "out")]) == exitcodes.CANNOT_JUDGE
    error = capsys.readouterr().err
    assert "max_p95_ms" in error
    assert "'abc'" in error
    assert "Traceback" not in error
    assert not (tmp_path / "out").exists()


def test_cli_exits_2_on_an_unknown_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "nope", "--out", str(tmp_path / "out")]) == exitcodes.CANNOT_JUDGE
    assert "profile 'nope' is not in thresholds.yaml" in capsys.readouterr().err


def test_every_option_has_help_and_an_environment_variable() -> None:
    parser = argparse.ArgumentParser()
    sub = run.register(parser.add_subparsers(), environ={})
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and "[env " in action.help, action.dest
