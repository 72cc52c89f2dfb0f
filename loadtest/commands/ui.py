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
import os
from collections.abc import Mapping
from pathlib import Path

from loadtest.commands.run import add_profile_options, add_server_options, add_warmup_option, prepare
from loadtest.locust_contract import DEFAULT_WEB_HOST, DEFAULT_WEB_PORT
from loadtest.options import Options, memory_size, port_number, positive_float, positive_int, run_time
from loadtest.ui import DEFAULT_UI_OUT, Session, merge_ui_config


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """Add `ui` to the top-level parser."""
    parser = subparsers.add_parser(
        "ui",
        help="one cell under limits with Locust's web UI; every test started from it is gated",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options = Options(parser, os.environ if environ is None else environ)
    add_profile_options(parser, options)

    cell = parser.add_argument_group("cell", "the replicas and their limits (default: the profile's first value)")
    options.add(cell, "--replicas", "API replicas, e.g. 2", type=positive_int, metavar="N")
    options.add(
        cell, "--cpus", "CPU limit per replica (Docker's --cpus), e.g. 0.5", type=positive_float, metavar="CPUS"
    )
    options.add(
        cell, "--memory", "memory limit per replica, Docker syntax, e.g. 512m", type=memory_size, metavar="SIZE"
    )

    web = parser.add_argument_group("web UI", "Locust's web UI and what its start form is pre-filled with")
    options.add(web, "--web-host", f"address the UI listens on (default {DEFAULT_WEB_HOST})", metavar="ADDR")
    options.add(web, "--web-port", f"port of the UI (default {DEFAULT_WEB_PORT})", type=port_number, metavar="PORT")
    options.add(web, "--users", "users in the start form (default: the profile's)", type=positive_int, metavar="N")
    options.add(
        web, "--spawn-rate", "spawn rate in the start form (default: the profile's)", type=positive_float, metavar="R"
    )
    options.add(
        web,
        "--run-time",
        "run time in the start form, Locust syntax: 90s, 2m (default: none, a test runs until stopped)",
        type=run_time,
        metavar="T",
    )
    add_warmup_option(web, options)
    add_server_options(parser, options, web)

    output = parser.add_argument_group("output")
    options.add(
        output,
        "--out",
        f"results folder: OUT/<cell>/ holds the session's logs and one test-N/ per test (default {DEFAULT_UI_OUT})",
        type=Path,
        metavar="DIR",
    )
    # A session measures no generator capacity: there is no cell run to gate on it.
    parser.set_defaults(handler=handle, no_calibration=True)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the session; the exit code."""
    prepared = prepare("ui", args, merge_ui_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return Session(config, backend, cwd=Path.cwd()).run()
