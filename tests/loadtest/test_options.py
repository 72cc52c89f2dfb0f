"""Options of every command (loadtest/options.py): a flag, its LOADTEST_ variable, a profile, a default,
in that order; validators; where a bad value came from."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pytest

from loadtest.options import (
    CommandOptions,
    Flag,
    OptionsError,
    ProfileOptions,
    choice,
    comma_list,
    duration,
    env_name,
    memory_size,
    port_number,
    positive_float,
    positive_int,
    profile_flag,
    switch,
    switch_flag,
)
from loadtest.thresholds import Profile, ThresholdsError, parse_thresholds
from loadtest.util.units import Duration
from tests.usage import usage_error

THRESHOLDS = parse_thresholds(
    """
slo: {max_error_rate: 0.01, max_p95_ms: 1000}
profiles:
  small: {users: 10, spawn_rate: 5, run_time: 30s, replicas: [1], cpus: 0.5, memory: 512m}
  large: {users: 900, spawn_rate: 50, run_time: 2m, replicas: [1], cpus: 1.0, memory: 1g}
"""
)


class Example(CommandOptions):
    """A command's options as every command declares them."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        "load": ("load", "how hard"),
        "backend": ("backend", None),
        "elsewhere": ("load", None),
    }

    spawn_rate: Annotated[float, Flag("users started per second", "load", parse=positive_float, metavar="R")] = 10.0
    replicas: Annotated[
        list[int] | None, Flag("replica counts", "load", parse=comma_list(positive_int), metavar="N[,N]")
    ] = None
    api_image: Annotated[str | None, Flag("the API image", "backend", metavar="REF", flag="--image")] = None
    no_limits: Annotated[bool, switch_flag("run without limits", "backend")] = False
    out: Annotated[Path, Flag("where", "elsewhere", parse=Path, metavar="DIR")] = Path("results")


class WithProfile(ProfileOptions):
    """A command whose defaults come from a profile."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {**ProfileOptions.GROUPS, "load": ("load", None)}

    profile: Annotated[str, profile_flag("small")] = "small"
    users: Annotated[int, Flag("peak users", "load", parse=positive_int, metavar="N")]
    run_time: Annotated[Duration, Flag("how long", "load", parse=duration, metavar="T")]
    out: Annotated[Path, Flag("where", "load", parse=Path, metavar="DIR")] = Path("results")

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        return {"users": profile.users, "run_time": profile.run_time}


def parser_of(model: type[CommandOptions]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loadtest test")
    model.add_to(parser)
    return parser


def resolved(argv: list[str], environ: dict[str, str]) -> Example:
    return Example.resolve(parser_of(Example).parse_args(argv), environ)


def with_profile(argv: list[str], environ: dict[str, str]) -> tuple[WithProfile, Profile]:
    flags = parser_of(WithProfile).parse_args(argv)
    read: list[Path] = []

    def reader(path: Path) -> Any:
        read.append(path)
        return THRESHOLDS

    options, thresholds, profile = WithProfile.resolve_with_profile(flags, environ, reader)
    assert thresholds is THRESHOLDS
    assert read == [options.thresholds], "the file the layers name is read, once"
    return options, profile


# --------------------------------------------------------------------------- the layers


@pytest.mark.parametrize(
    ("field", "variable"),
    [("spawn_rate", "LOADTEST_SPAWN_RATE"), ("api_image", "LOADTEST_API_IMAGE"), ("no_limits", "LOADTEST_NO_LIMITS")],
)
def test_a_field_reads_the_variable_named_after_it(field: str, variable: str) -> None:
    assert env_name(field) == variable


def test_the_defaults_when_nothing_is_given() -> None:
    assert resolved([], {}) == Example(spawn_rate=10.0, replicas=None, api_image=None, no_limits=False)


def test_the_variable_stands_in_for_the_flag_and_is_parsed_like_it() -> None:
    environ = {"LOADTEST_SPAWN_RATE": "2.5", "LOADTEST_API_IMAGE": "me/api:1", "LOADTEST_REPLICAS": " 4, 1"}
    options = resolved([], environ)
    assert (options.spawn_rate, options.api_image, options.replicas) == (2.5, "me/api:1", [4, 1])


def test_the_flag_wins_over_the_variable() -> None:
    environ = {"LOADTEST_SPAWN_RATE": "2.5", "LOADTEST_API_IMAGE": "x"}
    options = resolved(["--spawn-rate", "7", "--image", "a/b:2"], environ)
    assert (options.spawn_rate, options.api_image) == (7.0, "a/b:2")


def test_the_flag_wins_even_over_a_bad_variable() -> None:
    assert resolved(["--spawn-rate", "7"], {"LOADTEST_SPAWN_RATE": "fast"}).spawn_rate == 7.0


def test_only_the_exact_upper_case_name_is_read() -> None:
    assert resolved([], {"loadtest_spawn_rate": "3", "LOADTEST_spawn_rate": "3"}).spawn_rate == 10.0


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_variable_is_unset(empty: str) -> None:
    environ = {"LOADTEST_SPAWN_RATE": empty, "LOADTEST_API_IMAGE": empty, "LOADTEST_NO_LIMITS": empty}
    assert resolved([], environ) == resolved([], {})


def test_a_bad_variable_is_named_with_its_value() -> None:
    with pytest.raises(OptionsError) as raised:
        resolved([], {"LOADTEST_SPAWN_RATE": "fast", "LOADTEST_REPLICAS": "1,x"})
    assert str(raised.value) == (
        "environment variable LOADTEST_SPAWN_RATE='fast': 'fast' is not a number; "
        "environment variable LOADTEST_REPLICAS='1,x': 'x' is not a whole number"
    )


def test_a_bad_flag_is_a_usage_error_named_as_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    error = usage_error(capsys, parser_of(Example).parse_args, ["--spawn-rate", "0"])
    assert "argument --spawn-rate: '0' must be greater than 0" in error
    assert "environment variable" not in error


def test_a_flag_not_given_stays_out_of_the_namespace() -> None:
    """So a variable can stand in for it: argparse's defaults would hide which flags were given."""
    assert vars(parser_of(Example).parse_args(["--no-limits"])) == {"no_limits": True}


@pytest.mark.parametrize(
    ("text", "on"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("no", False), ("off", False)],
)
def test_a_switch_variable(text: str, on: bool) -> None:
    assert switch(text) is on
    assert resolved([], {"LOADTEST_NO_LIMITS": text}).no_limits is on


def test_a_switch_variable_that_says_neither_is_named() -> None:
    with pytest.raises(OptionsError, match="environment variable LOADTEST_NO_LIMITS='maybe': 'maybe' is not one of 1,"):
        resolved([], {"LOADTEST_NO_LIMITS": "maybe"})


def test_help_lists_every_option_in_its_group_with_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser_of(Example).parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "load: how hard --spawn-rate R users started per second [env LOADTEST_SPAWN_RATE]" in text
    assert "--image REF the API image [env LOADTEST_API_IMAGE]" in text
    assert "--no-limits run without limits [env LOADTEST_NO_LIMITS]" in text
    # Two keys with one title are one group: --out is listed under load.
    assert text.index("--out DIR") < text.index("backend:")


def test_a_field_without_a_flag_or_in_no_group_is_refused() -> None:
    class Unflagged(CommandOptions):
        count: int = 1

    class Ungrouped(CommandOptions):
        count: Annotated[int, Flag("how many", "nowhere", parse=positive_int)] = 1

    with pytest.raises(TypeError, match="'count' needs exactly one Flag"):
        Unflagged.add_to(argparse.ArgumentParser())
    with pytest.raises(TypeError, match=r"Ungrouped.count: group 'nowhere' is not in its GROUPS"):
        Ungrouped.add_to(argparse.ArgumentParser())


# --------------------------------------------------------------------------- a profile below the variables


def test_the_commands_profile_gives_what_no_flag_or_variable_does() -> None:
    options, profile = with_profile([], {})
    assert profile is THRESHOLDS.profiles["small"]
    assert (options.profile, options.users, options.run_time, options.out) == (
        "small",
        10,
        Duration("30s", 30),
        Path("results"),
    )


def test_a_variable_or_a_flag_names_another_profile_and_file() -> None:
    options, profile = with_profile([], {"LOADTEST_PROFILE": "large", "LOADTEST_THRESHOLDS": "other.yaml"})
    assert (options.profile, options.thresholds, options.users, profile) == (
        "large",
        Path("other.yaml"),
        900,
        THRESHOLDS.profiles["large"],
    )
    assert with_profile(["--profile", "small"], {"LOADTEST_PROFILE": "large"})[0].users == 10


def test_flag_over_variable_over_profile() -> None:
    assert with_profile([], {"LOADTEST_USERS": "77"})[0].users == 77
    assert with_profile(["--users", "5"], {"LOADTEST_USERS": "77"})[0].users == 5
    options = with_profile(["--run-time", "1m"], {"LOADTEST_USERS": "77"})[0]
    assert (options.users, options.run_time) == (77, Duration("1m", 60))


def test_an_unknown_profile_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"profile 'nightly' is not in thresholds.yaml \(profiles: large, small\)"):
        with_profile(["--profile", "nightly"], {})


def test_a_missing_thresholds_file_is_named(tmp_path: Path) -> None:
    flags = parser_of(WithProfile).parse_args(["--thresholds", str(tmp_path / "nope.yaml")])
    with pytest.raises(ThresholdsError, match=r"nope\.yaml: no such file"):
        WithProfile.resolve_with_profile(flags, {})


def test_a_bad_variable_is_named_before_the_profile_could_hide_it() -> None:
    message = "environment variable LOADTEST_RUN_TIME='soon': 'soon' is not a Locust duration"
    with pytest.raises(OptionsError, match=message):
        with_profile([], {"LOADTEST_RUN_TIME": "soon"})


def test_a_profile_value_the_option_refuses_is_named_with_the_profile() -> None:
    class Stricter(WithProfile):
        @classmethod
        def from_profile(cls, profile: Profile) -> dict[str, Any]:
            return {"users": "lots", "run_time": profile.run_time}

    flags = parser_of(Stricter).parse_args([])
    with pytest.raises(OptionsError, match=r"profile 'small' of thresholds.yaml: users 'lots': 'lots' is not a whole"):
        Stricter.resolve_with_profile(flags, {}, lambda _: THRESHOLDS)


# --------------------------------------------------------------------------- validators

Validator = Callable[[str], Any]


@pytest.mark.parametrize(
    ("validator", "text", "value"),
    [
        (positive_int, "3", 3),
        (positive_float, "0.25", 0.25),
        (port_number, "65535", 65535),
        (duration, " 1h30m ", Duration("1h30m", 5400)),
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
        (duration, "soon", "'soon' is not a Locust duration"),
        (duration, "0s", "'0s' is not a positive duration"),
        (memory_size, "1m", "'1m' is below Docker's minimum"),
        (comma_list(positive_int), "1,,2", "'1,,2' is not a comma-separated list such as 1,2"),
        (comma_list(positive_int), "", "'' is not a comma-separated list"),
        (comma_list(positive_int), "1,x", "'x' is not a whole number"),
        (choice("process", "compose"), "k8s", "'k8s' is not one of process, compose"),
        (switch, "maybe", "'maybe' is not one of 1, true, yes, on, 0, false, no, off"),
    ],
)
def test_validators_name_the_text_they_reject(validator: Validator, text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as rejected:
        validator(text)
    assert message in str(rejected.value)
