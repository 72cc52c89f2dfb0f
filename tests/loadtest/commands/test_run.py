"""`python -m loadtest run`: its flags, their environment variables, and the errors that stop it early.

How the flags merge with a profile is in tests/loadtest/runner/test_config.py; a real run of the
process backend is in test_run_integration.py.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.commands import run
from loadtest.runner.run_options import RunOptions
from tests.usage import assert_cannot_judge, usage_error

if TYPE_CHECKING:
    from tests.conftest import Cli, WriteText


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run.register(parser.add_subparsers())
    return parser.parse_args(["run", *argv])


def resolved(argv: list[str], environ: dict[str, str]) -> RunOptions:
    options, _, _ = RunOptions.resolve_with_profile(parse(argv), environ)
    return options


def test_the_backend_options() -> None:
    options = resolved(
        ["--backend", "compose", "--image", "me/api:1", "--ready-timeout", "90", "--api-port", "18250", "--no-limits"],
        {},
    )
    assert (options.backend, options.api_image, options.ready_timeout, options.api_port, options.no_limits) == (
        "compose",
        "me/api:1",
        90.0,
        18250,
        True,
    )
    assert resolved([], {"LOADTEST_API_IMAGE": "x/api:2", "LOADTEST_NO_LIMITS": "1"}).api_image == "x/api:2"
    assert resolved([], {"LOADTEST_NO_LIMITS": "yes"}).no_limits is True
    assert resolved([], {}).no_limits is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "0"], "'0' must be at least 1"),
        (["--replicas", "1,,2"], "not a comma-separated list"),
        (["--replicas", "one"], "'one' is not a whole number"),
        (["--cpus", "-1"], "must be greater than 0"),
        (["--cpus", "inf"], "is not a finite number"),
        (["--memory", "lots"], "not a Docker memory size"),
        (["--memory", "1m"], "below Docker's minimum"),
        (["--users", "1.5"], "not a whole number"),
        (["--spawn-rate", "0"], "must be greater than 0"),
        (["--run-time", "soon"], "not a Locust duration"),
        (["--locust-workers", "0"], "must be at least 1"),
        (["--ready-timeout", "never"], "is not a number"),
        (["--api-port", "70000"], "is not between 1 and 65535"),
        (["--backend", "k8s"], "is not one of process, compose"),
    ],
)
def test_bad_flags_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    error = usage_error(capsys, parse, argv)
    assert f"{argv[0]}: " in error
    assert message in error


def test_a_bad_environment_variable_exits_2_and_is_named(loadtest_cli: Cli, tmp_path: Path) -> None:
    done = loadtest_cli("run", "--out", tmp_path / "out", env={"LOADTEST_USERS": "many"})
    assert_cannot_judge(done, "loadtest run: environment variable LOADTEST_USERS='many': 'many' is not a whole number")
    assert not (tmp_path / "out").exists()


def test_a_broken_thresholds_file_exits_2_before_anything_runs(
    loadtest_cli: Cli, write_thresholds: WriteText, tmp_path: Path
) -> None:
    broken = write_thresholds("slo: {max_error_rate: 0.01, max_p95_ms: abc}\n")
    done = loadtest_cli("run", "--thresholds", broken, "--out", tmp_path / "out")
    assert_cannot_judge(done, f"loadtest run: {broken}: Threshold 'max_p95_ms' has value 'abc'")
    assert not (tmp_path / "out").exists()


def test_an_unknown_profile_exits_2(loadtest_cli: Cli, tmp_path: Path) -> None:
    done = loadtest_cli("run", "--profile", "nope", "--out", tmp_path / "out")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert "profile 'nope' is not in thresholds.yaml" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_server_command_is_refused_with_the_compose_backend(loadtest_cli: Cli, tmp_path: Path) -> None:
    """The compose backend runs images: a server command would be recorded in run.json and never run."""
    done = loadtest_cli("run", "--backend", "compose", "--api-command", "x {port}", "--out", tmp_path / "out")
    message = "--api-command is for the process backend; the compose backend runs an image (--image)"
    assert_cannot_judge(done, f"loadtest run: the compose backend cannot be used: {message}")
    assert not (tmp_path / "out").exists()


def test_outside_this_checkout_the_process_backend_needs_a_service_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`python -m api` is this project's service: from another folder (an installed command in a user's
    project) a run without --api-command stops before anything starts, saying what to give."""
    for key in [key for key in os.environ if key.startswith("LOADTEST_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    thresholds = Path(__file__).resolve().parents[3] / "thresholds.yaml"
    code = main(["run", "--thresholds", str(thresholds), "--no-calibration", "--out", "out"])
    err = capsys.readouterr().err
    assert code == exitcodes.CANNOT_JUDGE
    assert "loadtest run: the process backend cannot be used: no service to start: give --api-command" in err
    assert f"({tmp_path} has no api/__main__.py)" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_help_says_which_options_are_the_process_backends() -> None:
    """Only the server command: the health path and a locustfile of your own work on both backends."""
    parser = argparse.ArgumentParser()
    command = run.register(parser.add_subparsers())
    helps = {flag: action.help or "" for action in command._actions for flag in action.option_strings}
    assert "(process backend" in helps["--api-command"]
    assert "process backend" not in helps["--health-path"] + helps["--locustfile"]
    assert "the scenario's `health`" in helps["--health-path"]
    assert "[env LOADTEST_SCENARIO_FILE]" in helps["--scenario"]
