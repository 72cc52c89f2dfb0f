"""examples/text-classifier: a service that is not ours, gated from its scenario file alone.

Its rule and its replies are checked directly; its scenario and thresholds load as a newcomer's
would; one short `run` on the process backend passes it with per-endpoint figures under the
scenario's names and the delivery check done; a body it rejects with 422 is a breach that names
the request; a scenario that cannot be used stops `run` with a message, never a traceback.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from loadtest import exitcodes
from loadtest.runner.linux.sockets import free_port
from loadtest.scenario import load_scenario
from loadtest.thresholds import load_thresholds
from tests.loadtest.processes import needs_cgroups
from tests.usage import assert_cannot_judge
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.conftest import Cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "text-classifier"
SERVICE = EXAMPLE / "service.py"
API_COMMAND = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVICE))} --port {{port}}"


def service_module() -> ModuleType:
    """service.py as a module (its folder is not a package: a team copies it, it does not import it)."""
    spec = importlib.util.spec_from_file_location("text_classifier_service", SERVICE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "label", "score"),
    [
        ("Great product, works as promised.", "positive", 1.0),
        ("Awful. It broke and support was slow!", "negative", 1.0),
        ("Nice colour, but the battery is bad.", "neutral", 0.5),
        ("Good, fast, nice, but bad.", "positive", 0.75),
        ("", "neutral", 0.5),
    ],
)
def test_the_rule_labels_a_text_by_its_sentiment_words(text: str, label: str, score: float) -> None:
    assert service_module().classify(text) == {"label": label, "score": score}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"text": "fine"}', None),
        (b'{"text": 3}', 'the body must be a JSON object with a string "text"'),
        (b'{"features": [1, 2]}', 'the body must be a JSON object with a string "text"'),
        (b'["text"]', 'the body must be a JSON object with a string "text"'),
        (b"text=fine", "the body is not JSON"),
    ],
)
def test_a_body_without_a_string_text_is_refused(body: bytes, problem: str | None) -> None:
    assert service_module().body_problem(body) == problem


def test_its_scenario_and_thresholds_load_and_name_the_same_endpoints() -> None:
    scenario = load_scenario(EXAMPLE / "scenario.yaml")
    assert scenario.health == "/v1/ready"
    assert scenario.request_names() == ["classify", "labels"]
    assert Path(str(scenario.request("classify").bodies)).is_file()  # resolved beside the scenario file
    thresholds = load_thresholds(EXAMPLE / "thresholds.yaml")
    assert set(thresholds.slo.endpoints) == set(scenario.request_names())
    assert thresholds.profiles["local"].scenario_file == "scenario.yaml"


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The example service on a free port, stopped with SIGTERM after the test (it must exit 0)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVICE), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process, port
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, said = process.communicate(timeout=10)
    assert process.returncode == 0, said


def ask(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body)
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


@pytest.mark.integration
def test_the_service_answers_its_own_paths(served: tuple[subprocess.Popen[str], int]) -> None:
    process, port = served

    def ready() -> bool:
        assert process.poll() is None, process.communicate()[1]
        try:
            return ask(port, "GET", "/v1/ready")[0] == 200
        except OSError:
            return False

    wait_until(ready, 10, "the example service's readiness")
    assert ask(port, "POST", "/v1/classify", b'{"text": "I love it"}') == (200, {"label": "positive", "score": 1.0})
    assert ask(port, "POST", "/v1/classify", b'{"txt": "I love it"}')[0] == 422
    assert ask(port, "GET", "/v1/labels") == (200, {"labels": ["negative", "neutral", "positive"]})
    assert ask(port, "GET", "/health")[0] == 404  # not the workshop's paths


def run(tmp_path: Path, *flags: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`python -m loadtest run` of the example's profile from the example's folder; the process and the out folder."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "loadtest", "run", "--api-command", API_COMMAND, "--out", str(out), *flags],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return done, out


def cell_verdict(out: Path) -> dict[str, Any]:
    (verdict,) = out.glob("*/verdict.json")
    document: dict[str, Any] = json.loads(verdict.read_text())
    return document


@pytest.mark.integration
@needs_cgroups
def test_run_passes_it_with_figures_under_the_scenarios_names(tmp_path: Path) -> None:
    # 12 s: 8 one-second blocks after the ramp, enough for every limit's bound to clear it (8 s left 4,
    # and a share of 0 read "too close to call").
    done, out = run(tmp_path, "--run-time", "12s", "--no-calibration")
    assert done.returncode == exitcodes.PASSED, done.stderr[-3000:]
    verdict = cell_verdict(out)
    assert verdict["outcome"] == "pass"
    assert {(check["name"], check["scope"]) for check in verdict["checks"]} >= {
        ("max_p95_ms", "classify"),
        ("max_p95_ms", "labels"),
        ("max_error_rate", "classify"),
    }
    assert verdict["delivery"] is not None
    assert verdict["delivery"]["ratio"] > 0.8


@pytest.mark.slow
@pytest.mark.integration
@needs_cgroups
def test_a_body_the_service_rejects_is_a_breach_that_names_the_request(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "health: /v1/ready\n"
        "requests:\n"
        "  - {name: classify, method: POST, path: /v1/classify, json: {txt: misspelt key}}\n"
        "  - {name: labels, method: GET, path: /v1/labels}\n"
        "users:\n"
        "  web: {share: 1, rate: 2, arrivals: constant}\n"
    )
    # Constant arrivals: a run this short is judged on Locust's figures, where an open loop's delivered
    # ratio is a rule, and exponential arrivals' own noise once read 89% delivered of ~250 requests,
    # inconclusive, before the 100% errors of classify could read as the breach they are.
    done, out = run(tmp_path, "--scenario", str(scenario), "--run-time", "6s", "--no-calibration")
    assert done.returncode == exitcodes.BREACHED, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    verdict = cell_verdict(out)
    assert verdict["outcome"] == "breach"
    assert any("error rate of classify " in reason for reason in verdict["reasons"]), verdict["reasons"]
    (summary,) = out.glob("*/summary.md")
    failure_rows = [line for line in summary.read_text().splitlines() if "LocustBadStatusCode(code=422)" in line]
    assert failure_rows, summary.read_text()
    assert all("| classify |" in row for row in failure_rows), failure_rows


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (
            "requests:\n  - {name: classify, method: POST, path: /v1/classify, bodies: missing.jsonl}\n"
            "users: {web: {share: 1, rate: 1}}\n",
            "request 'classify': bodies 'missing.jsonl'",
        ),
        (
            "requests:\n  - {method: GET, path: /v1/labels, timeout: 3}\nusers: {web: {share: 1, rate: 1}}\n",
            "Key 'timeout' has value 3: unknown key",
        ),
        (
            "requests:\n  - {method: GET, path: /v1/labels, weight: 0}\nusers: {web: {share: 1, rate: 1}}\n",
            "weight",
        ),
    ],
)
def test_a_scenario_that_cannot_be_used_stops_run_with_a_message(
    tmp_path: Path, scenario: str, message: str, loadtest_cli: Cli
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    thresholds = EXAMPLE / "thresholds.yaml"
    done = loadtest_cli("run", "--thresholds", thresholds, "--api-command", API_COMMAND, "--scenario", path)
    assert_cannot_judge(done, message, str(path))
