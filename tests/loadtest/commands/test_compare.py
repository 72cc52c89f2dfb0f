"""`python -m loadtest compare`: argument parsing, environment variables, the profile's compare: block."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.commands import compare
from loadtest.compare.compare_options import CompareConfig, compare_config
from loadtest.options import OptionsError
from loadtest.runner.matrix import Cell
from loadtest.scenario import workshop_scenario
from loadtest.thresholds import Thresholds, parse_thresholds
from tests.usage import usage_error

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000, on_inconclusive: pass}
profiles:
  compare:
    users: 32
    spawn_rate: 32
    run_time: 20s
    replicas: [1]
    cpus: 0.5
    memory: 512m
    compare: {trials: 6, run_time: 15s, delta: 0.05, gate: [capacity]}
  ci: {users: 10000, spawn_rate: 500, run_time: 2m, replicas: [1, 2], cpus: 1.0, memory: 1g}
"""
)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    compare.register(parser.add_subparsers())
    return parser.parse_args(["compare", *argv])


def merged(argv: list[str], environ: dict[str, str] | None = None) -> CompareConfig:
    """What `compare --base main ARGV` runs with the variables of `environ` (only), THRESHOLDS read as the file."""
    return compare_config(parse(["--base", "main", *argv]), environ or {}, lambda _: THRESHOLDS)


def test_the_compare_profile_gives_every_default() -> None:
    config = merged([])
    assert (config.profile, config.base, config.head) == ("compare", "main", None)
    assert config.cell == Cell(1, 0.5, "512m")
    assert (config.settings.trials, config.settings.run_time.text, config.settings.delta) == (6, "15s", 0.05)
    assert config.settings.judged == ["capacity", "error_rate"]
    assert config.settings.load_time.text == "15s"
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (32, 32, 15)
    assert config.load.warmup == "spawn"
    assert config.backend.calibrate is False
    assert config.out == Path("results/compare")
    assert 0 <= config.seed < 2**32


def test_a_profile_without_a_compare_block_gets_the_defaults_and_its_first_cell() -> None:
    # Its 10,000 users take 20 s to spawn: both phases must be longer than the default 15 s.
    config = merged(["--profile", "ci", "--run-time", "30s", "--load-time", "25s"])
    assert config.cell == Cell(1, 1.0, "1g")
    assert (config.settings.trials, config.settings.run_time.text, config.settings.delta) == (12, "30s", 0.10)
    assert config.settings.load_time.text == "25s"
    assert config.settings.judged == ["capacity", "cpu_per_request", "error_rate"]
    assert config.load.scenario == workshop_scenario()  # this file's ci profile names no scenario


def test_flags_override_the_profile_and_its_compare_block() -> None:
    config = merged(
        [
            "--head",
            "feature",
            "--trials",
            "10",
            "--run-time",
            "30s",
            "--delta",
            "0.2",
            "--seed",
            "7",
            "--replicas",
            "2",
            "--cpus",
            "1.0",
            "--memory",
            "1g",
            "--users",
            "64",
            "--spawn-rate",
            "16",
            "--out",
            "elsewhere",
        ]
    )
    assert config.head == "feature"
    assert (config.settings.trials, config.settings.run_time.seconds, config.settings.delta) == (10, 30, 0.2)
    assert config.settings.gate == ["capacity"]
    assert config.seed == 7
    assert config.cell == Cell(2, 1.0, "1g")
    assert (config.load.users, config.load.spawn_rate, config.load.run_time_seconds) == (64, 16, 30)
    assert config.out == Path("elsewhere")


def test_environment_variables_stand_in_for_flags() -> None:
    config = merged(
        [], {"LOADTEST_TRIALS": "9", "LOADTEST_HEAD": "v2", "LOADTEST_SEED": "3", "LOADTEST_LOAD_TIME": "20s"}
    )
    assert (config.settings.trials, config.head, config.seed, config.settings.load_time.text) == (9, "v2", 3, "20s")


BLOCK_RATE = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  compare: {users: 32, spawn_rate: 32, run_time: 20s, replicas: [1], cpus: 0.5, memory: 512m, compare: {load_rps: 400}}
"""
)


@pytest.mark.parametrize(
    ("thresholds", "argv", "environ", "share", "rps"),
    [
        pytest.param(THRESHOLDS, [], {}, 0.6, None, id="the-default-share"),
        pytest.param(BLOCK_RATE, [], {}, 0.6, 400, id="the-blocks-rate"),
        pytest.param(THRESHOLDS, ["--load-rate", "45%"], {}, 0.45, None, id="a-share"),
        pytest.param(BLOCK_RATE, ["--load-rate", "45%"], {}, 0.45, None, id="a-share-over-the-blocks-rate"),
        pytest.param(THRESHOLDS, ["--load-rate", "300"], {}, 0.6, 300, id="a-rate"),
        pytest.param(BLOCK_RATE, [], {"LOADTEST_LOAD_RATE": " 33.3% "}, 0.333, None, id="the-variable"),
        pytest.param(BLOCK_RATE, ["--load-rate", "250.5"], {"LOADTEST_LOAD_RATE": "50%"}, 0.6, 250.5, id="flag-wins"),
    ],
)
def test_the_fixed_load_is_a_share_or_a_rate(
    thresholds: Thresholds, argv: list[str], environ: dict[str, str], share: float, rps: float | None
) -> None:
    config = compare_config(parse(["--base", "main", *argv]), environ, lambda _: thresholds)
    assert config.settings.load_share == pytest.approx(share)
    assert config.settings.load_rps == rps


def test_a_bad_rate_in_the_variable_is_named() -> None:
    with pytest.raises(OptionsError, match=r"LOADTEST_LOAD_RATE='0\.6'.*written with %, as 60%"):
        merged([], {"LOADTEST_LOAD_RATE": "0.6"})


@pytest.mark.parametrize(
    ("argv", "base", "head"),
    [
        pytest.param([], None, None, id="python-m-api-on-both"),
        pytest.param(["--api-command", "serve {port}"], "serve {port}", "serve {port}", id="one-for-both"),
        pytest.param(
            ["--api-command", "serve {port}", "--head-api-command", "new {port}"],
            "serve {port}",
            "new {port}",
            id="the-head-its-own",
        ),
        pytest.param(["--base-api-command", "old {port}"], "old {port}", None, id="the-base-its-own"),
    ],
)
def test_server_commands_per_side(argv: list[str], base: str | None, head: str | None) -> None:
    config = merged(argv)
    assert (config.base_api_command, config.head_api_command) == (base, head)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--trials", "1"], "'1' must be at least 2"),
        (["--trials", "many"], "'many' is not a whole number"),
        (["--delta", "1.5"], "'1.5' must be between 0 and 1 (exclusive)"),
        (["--delta", "0"], "'0' must be between 0 and 1 (exclusive)"),
        (["--seed", "-1"], "'-1' is not between 0 and 4294967295"),
        (["--run-time", "soon"], "not a Locust duration"),
        (["--load-time", "soon"], "not a Locust duration"),
        (["--replicas", "1,2"], "'1,2' is not a whole number"),
        (["--backend", "k8s"], "is not one of process, compose"),
        (["--load-rate", "fast"], "'fast' is neither a share of the base's capacity (60%) nor requests per second"),
        (["--load-rate", "nan"], "'nan' is neither a share"),
        (["--load-rate", "100%"], "'100%': a share of the base's capacity lies between 0% and 100%"),
        (["--load-rate", "0%"], "'0%': a share of the base's capacity lies between 0% and 100%"),
        (["--load-rate", "0"], "'0': a rate in requests per second is above 0"),
        (["--load-rate", "0.6"], "'0.6' is 0.6 request per second; a share of the base's capacity is written with %"),
    ],
)
def test_bad_flags_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    error = usage_error(capsys, parse, argv)
    assert message in error
    assert argv[0] in error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--run-time", "2s"],
            "run_time 2s: a trial's phase leaves less than 2 s after the ramp (32 users at 32/s take 1 s)",
        ),
        (["--load-time", "2s"], "load_time 2s: a trial's phase leaves less than 2 s after the ramp"),
        (["--profile", "nightly"], "profile 'nightly' is not in thresholds.yaml (profiles: ci, compare)"),
        (["--backend", "compose", "--api-command", "x {port}"], "--api-command is for the process backend"),
    ],
)
def test_impossible_settings_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        merged(argv)


def test_without_base_it_cannot_judge(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["compare", "--out", str(tmp_path / "out")]) == exitcodes.CANNOT_JUDGE
    assert "give --base" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_broken_compare_block_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "thresholds.yaml"
    broken.write_text(
        "slo: {max_error_rate: 0.01, max_p95_ms: 1000}\n"
        "profiles:\n  compare: {users: 1, spawn_rate: 1, run_time: 5s, replicas: [1], cpus: 1, memory: 1g,\n"
        "            compare: {gate: [p95, latency]}}\n"
    )
    argv = ["compare", "--base", "main", "--thresholds", str(broken), "--out", str(tmp_path / "out")]
    assert main(argv) == exitcodes.CANNOT_JUDGE
    error = capsys.readouterr().err
    assert "Threshold 'gate[1]' has value 'latency'" in error
    assert "Traceback" not in error
