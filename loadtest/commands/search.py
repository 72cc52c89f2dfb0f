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

from loadtest.commands.lazy import Deferred
from loadtest.search.search_options import SearchOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `search` to the top-level parser."""
    parser = subparsers.add_parser(
        "search",
        help="find the cheapest replicas x CPU x memory that holds the SLO, confirmed, with its capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    SearchOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.search"))
    return parser
