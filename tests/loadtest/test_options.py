"""Options of every command (loadtest/options.py): LOADTEST_* variables, validators, and who wins."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from loadtest.options import (
    Options,
    choice,
    comma_list,
    env_name,
    memory_size,
    port_number,
    positive_float,
    positive_int,
    run_time,
    truthy,
)


def parse(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    """A parser with one validated option and one switch, as every command builds them."""
    parser = argparse.ArgumentParser(prog="loadtest test")
    options = Options(parser, environ)
    group = parser.add_argument_group("load")
    options.add(group, "--spawn-rate", "users started per second", type=positive_float, default=10.0)
    options.add(group, "--image", "the API image", env="LOADTEST_API_IMAGE")
    options.switch(group, "--no-limits", "run without limits")
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("flag", "variable"),
    [("--spawn-rate", "LOADTEST_SPAWN_RATE"), ("--users", "LOADTEST_USERS"), ("--no-limits", "LOADTEST_NO_LIMITS")],
)
def test_a_flag_reads_the_variable_named_after_it(flag: str, variable: str) -> None:
    assert env_name(flag) == variable


def test_the_variable_stands_in_for_the_flag_and_is_validated_like_it() -> None:
    args = parse([], {"LOADTEST_SPAWN_RATE": "2.5", "LOADTEST_API_IMAGE": "me/api:1"})
    assert (args.spawn_rate, args.image) == (2.5, "me/api:1")


def test_the_flag_wins_over_the_variable() -> None:
    assert parse(["--spawn-rate", "7"], {"LOADTEST_SPAWN_RATE": "2.5"}).spawn_rate == 7.0


def test_the_flag_wins_even_over_a_bad_variable() -> None:
    assert parse(["--spawn-rate", "7"], {"LOADTEST_SPAWN_RATE": "fast"}).spawn_rate == 7.0


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_variable_is_unset(empty: str) -> None:
    args = parse([], {"LOADTEST_SPAWN_RATE": empty, "LOADTEST_API_IMAGE": empty, "LOADTEST_NO_LIMITS": empty})
    assert (args.spawn_rate, args.image, args.no_limits) == (10.0, None, False)


def test_a_bad_variable_is_named_with_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse([], {"LOADTEST_SPAWN_RATE": "fast"})
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "environment variable LOADTEST_SPAWN_RATE='fast': 'fast' is not a number" in error
    assert "Traceback" not in error


def test_a_bad_flag_is_named_as_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--spawn-rate", "0"], {})
    error = capsys.readouterr().err
    assert "--spawn-rate: '0' must be greater than 0" in error
    assert "environment variable" not in error


@pytest.mark.parametrize(
    ("text", "on"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("no", False), ("off", False)],
)
def test_a_switch_variable(text: str, on: bool) -> None:
    assert truthy(text) is on
    assert parse([], {"LOADTEST_NO_LIMITS": text}).no_limits is on


def test_help_names_the_variable_of_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--help"], {})
    text = " ".join(capsys.readouterr().out.split())
    assert "users started per second [env LOADTEST_SPAWN_RATE]" in text
    assert "the API image [env LOADTEST_API_IMAGE]" in text
    assert "run without limits [env LOADTEST_NO_LIMITS]" in text


# --------------------------------------------------------------------------- validators

Validator = Callable[[str], Any]


@pytest.mark.parametrize(
    ("validator", "text", "value"),
    [
        (positive_int, "3", 3),
        (positive_float, "0.25", 0.25),
        (port_number, "65535", 65535),
        (run_time, " 1h30m ", "1h30m"),
        (memory_size, "512M", "512m"),
        (comma_list(positive_int), " 4 , 1,2 ", [4, 1, 2]),
        (comma_list(memory_size), "1G,512m", ["1g", "512m"]),
        (choice("process", "compose"), " compose ", "compose"),
    ],
)
def test_validators_accept(validator: Validator, text: str, value: object) -> None:
    assert validator(text) == value


@pytest.mark.parametrize(
    ("validator", "text", "message"),
    [
        (positive_int, "1.5", "'1.5' is not a whole number"),
        (positive_int, "0", "'0' must be at least 1"),
        (positive_float, "x", "'x' is not a number"),
        (positive_float, "-1", "'-1' must be greater than 0"),
        (positive_float, "inf", "'inf' is not a finite number"),
        (positive_float, "nan", "'nan' is not a finite number"),
        (port_number, "70000", "'70000' is not between 1 and 65535"),
        (port_number, "0", "'0' is not between 1 and 65535"),
        (run_time, "soon", "'soon' is not a Locust duration"),
        (memory_size, "1m", "'1m' is below Docker's minimum"),
        (comma_list(positive_int), "1,,2", "'1,,2' is not a comma-separated list such as 1,2"),
        (comma_list(positive_int), "", "'' is not a comma-separated list"),
        (comma_list(positive_int), "1,x", "'x' is not a whole number"),
        (choice("process", "compose"), "k8s", "'k8s' is not one of process, compose"),
    ],
)
def test_validators_name_the_text_they_reject(validator: Validator, text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as rejected:
        validator(text)
    assert message in str(rejected.value)
