"""`python -m api` as a real process: serving, start-up failures, SO_REUSEPORT, workers."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api import server
from loadtest.runner.linux.sockets import free_port
from model.artifacts import JOBLIB_FILE, METADATA_FILE, ONNX_FILE
from tests.model.test_artifacts import append_byte, remove
from tests.usage import usage_error

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"Serving \S+ \S+ on http://(?P<host>[\d.]+):(?P<port>\d+)")
PREDICT = {"features": [6.7, 3.0, 5.2, 2.3]}


def api_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "api", "--host", "127.0.0.1", *args]


def api_env(model_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "PROMETHEUS_"))}
    return {**env, "MODEL_DIR": str(model_dir), **extra}


def run_api(model_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m api` run to its end (a start-up that fails), its output captured."""
    command = api_command(*args)
    return subprocess.run(
        command, cwd=REPO, env=api_env(model_dir, **env), capture_output=True, text=True, timeout=60, check=False
    )


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health").status_code == 200
    except httpx.TransportError:  # the socket is bound before uvicorn listens on it
        return False


@contextmanager
def running_api(
    model_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start `python -m api`, wait for its "Serving ... on" line and /health, stop it after."""
    process = subprocess.Popen(
        api_command(*args),
        cwd=REPO,
        env=api_env(model_dir, **(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        base = None
        while base is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                pytest.fail(f"python -m api exited with {process.wait()} before serving")
            if match := SERVING.search(line):
                base = f"http://{match['host']}:{match['port']}"
        assert base is not None, "no 'Serving ... on' line within 60 s"
        while not healthy(base):
            assert process.poll() is None, f"python -m api exited with {process.returncode}"
            assert time.monotonic() < deadline, "/health not 200 within 60 s"
            time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_serves_every_endpoint_and_stops_cleanly_on_sigterm(model_dir: Path) -> None:
    with running_api(model_dir, "--port", "0") as (process, base):
        assert httpx.get(f"{base}/").json()["status"] == "ready"
        answer = httpx.post(f"{base}/predict", json=PREDICT).json()
        assert answer["prediction"] == "virginica"
        assert httpx.post(f"{base}/predict/batch", json={"instances": [PREDICT["features"]]}).status_code == 200
        assert "http_requests_total" in httpx.get(f"{base}/metrics").text
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        assert "server" not in httpx.get(f"{base}/").headers
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal so the exit reports it.
        assert process.wait(timeout=20) == -signal.SIGTERM
        assert process.stderr is not None
        assert "Application shutdown complete" in process.stderr.read()


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        pytest.param(append_byte(ONNX_FILE), ONNX_FILE, id="tampered-onnx"),
        pytest.param(remove(JOBLIB_FILE), JOBLIB_FILE, id="missing-joblib"),
        pytest.param(remove(METADATA_FILE), METADATA_FILE, id="missing-metadata"),
    ],
)
def test_damaged_artifacts_stop_startup_with_one_clear_line(
    model_dir: Path, damage: Callable[[Path], None], named: str
) -> None:
    damage(model_dir)
    completed = run_api(model_dir, "--port", "0")
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith(f"error: cannot start: {model_dir / named}: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "'70000' is not between 0 and 65535"),
        (["--port", "http"], "'http' is not a whole number"),
        (["--workers", "0"], "'0' is not between 1 and 64"),
        (["--log-level", "loud"], "invalid choice: 'loud'"),
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in usage_error(capsys, server.main, argv)


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize(("name", "raw"), [("API_PORT", "abc"), ("API_WORKERS", "0"), ("API_LOG_LEVEL", "loud")])
def test_bad_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, raw: str
) -> None:
    monkeypatch.setenv(name, raw)
    assert server.main([]) == 2
    assert capsys.readouterr().err.startswith(f"error: invalid environment: {name}={raw!r}: ")


def test_bad_environment_through_the_module_has_no_traceback(model_dir: Path) -> None:
    completed = run_api(model_dir, API_PORT="abc")
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: invalid environment: API_PORT='abc'")


def test_reuse_port_lets_processes_share_a_port_and_others_get_a_clear_error(model_dir: Path) -> None:
    port = str(free_port())
    with running_api(model_dir, "--port", port, "--reuse-port") as (_, base):
        with running_api(model_dir, "--port", port, "--reuse-port") as (_, same_base):
            assert base == same_base
            answers = [httpx.post(f"{base}/predict", json=PREDICT).status_code for _ in range(10)]
            assert answers == [200] * 10
        # A process that does not ask for SO_REUSEPORT cannot join them.
        completed = run_api(model_dir, "--port", port)
    assert completed.returncode == 1
    assert completed.stderr.strip() == f"error: cannot bind 127.0.0.1:{port}: Address already in use"


PREDICT_200 = {"method": "POST", "route": "/predict", "status": "200"}


def predict_count(base: str) -> float:
    text = httpx.get(f"{base}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "http_requests_total" and sample.labels == PREDICT_200:
                return sample.value
    return 0.0


def test_workers_share_the_port_and_metrics_count_every_worker(model_dir: Path, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with running_api(model_dir, "--port", "0", "--workers", "2", env=env) as (_, base):
        for _ in range(60):  # a new connection each time, so both workers get some
            assert httpx.post(f"{base}/predict", json=PREDICT).status_code == 200
        for _ in range(6):  # whichever worker answers the scrape, it sums all workers
            assert predict_count(base) == 60
        counter_files = {path.name for path in metrics_dir.glob("counter_*.db")}
    assert len(counter_files) == 2, counter_files  # both workers counted requests


def idle_connection_closed_within(base: str, seconds: float) -> bool:
    """Whether the server closes a keep-alive connection, idle after one request, within `seconds`."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        deadline = time.monotonic() + seconds
        # The reply may come in more than one segment: read until the server's FIN or the deadline.
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            try:
                if connection.recv(65536) == b"":
                    return True
            except TimeoutError:
                return False
        return False


def test_idle_keep_alive_connections_live_as_long_as_asked(model_dir: Path) -> None:
    with running_api(model_dir, "--host", "127.0.0.1", "--port", "0", "--keep-alive", "1") as (_process, base):
        assert idle_connection_closed_within(base, seconds=10)
    with running_api(model_dir, "--host", "127.0.0.1", "--port", "0") as (_process, base):
        assert not idle_connection_closed_within(base, seconds=6)  # uvicorn's own 5 s would have closed it
