"""Waiting in tests: poll a condition until it holds or a deadline passes, never a fixed sleep."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.02


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = POLL_SECONDS) -> T:
    """Call `condition` until it returns something truthy and return that; fail the test after `timeout` s.

    `what` says what was awaited, for the failure message. The condition is asked once more at the
    deadline, so a slow machine that gets there just in time still passes.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what} (last answer: {result!r})")
        time.sleep(interval)


def answers_ok(port: int, path: str = "/health", timeout: float = 2.0) -> bool:
    """Whether 127.0.0.1:`port` answers GET `path` with 200 now; False while nothing listens there yet.

    A condition for `wait_until`: a service started by a test is ready once its health check answers.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_gone(left: Callable[[], Sequence[object]], timeout: float, what: str) -> None:
    """Call `left` until it finds nothing; fail the test with what it still found after `timeout` s."""
    found: Sequence[object] = ()

    def nothing_left() -> bool:
        nonlocal found
        found = left()
        return not found

    try:
        wait_until(nothing_left, timeout, what)
    except AssertionError:
        raise AssertionError(f"still there after {timeout:g} s: {what}: {list(found)!r}") from None
