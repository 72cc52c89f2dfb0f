"""Command-line options of every `python -m loadtest` command: one `LOADTEST_` prefix, validators together.

Every option has a help line and an environment variable, named after it unless `env=` names it
(`--spawn-rate` reads `LOADTEST_SPAWN_RATE`, `gate --json` reads `LOADTEST_VERDICT_JSON`); a flag
given on the command line wins over the variable. An empty variable counts as unset. A variable
whose value does not validate stops the command with a message naming the variable and the value,
as a bad flag does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from loadtest.util.argtypes import integer, number
from loadtest.util.units import normalize_memory, parse_run_time

ENV_PREFIX = "LOADTEST_"

T = TypeVar("T")


# --------------------------------------------------------------------------- validators


positive_int = integer(minimum=1)
"""A whole number of at least 1."""
positive_float = number(above=0)
"""A finite number above 0."""
port_number = integer(minimum=1, maximum=65535)
"""A TCP port, 1-65535."""
whole_number = integer(minimum=0)
"""A whole number of at least 0."""
at_least_two = integer(minimum=2)
"""A whole number of at least 2 (a comparison's trials of each side)."""
open_fraction = number(above=0, below=1)
"""A number strictly between 0 and 1 (a margin: 0.1 = 10%)."""
seed = integer(minimum=0, maximum=2**32 - 1)
"""A random seed (numpy's and Python's range)."""


def run_time(text: str) -> str:
    """A Locust duration ("90s", "2m", "1h30m"), kept as written."""
    try:
        parse_run_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text.strip()


def memory_size(text: str) -> str:
    """A Docker memory size ("512m", "1g"), in lower case."""
    try:
        return normalize_memory(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def comma_list(item: Callable[[str], T]) -> Callable[[str], list[T]]:
    """A validator for "a,b,c" whose items pass `item`."""

    def parse(text: str) -> list[T]:
        parts = [part.strip() for part in text.split(",")]
        if not text.strip() or any(not part for part in parts):
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list such as 1,2")
        return [item(part) for part in parts]

    parse.__name__ = f"{getattr(item, '__name__', 'item')}_list"
    return parse


def choice(*allowed: str) -> Callable[[str], str]:
    """A validator for one of `allowed` (argparse checks `choices` only on the command line)."""

    def parse(text: str) -> str:
        value = text.strip()
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(allowed)}")
        return value

    parse.__name__ = "choice"
    return parse


def truthy(text: str | None) -> bool:
    """An environment switch: 1, true, yes or on (any case)."""
    return (text or "").strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- options with environment defaults


def env_name(flag: str) -> str:
    """`--spawn-rate` -> `LOADTEST_SPAWN_RATE`."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


class _EnvironmentText(str):
    """An option's default as read from its environment variable (argparse converts string defaults
    with the option's type, so the variable is validated like the flag and named when it fails)."""

    variable: str


def _from_environment(name: str, text: str) -> _EnvironmentText:
    value = _EnvironmentText(text)
    value.variable = name
    return value


def _typed(convert: Callable[[str], Any] | None) -> Callable[[str], Any]:
    """`convert`, naming the environment variable when the text came from one."""

    def parse(text: str) -> Any:
        try:
            return convert(text) if convert is not None else str(text)
        except (argparse.ArgumentTypeError, ValueError) as error:
            if isinstance(text, _EnvironmentText):
                raise argparse.ArgumentTypeError(
                    f"environment variable {text.variable}={str(text)!r}: {error}"
                ) from None
            raise

    parse.__name__ = getattr(convert, "__name__", "text")
    return parse


class Options:
    """Adds options to a parser whose defaults come from `environ`."""

    def __init__(self, parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
        self.parser, self.environ = parser, environ

    def add(
        self,
        group: argparse._ArgumentGroup,
        flag: str,
        help: str,
        *,
        env: str | None = None,
        type: Callable[[str], Any] | None = None,
        default: Any = None,
        **kwargs: Any,
    ) -> None:
        """An option `flag` with a help line; its default is the environment variable's value if set."""
        name = env or env_name(flag)
        text = self.environ.get(name, "")
        if text.strip():
            default = _from_environment(name, text)
        group.add_argument(flag, help=f"{help} [env {name}]", type=_typed(type), default=default, **kwargs)

    def switch(self, group: argparse._ArgumentGroup, flag: str, help: str, *, env: str | None = None) -> None:
        """A store-true flag, also turned on by its variable (1, true, yes or on)."""
        name = env or env_name(flag)
        group.add_argument(
            flag, action="store_true", default=truthy(self.environ.get(name)), help=f"{help} [env {name}]"
        )


def path_or_none(value: str | Path | None) -> Path | None:
    """A path option's value as a Path (None stays None)."""
    return Path(value) if value is not None else None
