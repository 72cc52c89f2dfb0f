"""`ui`'s options (`loadtest.ui.ui_options`): the profile's cell and start form under the environment and the
flags, and bad flags and variables named."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from loadtest.commands import ui
from loadtest.runner.matrix import Cell
from loadtest.thresholds import parse_thresholds
from loadtest.ui.ui_options import UiConfig, ui_config
from tests.usage import usage_error

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  ci:    {users: 10000, spawn_rate: 500, run_time: 2m, replicas: [1, 2], cpus: 1.0, memory: 1g}
  local: {users: 1000, spawn_rate: 100, run_time: 30s, replicas: [2, 1], cpus: 0.5, memory: 512m}
"""
)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui.register(parser.add_subparsers())
    return parser.parse_args(["ui", *argv])


def merged(argv: list[str], environ: dict[str, str] | None = None) -> UiConfig:
    """What `ui ARGV` starts with the variables of `environ` (only), THRESHOLDS read as the file."""
    return ui_config(parse(argv), environ or {}, lambda _: THRESHOLDS)


def test_the_profile_gives_one_cell_and_the_start_form() -> None:
    config = merged([])
    assert config.cell == Cell(2, 0.5, "512m")  # the profile's first replica count
    assert (config.web.users, config.web.spawn_rate, config.web.run_time_seconds) == (1000, 100, None)
    assert (config.web.host, config.web.port) == ("127.0.0.1", 8089)
    assert config.out == Path("results/ui")
    assert config.backend.name == "process"
    assert config.slo == THRESHOLDS.slo


def test_flags_and_variables_override_the_profile() -> None:
    config = merged(
        ["--profile", "ci", "--replicas", "3", "--cpus", "0.25", "--users", "50", "--run-time", "90s", "--out", "x"],
        {"LOADTEST_MEMORY": "256m", "LOADTEST_WEB_PORT": "9000", "LOADTEST_WEB_HOST": "0.0.0.0"},
    )
    assert config.cell == Cell(3, 0.25, "256m")
    assert (config.web.users, config.web.spawn_rate, config.web.run_time_seconds) == (50, 500, 90)
    assert (config.web.host, config.web.port) == ("0.0.0.0", 9000)
    assert config.out == Path("x")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "1,2"], "argument --replicas: '1,2' is not a whole number"),
        (["--web-port", "70000"], "argument --web-port: '70000' is not between 1 and 65535"),
        (["--cpus", "0"], "argument --cpus: '0' must be greater than 0"),
    ],
)
def test_bad_flags_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in usage_error(capsys, parse, argv)


def test_a_bad_variable_is_named() -> None:
    with pytest.raises(ValueError, match="environment variable LOADTEST_WEB_PORT='web': 'web' is not a whole number"):
        merged([], {"LOADTEST_WEB_PORT": "web"})
