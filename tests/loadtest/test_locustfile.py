"""loadtest/locustfile.py run by real Locust (a subprocess) against a small scripted server.

Locust runs with the contract's own command line, as the runner starts it. The server checks every
payload against the Iris ranges and answers some requests badly on purpose, so the test sees
Locust's own CSVs name our endpoints and count exactly the replies the scenario must count as failures.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest.gate import read_stats
from loadtest.locust_contract import LOCUSTFILE, LoadSettings
from loadtest.runner.backends.local_locust import locust_command
from loadtest.scenario import IRIS_RANGES

if TYPE_CHECKING:
    from tests.conftest import Serve

REPO_ROOT = Path(__file__).resolve().parents[2]


class ScriptedApi(ThreadingHTTPServer):
    """Every 5th /predict reply lacks `probabilities`; every 3rd /health is a 503; / is fine."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, ScriptedHandler)
        self.predictions = itertools.count(1)
        self.health_checks = itertools.count(1)
        self.bad_payloads: list[object] = []


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedApi

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(503 if next(self.server.health_checks) % 3 == 0 else 200, {"status": "ok"})
        elif self.path == "/":
            self._reply(200, {"name": "scripted"})
        else:
            self._reply(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        features = body.get("features") if isinstance(body, dict) else None
        if not _valid_features(features):
            self.server.bad_payloads.append(body)
            self._reply(422, {"detail": "bad features"})
        elif next(self.server.predictions) % 5 == 0:
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
    """Four floats of one decimal, each within its Iris range."""
    return (
        isinstance(features, list)
        and len(features) == len(IRIS_RANGES)
        and all(
            isinstance(value, float) and low <= value <= high and round(value, 1) == value
            for value, (low, high) in zip(features, IRIS_RANGES, strict=True)
        )
    )


@pytest.fixture
def scripted_api(http_server: Serve) -> ScriptedApi:
    server = ScriptedApi(("127.0.0.1", 0))
    http_server(server)
    return server


@pytest.mark.integration
def test_locustfile_names_endpoints_and_counts_bad_replies(scripted_api: ScriptedApi, tmp_path: Path) -> None:
    host = f"http://127.0.0.1:{scripted_api.server_address[1]}"
    # 100 users for 5 s: ~170 tasks of ordinary users, so GET / (1 task in 13) is all but certain to run.
    command = locust_command(Path(LOCUSTFILE), host, tmp_path, LoadSettings(100, 100.0, 5), workers=1)
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr  # failed requests are the gate's to judge (--exit-code-on-error=0)
    assert "Traceback" not in done.stderr

    run = read_stats(tmp_path)
    assert run.exceptions == ()
    assert scripted_api.bad_payloads == []
    assert list(run.endpoints) == ["GET /", "GET /health", "POST /predict"]

    failures = {(row.endpoint, row.error): row.occurrences for row in run.failures}
    assert set(failures) == {
        ("POST /predict", "CatchResponseError(\"reply lacks 'probabilities'\")"),
        ("GET /health", "LocustBadStatusCode(code=503)"),
    }
    predict, health = run.endpoints["POST /predict"], run.endpoints["GET /health"]
    # Every 5th prediction and every 3rd health check fail (up to the CSV's last second).
    assert predict.failures == pytest.approx(predict.requests / 5, abs=3)
    assert health.failures == pytest.approx(health.requests / 3, abs=3)
    assert run.endpoints["GET /"].failures == 0
    assert predict.requests > health.requests  # heavy users only predict
    assert (tmp_path / "locust_report.html").is_file()
