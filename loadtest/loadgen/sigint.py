"""Ctrl-C (SIGINT) inside Locust: raised in the main greenlet, never in whichever greenlet was running.

Python runs its SIGINT handler between two bytecodes of whatever runs at that instant, and under
gevent that can be any greenlet. Locust's CSV writer (`StatsCSVFileWriter.stats_writer`) catches
KeyboardInterrupt and returns: a Ctrl-C that lands while it writes ends the writer between its
rewrite of locust_stats.csv and its append to the history, so the two files stop at different
seconds, Locust runs on, and the gate rightly refuses the files. That is how a cell that the
sequential looks stopped early (with SIGINT, so that Locust writes its HTML report) came out
"CANNOT JUDGE" in CI once.

Here gevent's loop takes the signal, and its handler hands KeyboardInterrupt to the hub's own
path for system errors, which throws it into the main greenlet: Locust's main sees the Ctrl-C in
`main_greenlet.join()` and shuts down as it always does, writing its report.

Imported by Locust only (through `locust_hooks`): gevent patches the process.
"""

from __future__ import annotations

import signal

import gevent
from gevent.hub import signal as signal_handler

_routed: list[signal_handler] = []
"""The handler, once installed (kept, so that it is never collected)."""


def route_sigint_to_main_greenlet() -> None:
    """From now on, this process's SIGINT raises KeyboardInterrupt in the main greenlet (idempotent)."""
    if not _routed:
        _routed.append(signal_handler(signal.SIGINT, _interrupt_main))


def _interrupt_main() -> None:
    # gevent's own path for a KeyboardInterrupt raised in a greenlet: thrown into the main greenlet.
    gevent.get_hub().handle_system_error(KeyboardInterrupt, KeyboardInterrupt())
