"""`python -m loadtest` (loadtest/cli.py): one parser, a subcommand per module, every option documented."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from loadtest.cli import build_parser, main
from loadtest.commands.lazy import Deferred
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


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_handler_that_takes_its_arguments(command: str) -> None:
    handler = _subcommands()[command].get_default("handler")
    function = handler.resolve() if isinstance(handler, Deferred) else handler
    assert callable(function)
    assert list(inspect.signature(function).parameters) == ["args"]


ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "pandas", "matplotlib", "locust", "gevent")

# Built, every help rendered, then `plan` and `init` run: what the workflow's plan job and a user's
# first command do. Prints the heavy modules imported.
STARTUP = f"""
import contextlib, io, json, sys
from loadtest.cli import build_parser, main
parser = build_parser()
for action in parser._subparsers._group_actions:
    for command in action.choices.values():
        command.format_help()
with contextlib.redirect_stdout(io.StringIO()):
    plan = main(["plan", "--thresholds", sys.argv[1], "--profile", "ci", "--cores", "64"])
    init = main(["init", "--dir", sys.argv[2]])
print(json.dumps({{"codes": [plan, init], "heavy": sorted(set(sys.modules) & set({list(HEAVY)!r}))}}))
"""


def test_parsing_planning_and_init_import_no_statistics_charts_or_locust(tmp_path: Path) -> None:
    """The command's start-up is what `plan`, `verdict`, `init` and `--help` cost in every CI job: the
    handlers that need scipy, pandas, matplotlib or Locust import them when they run (commands/lazy.py)."""
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, str(ROOT / "thresholds.yaml"), str(tmp_path / "starters")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"codes": [0, 0], "heavy": []}
