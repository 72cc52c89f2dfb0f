"""Ctrl-C (SIGINT) inside Locust: a stop now, raised in the main greenlet and never in another one.

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

The stop does not wait --stop-timeout for requests in flight: the recording's books close when
the test starts stopping (a request in flight then is unfinished, over every limit, whatever
comes after), so waiting would only hold a stopped cell for up to 10 s while a queued service
answers requests that no longer count.

Imported by Locust only (through `locust_hooks`): gevent patches the process.
"""

from __future__ import annotations

import signal
from typing import Protocol

import gevent
from gevent.hub import signal as signal_handler


class Stoppable(Protocol):
    """What the handler changes: Locust's `Environment` (its users' grace when they are stopped)."""

    stop_timeout: float


_routed: list[signal_handler] = []
"""The handler, once installed (kept, so that it is never collected)."""


def stop_now_on_sigint(environment: Stoppable) -> None:
    """From now on, SIGINT stops this process's test at once from its main greenlet (idempotent)."""
    if not _routed:
        _routed.append(signal_handler(signal.SIGINT, _interrupt_main, environment))


def _interrupt_main(environment: Stoppable) -> None:
    environment.stop_timeout = 0.0  # Locust reads it when it stops its users: 0 kills them now
    # gevent's own path for a KeyboardInterrupt raised in a greenlet: thrown into the main greenlet.
    gevent.get_hub().handle_system_error(KeyboardInterrupt, KeyboardInterrupt())
