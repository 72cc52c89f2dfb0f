"""gevent's loop time, refreshed before Locust arms its --run-time timer.

libev times a timer from the loop's cached "now", which only moves when the loop runs. A lone
Locust (no workers to wait for) imports the locustfile and builds its runner without running the
loop once, then arms `spawn_later(run_time, ...)`: the timer counted from a "now" taken before those
seconds of start-up, so every run ended early by Locust's own start-up time (a 21 s run stopped
after 20.1 s here; a 3 s compare trial after 0.2-0.8 s, with no request after its ramp).

Imported by Locust only (through `locust_hooks`): gevent patches the process.
"""

from __future__ import annotations

import gevent


def refresh_loop_time() -> None:
    """Make the loop's cached time the present, so that timers armed next count from now."""
    gevent.get_hub().loop.update_now()
