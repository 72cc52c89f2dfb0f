"""loadtest/locustfile.py run by real Locust (a subprocess) against small scripted servers.

Locust runs with the contract's own command line and environment, as the runner starts it. The
servers check every payload and answer some requests badly on purpose, so the tests see Locust's
own CSVs name the scenario's requests and count exactly the replies their `expect` must count as
failures: the workshop's scenario (the default), and a scenario file of a service that is not ours.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import packaged
from loadtest.gate.reading import read_stats
from loadtest.locust_contract import LOCUSTFILE, LoadSettings, locust_environment
from loadtest.runner.backends.local_locust import locust_command
from loadtest.scenario import load_scenario

if TYPE_CHECKING:
    from tests.conftest import Serve

REPO_ROOT = Path(__file__).resolve().parents[2]
IRIS_RANGES = ((4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5))
"""Min and max of each Iris feature (cm): every body of the workshop's must fall inside."""


class JsonHandler(BaseHTTPRequestHandler):
    """A keep-alive handler that answers in JSON and logs nothing: what both fake APIs below share."""

    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, document: object) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class ScriptedApi(ThreadingHTTPServer):
    """Every 5th /predict reply lacks `probabilities`; every 3rd /health is a 503; / is fine."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, ScriptedHandler)
        self.predictions = itertools.count(1)
        self.health_checks = itertools.count(1)
        self.bad_payloads: list[object] = []


class ScriptedHandler(JsonHandler):
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


class TextApi(ThreadingHTTPServer):
    """A text classifier: POST /v1/classify {"text": ...} -> 201 {"label": ...}, every 4th without its label;
    GET /ready 200; anything else 404."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, TextHandler)
        self.classified = itertools.count(1)
        self.texts: set[str] = set()
        self.ready_checks = 0
        self.bad_requests: list[str] = []


class TextHandler(JsonHandler):
    server: TextApi

    def do_GET(self) -> None:
        if self.path == "/ready":
            self.server.ready_checks += 1
            self._reply(200, {"ready": True})
        else:
            self._reply(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/classify" or self.headers["Content-Type"] != "application/json" or "text" not in body:
            self.server.bad_requests.append(f"{self.path} {self.headers['Content-Type']} {body}")
            self._reply(422, {"detail": "bad request"})
        elif next(self.server.classified) % 4 == 0:
            self.server.texts.add(body["text"])
            self._reply(201, {"score": 0.5})
        else:
            self.server.texts.add(body["text"])
            self._reply(201, {"label": "spam", "score": 0.5})


TEXT_SCENARIO = """
health: /ready
requests:
  - name: classify
    method: POST
    path: /v1/classify
    weight: 3
    bodies: texts.jsonl
    expect: {status: 201, json_keys: [label]}
  - {name: ready, path: /ready, weight: 0}
  - {name: refused, path: /admin, expect: {status: 404}}
users:
  caller: {share: 0.75, between: [0.05, 0.1], on_start: [ready]}
  prober: {share: 0.25, between: [0.05, 0.1], requests: [refused]}
"""


@pytest.mark.integration
def test_a_scenario_file_drives_the_users_and_names_each_failure_by_request(http_server: Serve, tmp_path: Path) -> None:
    api = TextApi(("127.0.0.1", 0))
    http_server(api)
    (tmp_path / "texts.jsonl").write_text('{"text": "buy now"}\n{"text": "hello"}\n{"text": "meeting at 3"}\n')
    (tmp_path / "scenario.yaml").write_text(TEXT_SCENARIO)
    settings = LoadSettings(20, 20.0, 5, scenario=load_scenario(tmp_path / "scenario.yaml"))
    host = f"http://127.0.0.1:{api.server_address[1]}"
    command = locust_command(packaged.LOCUSTFILE, host, tmp_path / "run", settings, workers=1)
    environment = {**os.environ, **locust_environment(settings)}
    done = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    run = read_stats(tmp_path / "run")
    assert run.exceptions == ()
    assert api.bad_requests == []  # each body a line of the file, sent as JSON
    assert api.texts == {"buy now", "hello", "meeting at 3"}  # drawn at random from all of them
    assert set(run.endpoints) == {"classify", "ready", "refused"}  # the scenario's names, as written
    failures = {(row.endpoint, row.error) for row in run.failures}
    assert failures == {("classify", "CatchResponseError(\"reply lacks 'label'\")")}
    classify = run.endpoints["classify"]
    assert classify.failures == pytest.approx(classify.requests / 4, abs=3)
    assert run.endpoints["refused"].requests > 0
    assert run.endpoints["refused"].failures == 0  # the 404 it expects is a success
    assert run.endpoints["ready"].requests == api.ready_checks == 15  # once per caller (0.75 of 20), never by weight
