"""Command-line options of every `python -m loadtest` command, and how their layers are merged.

A command's options are a pydantic-settings model (a `CommandOptions`), one field per option, each
annotated with the `Flag` that shows it on the command line. The value of an option is, highest
first: its flag, its environment variable (`LOADTEST_` and the field's name in capitals), the
profile of thresholds.yaml (for a command with a profile: `ProfileOptions`), the field's default.
pydantic-settings merges the layers (its init, environment and default sources, with the profile
as one more source) and validates the result; argparse stays the command-line surface, for its
help groups, metavars and usage errors. Why not pydantic-settings' own CLI: docs/runner.md.

An empty variable counts as unset. A flag is checked by argparse with its `Flag.parse`, a variable
by the same function when the options are resolved: a bad one stops the command with exit 2 and
a message naming the variable and the value.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import GetCoreSchemaHandler, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import core_schema
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource, PydanticBaseSettingsSource
from pydantic_settings import SettingsConfigDict as _SettingsConfig
from pydantic_settings.sources import DefaultSettingsSource

from loadtest.thresholds import DEFAULT_PATH, Profile, Thresholds, load_thresholds
from loadtest.util.argtypes import integer, number
from loadtest.util.units import Duration, normalize_memory

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

ENV_PREFIX = "LOADTEST_"

T = TypeVar("T")


# --------------------------------------------------------------------------- validators: text in, value out


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
random_seed = integer(minimum=0, maximum=2**32 - 1)
"""A random seed (numpy's and Python's range)."""


def duration(text: str) -> Duration:
    """A Locust duration ("90s", "2m", "1h30m"): its text as written and its seconds."""
    try:
        return Duration.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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


SWITCH_ON = ("1", "true", "yes", "on")
SWITCH_OFF = ("0", "false", "no", "off")


def switch(text: str) -> bool:
    """A switch's variable: 1, true, yes or on turn it on; 0, false, no or off leave it off (any case)."""
    word = text.strip().lower()
    if word not in SWITCH_ON + SWITCH_OFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(SWITCH_ON + SWITCH_OFF)}")
    return word in SWITCH_ON


# --------------------------------------------------------------------------- one option


@dataclass(frozen=True)
class Flag:
    """How an option's field shows on the command line, and how its text is read.

    `parse` reads the text of the flag (argparse calls it) and of the variable (the field's
    validator does): the same function, so both are checked alike and named alike when they fail.
    """

    help: str
    group: str
    """The title of the help group it is listed under (one of its model's GROUPS)."""
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    flag: str | None = None
    """The flag when it is not the field's name in kebab case (`--image` for `api_image`)."""
    is_switch: bool = False
    """A flag without a value (store-true); its variable takes 1/true/yes/on or 0/false/no/off."""

    def __get_pydantic_core_schema__(self, source: type[Any], handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # Text (a variable's) goes through `parse`; values argparse or a profile already typed pass as they are.
        return core_schema.no_info_before_validator_function(self._from_text, handler(source))

    def _from_text(self, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except argparse.ArgumentTypeError as error:
            raise ValueError(str(error)) from None


def switch_flag(help: str, group: str) -> Flag:
    """A flag without a value: on when given, or when its variable says 1, true, yes or on."""
    return Flag(help, group, parse=switch, is_switch=True)


def env_name(field: str) -> str:
    """The variable of the option held in `field`: `spawn_rate` -> `LOADTEST_SPAWN_RATE`."""
    return ENV_PREFIX + field.upper()


def flag_of(name: str, field: FieldInfo) -> Flag:
    """The `Flag` of the option held in field `name` (every field of a CommandOptions has one)."""
    flags = [item for item in field.metadata if isinstance(item, Flag)]
    if len(flags) != 1:
        raise TypeError(f"option field {name!r} needs exactly one Flag in its annotation, has {len(flags)}")
    return flags[0]


def flag_name(name: str, field: FieldInfo) -> str:
    """The command-line spelling of field `name`: its Flag's, else `--` and the name in kebab case."""
    return flag_of(name, field).flag or "--" + name.replace("_", "-")


# --------------------------------------------------------------------------- the layers


class OptionsError(ValueError):
    """An option's value does not validate; the message names where it came from and the value."""


class _Environment(EnvSettingsSource):
    """The LOADTEST_ variables of `environ`, by their exact names; blank ones count as unset."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ  # read by _load_env_vars, which the base's __init__ calls
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name: text for name, text in self._environ.items() if name.startswith(ENV_PREFIX) and text.strip()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.env_vars.get(env_name(field_name)), field_name, False


class _ProfileLayer(PydanticBaseSettingsSource):
    """The options a profile sets: the profile the layers above name (else the command's default),
    read from the thresholds file they name (else thresholds.yaml)."""

    settings_cls: type[ProfileOptions]

    def __init__(self, settings_cls: type[ProfileOptions], read: Callable[[Path], Thresholds]) -> None:
        super().__init__(settings_cls)
        self.read = read
        self.chosen: tuple[Thresholds, Profile] | None = None
        self.source = "the profile"

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives them all at once

    def __call__(self) -> dict[str, Any]:
        fields = self.settings_cls.model_fields
        name = str(self.current_state.get("profile", fields["profile"].default))
        path = Path(self.current_state.get("thresholds", fields["thresholds"].default))
        thresholds = self.read(path)
        profile = thresholds.profile(name, path)
        self.chosen, self.source = (thresholds, profile), f"profile {name!r} of {path}"
        return self.settings_cls.from_profile(profile)


_CONFIG = _SettingsConfig(
    # Every value is validated by its field's Flag.parse, from text as people write it, never as JSON.
    enable_decoding=False,
    extra="ignore",
    frozen=True,
    env_prefix=ENV_PREFIX,
)


class CommandOptions(BaseSettings):
    """The options of one command: flag > LOADTEST_ variable > default, merged by pydantic-settings.

    A subclass declares each option as a field annotated with a `Flag`, and the help groups they go
    in: GROUPS maps each `Flag.group` to the title and description of its group, in the order --help
    lists them (two keys may share a title: one group).
    """

    model_config = _CONFIG
    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {}

    @classmethod
    def add_to(cls, parser: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
        """Every option on `parser`, in its group, its help naming its variable; the groups by key (for
        a command's positional arguments). A flag not given stays out of the parsed namespace."""
        by_title: dict[str, argparse._ArgumentGroup] = {}
        for title, description in cls.GROUPS.values():
            if title not in by_title:
                by_title[title] = parser.add_argument_group(title, description)
        groups = {key: by_title[title] for key, (title, _) in cls.GROUPS.items()}
        for name, field in cls.model_fields.items():
            flag = flag_of(name, field)
            if flag.group not in groups:
                raise TypeError(f"{cls.__name__}.{name}: group {flag.group!r} is not in its GROUPS")
            common: dict[str, Any] = {
                "dest": name,
                "default": argparse.SUPPRESS,
                "help": f"{flag.help} [env {env_name(name)}]",
            }
            if flag.is_switch:
                groups[flag.group].add_argument(flag_name(name, field), action="store_true", **common)
            else:
                groups[flag.group].add_argument(flag_name(name, field), type=flag.parse, metavar=flag.metavar, **common)
        return groups

    @classmethod
    def resolve(cls, flags: argparse.Namespace, environ: Mapping[str, str]) -> Self:
        """The options: the flags given, else the variables of `environ`, else the defaults.

        OptionsError names the variable (or the layer) and the value that does not validate.
        """
        return cls._merge(flags, environ)

    @classmethod
    def _merge(cls, flags: argparse.Namespace, environ: Mapping[str, str], *lower: PydanticBaseSettingsSource) -> Self:
        given = {name: value for name, value in vars(flags).items() if name in cls.model_fields}
        environment = _Environment(cls, environ)
        sources = (InitSettingsSource(cls, given), environment, *lower, DefaultSettingsSource(cls))
        try:
            # `_build_sources` (a documented parameter of BaseSettings' constructor) takes the sources of
            # this one call: the flags and the environment given, and a profile, which the class method
            # `settings_customise_sources` could not. mypy sees only the fields' synthesised __init__.
            return cls(_build_sources=(sources, {}))  # type: ignore[call-arg]
        except ValidationError as error:
            raise OptionsError(cls._describe(error, given, environment.env_vars, lower)) from None

    @classmethod
    def _describe(
        cls,
        error: ValidationError,
        given: Mapping[str, Any],
        variables: Mapping[str, str | None],
        lower: tuple[PydanticBaseSettingsSource, ...],
    ) -> str:
        """One line per bad value, naming the flag, variable or layer it came from."""
        lines = []
        for detail in error.errors(include_url=False):
            name = str(detail["loc"][0]) if detail["loc"] else ""
            problem = _problem(detail)
            if name in given:
                lines.append(f"argument {flag_name(name, cls.model_fields[name])}: {problem}")
            elif env_name(name) in variables:
                lines.append(f"environment variable {env_name(name)}={variables[env_name(name)]!r}: {problem}")
            elif detail["type"] == "missing":
                lines.append(f"{flag_name(name, cls.model_fields[name])} is required: give it or {env_name(name)}")
            else:
                layer = next((getattr(source, "source", "a default") for source in lower), "a default")
                lines.append(f"{layer}: {name} {detail['input']!r}: {problem}")
        return "; ".join(lines)


def _problem(detail: ErrorDetails) -> str:
    """What is wrong, as our validators say it ('x' is not a whole number) or else as pydantic does."""
    if detail["type"] == "value_error" and "error" in detail.get("ctx", {}):
        return str(detail["ctx"]["error"])
    return f"{detail['input']!r}: {detail['msg']}"


class ProfileOptions(CommandOptions):
    """The options of a command whose defaults come from a profile of thresholds.yaml:
    flag > variable > the profile > default.

    A subclass gives `profile` its default (the command's own profile, named there once) and says
    which of its options a profile sets (`from_profile`).
    """

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"profile": ("profile", "where the defaults come from")}

    profile: Annotated[str, Flag("profile in thresholds.yaml", "profile", metavar="NAME")]
    thresholds: Annotated[
        Path, Flag(f"the SLO and profiles file (default {DEFAULT_PATH})", "profile", parse=Path, metavar="PATH")
    ] = DEFAULT_PATH

    @classmethod
    def from_profile(cls, profile: Profile) -> dict[str, Any]:
        """The options `profile` sets (by field name), below the flags and the variables."""
        return {}

    @classmethod
    def resolve_with_profile(
        cls,
        flags: argparse.Namespace,
        environ: Mapping[str, str],
        read: Callable[[Path], Thresholds] = load_thresholds,
    ) -> tuple[Self, Thresholds, Profile]:
        """The options, the thresholds file (as `read` reads it) and the profile they name.

        ThresholdsError when the file cannot be used, ValueError when it has no such profile,
        OptionsError when a value does not validate (naming the flag, variable or profile key).
        """
        layer = _ProfileLayer(cls, read)
        options = cls._merge(flags, environ, layer)
        if layer.chosen is None:  # pragma: no cover - pydantic-settings calls every source
            raise RuntimeError("the profile layer was not read")
        return options, *layer.chosen


def profile_flag(default: str) -> Flag:
    """--profile of a command whose own profile is `default`."""
    return Flag(f"profile in thresholds.yaml (default {default})", "profile", metavar="NAME")


def output_flag(help: str, metavar: Literal["DIR", "PATH"] = "DIR", flag: str | None = None) -> Flag:
    """Where a command writes: a folder (DIR) or a file (PATH), in its "output" group."""
    return Flag(help, "output", parse=Path, metavar=metavar, flag=flag)
