"""loadtest/locustfile.py run by real Locust (a subprocess) against a small scripted server.

The server checks every payload against the Iris ranges and answers some requests badly on
purpose, so the test sees Locust's own CSVs name our endpoints and count exactly the replies
the scenario must count as failures.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtest.gate import read_stats
from loadtest.scenario import IRIS_RANGES

REPO_ROOT = Path(__file__).resolve().parents[2]


class ScriptedApi(BaseHTTPRequestHandler):
    """Every 5th /predict reply lacks `probabilities`; every 3rd /health is a 503; / is fine."""

    protocol_version = "HTTP/1.1"
    predictions = itertools.count(1)
    health_checks = itertools.count(1)
    bad_payloads: list[object] = []

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(503 if next(self.health_checks) % 3 == 0 else 200, {"status": "ok"})
        elif self.path == "/":
            self._reply(200, {"name": "scripted"})
        else:
            self._reply(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        features = body.get("features") if isinstance(body, dict) else None
        if not _valid_features(features):
            self.bad_payloads.append(body)
            self._reply(422, {"detail": "bad features"})
        elif next(self.predictions) % 5 == 0:
            self._reply(200, {"prediction": 1})
        else:
            self._reply(200, {"prediction": 1, "probabilities": [0.1, 0.8, 0.1]})

    def _reply(self, status: int, document: object) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _valid_features(features: object) -> bool:
    return (
        isinstance(features, list)
        and len(features) == 4
        and all(
            isinstance(value, float) and low <= value <= high and round(value, 1) == value
            for value, (low, high) in zip(features, IRIS_RANGES)
        )
    )


@pytest.fixture
def scripted_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_locustfile_names_endpoints_and_counts_bad_replies(scripted_api: str, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "loadtest/locustfile.py",
        "--headless",
        "--host",
        scripted_api,
        "-u",
        "40",
        "-r",
        "40",
        "-t",
        "5s",
        "--stop-timeout",
        "5",
        "--csv",
        str(tmp_path / "locust"),
        "--csv-full-history",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1: Locust saw failures, as it should here
    assert "Traceback" not in done.stderr

    run = read_stats(tmp_path)
    assert run.exceptions.empty
    assert ScriptedApi.bad_payloads == []
    assert {"POST /predict", "GET /health"} <= set(run.endpoints) <= {"POST /predict", "GET /health", "GET /"}
    assert set(run.stats["Type"].dropna()) <= {"GET", "POST"}

    failures = {(row["Name"], row["Error"]): row["Occurrences"] for row in run.failures.to_dict("records")}
    assert set(failures) == {
        ("POST /predict", "CatchResponseError(\"reply lacks 'probabilities'\")"),
        ("GET /health", "LocustBadStatusCode(code=503)"),
    }
    predict, health = run.endpoints["POST /predict"], run.endpoints["GET /health"]
    # Every 5th prediction and every 3rd health check fail (up to the CSV's last second).
    assert predict.failures == pytest.approx(predict.requests / 5, abs=3)
    assert health.failures == pytest.approx(health.requests / 3, abs=3)
    if "GET /" in run.endpoints:
        assert run.endpoints["GET /"].failures == 0
    assert predict.requests > health.requests  # heavy users only predict
