"""`python -m loadtest search`, once parsed: the options layered, the backend opened, the search run."""

from __future__ import annotations

import argparse
from pathlib import Path

from loadtest.commands.handlers.run import prepare
from loadtest.search.search import Search
from loadtest.search.search_options import search_config


def handle(args: argparse.Namespace) -> int:
    """Run the search; the exit code."""
    prepared = prepare("search", args, search_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return Search(config, backend, cwd=Path.cwd()).run()
