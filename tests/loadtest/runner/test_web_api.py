"""Locust's web API client: where the UI is opened, and which states are a test (driven for real in test_ui.py)."""

from __future__ import annotations

import pytest

from loadtest.runner.web_api import WebStatus, web_url


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8089"),
        ("0.0.0.0", "http://127.0.0.1:8089"),
        ("*", "http://127.0.0.1:8089"),
        ("", "http://127.0.0.1:8089"),
        ("::1", "http://[::1]:8089"),
        ("10.0.0.7", "http://10.0.0.7:8089"),
    ],
)
def test_where_a_browser_on_this_machine_opens_the_ui(host: str, url: str) -> None:
    assert web_url(host, 8089) == url


@pytest.mark.parametrize(
    ("state", "running"),
    [
        ("ready", False),
        ("spawning", True),
        ("running", True),
        ("cleanup", True),
        ("stopping", True),
        ("stopped", False),
    ],
)
def test_every_state_but_ready_and_stopped_is_a_test(state: str, running: bool) -> None:
    assert WebStatus(state, users=0, rps=0.0, requests=0, failures=0, workers=None).running is running
