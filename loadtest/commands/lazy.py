"""A subcommand's handler, imported when that subcommand runs, not when the parser is built.

`python -m loadtest` builds every subcommand's parser to parse one command line. The machinery
behind the commands (scipy, pandas, matplotlib, Locust) costs seconds of start-up that `plan`,
`init` and `--help` never use, so a parser names its handler's module (`loadtest.commands.handlers`)
and `Deferred` imports it on the call. tests/loadtest/commands/test_lazy.py checks that every name
resolves and that building the parser imports none of that machinery.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from typing import Protocol, cast


class Handler(Protocol):
    """What a subcommand runs once its options are parsed: the exit code."""

    def __call__(self, args: argparse.Namespace, /) -> int: ...


@dataclass(frozen=True)
class Deferred:
    """The handler `function` of `module`, imported on the first call."""

    module: str
    function: str = "handle"

    def resolve(self) -> Handler:
        """Import the module and return the handler (ImportError, or TypeError when it is not callable)."""
        handler = getattr(importlib.import_module(self.module), self.function, None)
        if not callable(handler):
            raise TypeError(f"{self.module}.{self.function} is not a function: {handler!r}")
        return cast(Handler, handler)

    def __call__(self, args: argparse.Namespace, /) -> int:
        return self.resolve()(args)
