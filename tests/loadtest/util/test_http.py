"""Asking a local service whether it is up (loadtest/util/http.py), against a real server on 127.0.0.1."""

from __future__ import annotations

import itertools
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from loadtest.runner.linux.sockets import free_port
from loadtest.util.http import get_status, wait_until_ok

if TYPE_CHECKING:
    from tests.conftest import Serve


def warming_up(unready_answers: int) -> type[BaseHTTPRequestHandler]:
    """A handler whose /health answers 503 the first `unready_answers` times, then 200; other paths 404."""
    answers = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = (200 if next(answers) > unready_answers else 503) if self.path == "/health" else 404
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler


def test_get_status_is_the_status_code(http_server: Serve) -> None:
    server = http_server(ThreadingHTTPServer(("127.0.0.1", 0), warming_up(1)))
    port = server.server_address[1]
    assert get_status("127.0.0.1", port) == 503
    assert get_status("127.0.0.1", port) == 200
    assert get_status("127.0.0.1", port, "/nowhere") == 404


def test_get_status_says_what_went_wrong_without_raising() -> None:
    answer = get_status("127.0.0.1", free_port())
    assert isinstance(answer, str)
    assert answer.startswith("ConnectionRefusedError: ")


def test_wait_until_ok_returns_as_soon_as_the_service_is_ready(http_server: Serve) -> None:
    server = http_server(ThreadingHTTPServer(("127.0.0.1", 0), warming_up(3)))
    assert wait_until_ok("127.0.0.1", server.server_address[1], "/health", timeout=30, interval=0.01) == 200


def test_wait_until_ok_gives_the_last_answer_when_time_runs_out(http_server: Serve) -> None:
    server = http_server(ThreadingHTTPServer(("127.0.0.1", 0), warming_up(10**9)))
    started = time.monotonic()
    assert wait_until_ok("127.0.0.1", server.server_address[1], "/health", timeout=0.3, interval=0.01) == 503
    assert time.monotonic() - started < 10


def test_wait_until_ok_stops_when_the_server_is_gone() -> None:
    asked: list[int] = []

    def gone() -> str:
        asked.append(1)
        return "API replica 0 exited with code 1"

    assert (
        wait_until_ok("127.0.0.1", free_port(), "/health", timeout=30, gone=gone) == "API replica 0 exited with code 1"
    )
    assert asked == [1]
