"""`python -m loadtest` (loadtest/cli.py): one parser, a subcommand per module, every option documented."""

from __future__ import annotations

import argparse
import importlib
import tomllib
from pathlib import Path

import pytest

from loadtest.cli import build_parser, main
from tests.usage import usage_error

COMMANDS = ("run", "gate", "report", "plan", "compare", "search", "ui", "stats", "init", "verdict", "locust-image")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    actions = [action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(actions[0].choices)


def test_every_command_is_there() -> None:
    assert set(_subcommands()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_an_environment_variable(command: str) -> None:
    options = [action for action in _subcommands()[command]._actions if action.option_strings and action.dest != "help"]
    assert options
    undocumented = [action.option_strings[0] for action in options if "[env LOADTEST_" not in (action.help or "")]
    assert undocumented == []


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "COMMAND" in usage_error(capsys, main, [])


def test_the_installed_command_and_the_module_name_themselves(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: inference-gate ")
    with pytest.raises(SystemExit):
        main(["--help"], prog="python -m loadtest")
    assert capsys.readouterr().out.startswith("usage: python -m loadtest ")


def test_the_console_script_is_this_main() -> None:
    # pyproject's [project.scripts] names the function pip's generated `inference-gate` calls.
    scripts = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["inference-gate"].partition(":")
    assert getattr(importlib.import_module(module), function) is main
