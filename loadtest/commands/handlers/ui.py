"""`python -m loadtest ui`, once parsed: the options layered, the backend opened, the session run."""

from __future__ import annotations

import argparse
from pathlib import Path

from loadtest.commands.handlers.run import prepare
from loadtest.ui.session import Session
from loadtest.ui.ui_options import ui_config


def handle(args: argparse.Namespace) -> int:
    """Run the session; the exit code."""
    prepared = prepare("ui", args, ui_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return Session(config, backend, cwd=Path.cwd()).run()
