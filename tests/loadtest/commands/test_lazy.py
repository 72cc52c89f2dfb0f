"""A handler imported when its command runs (loadtest/commands/lazy.py)."""

from __future__ import annotations

import argparse
import sys

import pytest

from loadtest.commands.lazy import Deferred


def test_the_handler_is_imported_on_the_call_and_its_exit_code_returned() -> None:
    # A module of the standard library that nothing here imported yet stands for a handler's module.
    sys.modules.pop("colorsys", None)
    deferred = Deferred("colorsys", "rgb_to_hsv")
    assert "colorsys" not in sys.modules
    assert deferred.resolve() is sys.modules["colorsys"].rgb_to_hsv


def test_the_call_passes_the_arguments_and_returns_the_code() -> None:
    done = Deferred("tests.loadtest.commands.test_lazy", "echo_code")(argparse.Namespace(code=3))
    assert done == 3


def test_a_name_that_is_not_a_function_is_named() -> None:
    with pytest.raises(TypeError, match=r"argparse\.SUPPRESS is not a function"):
        Deferred("argparse", "SUPPRESS").resolve()
    with pytest.raises(TypeError, match=r"argparse\.no_such_handler is not a function: None"):
        Deferred("argparse", "no_such_handler").resolve()


def test_a_module_that_does_not_exist_is_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"loadtest\.commands\.handlers\.nothing"):
        Deferred("loadtest.commands.handlers.nothing").resolve()


def echo_code(args: argparse.Namespace) -> int:
    """A handler for the test above: the code it was given."""
    return int(args.code)
