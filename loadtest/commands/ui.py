"""`python -m loadtest ui`: one cell under CPU/memory limits, with Locust's web UI to explore it.

The cell starts as a cell of `run` does; Locust's UI is then served on --web-host:--web-port
(default 127.0.0.1:8089), its start form pre-filled with the profile's users and spawn rate.
The terminal shows every replica's CPU, throttling, memory, restarts and OOM kills against its
limits; each test started from the UI is judged by the gate when it stops, into
OUT/<cell>/test-N/. `python -m loadtest stats` shows the same view from another terminal.
Ctrl-C stops Locust and every replica and removes their cgroups (exit 0); exit 2 when the cell
could not be started or broke.
"""

from __future__ import annotations

import argparse

from loadtest.commands.lazy import Deferred
from loadtest.ui.ui_options import UiOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `ui` to the top-level parser."""
    parser = subparsers.add_parser(
        "ui",
        help="one cell under limits with Locust's web UI; every test started from it is gated",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    UiOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.ui"))
    return parser
