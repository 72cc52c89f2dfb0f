"""Locust's web API, as `python -m loadtest ui` and scripts/ui_screenshot.py use it.

The same endpoints its web UI calls: `GET /stats/requests` (state and figures; Locust caches the
answer for 2 s), `POST /swarm` (start or change a test), `POST /stop`, and the CSV and report
downloads (`/stats/requests/csv`, `/stats/failures/csv`, `/exceptions/csv`, `/stats/report`),
written by the same code as the files of `--csv` and `--html`.
"""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from typing import Any

from loadtest.util.http import fetch

IDLE_STATES = frozenset({"ready", "stopped"})
"""Locust's runner states between tests (`ready` before the first one); any other is a test."""

ALL_INTERFACES = frozenset({"", "*", "0.0.0.0", "::"})
# In the page's template arguments (Locust 2.47 web.py: "num_users", "spawn_rate").
_FORM_USERS = re.compile(r'"num_users":\s*(\d+)')
_FORM_SPAWN_RATE = re.compile(r'"spawn_rate":\s*(\d+(?:\.\d+)?)')


class WebApiError(Exception):
    """Locust's web UI did not answer, or answered with an error; the message says which request."""


@dataclass(frozen=True)
class WebStatus:
    """What `GET /stats/requests` says about the test of the moment."""

    state: str
    users: int
    rps: float
    """Requests per second right now (Locust's `current_rps` of the Aggregated row)."""
    requests: int
    failures: int
    workers: int | None
    """Connected worker processes (None: a standalone Locust)."""

    @property
    def running(self) -> bool:
        """A test is on (spawning, running or stopping)."""
        return self.state not in IDLE_STATES


def web_url(host: str, port: int) -> str:
    """Where a browser on this machine opens the UI."""
    shown = "127.0.0.1" if host in ALL_INTERFACES else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


class LocustWeb:
    """A client of one Locust web UI."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.host = "127.0.0.1" if host in ALL_INTERFACES else host
        self.port, self.timeout = port, timeout
        self.url = web_url(host, port)

    def request(self, path: str, method: str = "GET", form: dict[str, str] | None = None) -> bytes:
        """The body of a 200 answer; WebApiError otherwise."""
        try:
            status, body = fetch(self.host, self.port, path, method, form, timeout=self.timeout)
        except (OSError, http.client.HTTPException) as error:
            raise WebApiError(f"{method} {self.url}{path}: no answer ({type(error).__name__}: {error})") from None
        if status != 200:
            text = body.decode("utf-8", errors="replace").strip()[:200]
            raise WebApiError(f"{method} {self.url}{path}: HTTP {status} {text}")
        return body

    def serving(self) -> bool:
        """Whether the UI's page is served."""
        try:
            self.request("/")
        except WebApiError:
            return False
        return True

    def status(self) -> WebStatus:
        """The state and the Aggregated figures of the moment."""
        document = self._json(self.request("/stats/requests"), "/stats/requests")
        try:
            total = document["stats"][-1]
            workers = document.get("worker_count")
            return WebStatus(
                state=str(document["state"]),
                users=int(document["user_count"]),
                rps=float(total["current_rps"]),
                requests=int(total["num_requests"]),
                failures=int(total["num_failures"]),
                workers=int(workers) if workers is not None else None,
            )
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise WebApiError(f"GET {self.url}/stats/requests: not Locust's answer ({error!r})") from None

    def form(self) -> tuple[int, float] | None:
        """The users and spawn rate of the last test started (the start form's values, which Locust
        keeps in the options its page is rendered from); None if the page does not show them."""
        page = self.text("/")
        users, rate = _FORM_USERS.search(page), _FORM_SPAWN_RATE.search(page)
        if users is None or rate is None:
            return None
        return int(users[1]), float(rate[1])

    def swarm(self, users: int, spawn_rate: float, run_time: str | None = None) -> None:
        """Start a test (or change the one running) as the UI's start form does."""
        form = {"user_count": str(users), "spawn_rate": f"{spawn_rate:g}"}
        if run_time is not None:
            form["run_time"] = run_time
        answer = self._json(self.request("/swarm", "POST", form), "/swarm")
        if answer.get("success") is not True:
            raise WebApiError(f"POST {self.url}/swarm: {answer.get('message', answer)}")

    def stop(self) -> None:
        """Stop the test, as the UI's Stop button does."""
        self.request("/stop", "POST")

    def text(self, path: str) -> str:
        """A download (a CSV, the HTML report) as text."""
        return self.request(path).decode("utf-8")

    def _json(self, body: bytes, path: str) -> dict[str, Any]:
        try:
            document = json.loads(body)
        except ValueError:
            raise WebApiError(f"{self.url}{path}: not JSON") from None
        if not isinstance(document, dict):
            raise WebApiError(f"{self.url}{path}: not a JSON object")
        return document
