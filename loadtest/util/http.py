"""Asking a local HTTP service whether it is up: one GET on a fresh connection, or a bounded wait."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable


def get_status(host: str, port: int, path: str = "/health", timeout: float = 2.0) -> int | str:
    """`GET path` over a new connection: the status code, or what went wrong."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def wait_until_ok(
    host: str,
    port: int,
    path: str,
    timeout: float,
    gone: Callable[[], str | None] = lambda: None,
    interval: float = 0.1,
) -> int | str:
    """Ask `path` until it answers 200 or `timeout` seconds pass; return the last answer.

    `gone()` says why waiting is pointless (the server exited), and stops the wait with that reason.
    """
    deadline = time.monotonic() + timeout
    answer: int | str = "no answer yet"
    while time.monotonic() < deadline:
        reason = gone()
        if reason is not None:
            return reason
        answer = get_status(host, port, path)
        if answer == 200:
            return answer
        time.sleep(interval)
    return answer
