"""`python -m loadtest search`: the cheapest configuration of a grid that holds the SLO, and why.

The grid (replicas x CPU limit x memory limit per replica), the probe length, the cost weights and
the budget come from the profile's `search:` block in thresholds.yaml (else its cells), the load
and the backend from the profile like `run`'s; every flag given (or its environment variable)
overrides them. The configurations are probed along the pass/fail boundary, a failure ruling out
every configuration with no more of any resource; the winner is confirmed twice at full length
and the configuration just cheaper once; then its memory limit comes from its replicas' peak and
every configuration that held gets its capacity. Outputs: search.json, search.md (the four
questions answered), search.png, and every probe's cell folder under probes/.

Exit 0 when a configuration holds and is confirmed, 1 when none in the grid holds, 2 when the search
cannot judge (a cell broke, Ctrl-C, limits that cannot be enforced here), 3 when it is inconclusive (the
generator, not the service, limited the answer, or the budget ran out before the answer: search.md says
what was not tried).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from loadtest.commands.run import (
    add_load_options,
    add_matrix_options,
    add_profile_options,
    add_server_options,
    prepare,
)
from loadtest.options import Options, run_time, whole_number
from loadtest.search import Search, merge_search_config


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], environ: Mapping[str, str] | None = None
) -> argparse.ArgumentParser:
    """Add `search` to the top-level parser."""
    parser = subparsers.add_parser(
        "search",
        help="find the cheapest replicas x CPU x memory that holds the SLO, confirmed, with its capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options = Options(parser, os.environ if environ is None else environ)
    add_profile_options(parser, options)
    grid = parser.add_argument_group(
        "grid", "the configurations searched: every replica count x CPU limit x memory limit (default: the profile's)"
    )
    add_matrix_options(grid, options)
    search = parser.add_argument_group("search", "how long it may take")
    options.add(
        search,
        "--budget",
        "the whole search never takes longer than this, e.g. 15m (default: the profile's, else 15m)",
        type=run_time,
        metavar="T",
    )
    options.add(
        search,
        "--probe-time",
        "a probe's measured window after its ramp, e.g. 15s (default: the profile's, else 15s)",
        type=run_time,
        metavar="T",
    )
    options.add(
        search,
        "--capacity-steps",
        "probes per configuration that holds to find the most users it holds (0: none; default 4)",
        type=whole_number,
        metavar="N",
    )
    options.add(
        search,
        "--against",
        "another search's results folder (another service, same grid and load) to compare the answer with",
        type=Path,
        metavar="DIR",
    )
    load = add_load_options(parser, options)
    # A search needs its limits: it offers no --no-limits.
    add_server_options(parser, options, load, no_limits=False)
    output = parser.add_argument_group("output")
    options.add(
        output,
        "--out",
        "results folder: search.json, search.md, search.png, probes/ (default results/search)",
        type=Path,
        metavar="DIR",
    )
    parser.set_defaults(handler=handle, no_limits=False)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run the search; the exit code."""
    prepared = prepare("search", args, merge_search_config)
    if isinstance(prepared, int):
        return prepared
    config, backend = prepared
    return Search(config, backend, cwd=Path.cwd()).run()
