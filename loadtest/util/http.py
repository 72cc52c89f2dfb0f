"""Talking to a local HTTP service: one request on a fresh connection, or a bounded wait until it is up."""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Callable, Mapping


def fetch(
    host: str, port: int, path: str, method: str = "GET", form: Mapping[str, str] | None = None, timeout: float = 2.0
) -> tuple[int, bytes]:
    """One request over a new connection (`form`: a URL-encoded body): the status and the body.

    Raises OSError or http.client.HTTPException when there is no answer.
    """
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_status(host: str, port: int, path: str = "/health", timeout: float = 2.0) -> int | str:
    """`GET path` over a new connection: the status code, or what went wrong."""
    try:
        return fetch(host, port, path, timeout=timeout)[0]
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"


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
