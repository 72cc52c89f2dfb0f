"""SIGINT under gevent: with our handler it reaches the main greenlet, not a greenlet that swallows it,
and Locust stops its users without waiting for their replies.

Each case runs in its own Python (gevent's signal handler must not replace pytest's). The script's
`writer` is Locust's CSV writer in miniature: it catches KeyboardInterrupt and returns, and the
signal arrives while it runs Python code, as it did when a sequential stop hit Locust mid-write.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, types
    import gevent
    from loadtest.loadgen.sigint import stop_now_on_sigint

    environment = types.SimpleNamespace(stop_timeout=10.0)  # Locust's Environment, as far as the stop goes
    if sys.argv[1] == "routed":
        stop_now_on_sigint(environment)
    seen = []

    def writer():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(200_000))  # Python code, no yield: where Python's own handler raises
            seen.append("writer finished its pass")
        except KeyboardInterrupt:
            seen.append("writer swallowed it")

    try:
        gevent.spawn(writer).join()
        gevent.sleep(0.5)
        seen.append("main never saw it")
    except KeyboardInterrupt:
        seen.append("main")
    seen.append(f"stop_timeout {environment.stop_timeout:g}")
    print("; ".join(seen))
    """
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("default", "writer swallowed it; main never saw it; stop_timeout 10"),
        ("routed", "writer finished its pass; main; stop_timeout 0"),
    ],
)
def test_sigint_reaches_the_main_greenlet_and_stops_users_at_once_with_our_handler(mode: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
