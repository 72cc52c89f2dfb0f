"""Recording inside real Locust processes (loadtest/loadgen/locust_users.py, locust_hooks.py) against the
reference service: the histogram file a lone Locust and a master with two workers leave, read back."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest.latency.recording import FILE_NAME, read_recording
from loadtest.runner.linux.sockets import free_port
from tests.waiting import answers_ok, wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LOCUSTFILE = Path(__file__).with_name("paced_locustfile.py")
REFERENCE = ROOT / "scripts" / "reference_service.py"


@pytest.fixture
def reference() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def serve(started: list[subprocess.Popen[bytes]], *flags: str) -> int:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(REFERENCE), "--port", str(port), *flags])
    started.append(process)
    wait_until(lambda: answers_ok(port), 15, "the reference service's health check")
    return port


def run_locust(
    folder: Path, port: int, users: int, seconds: int, rate: float, processes: int = 1, stop_timeout: int = 2
) -> Path:
    command = [
        sys.executable, "-m", "locust", f"--locustfile={LOCUSTFILE}", "--headless",
        f"--host=http://127.0.0.1:{port}", f"--users={users}", f"--spawn-rate={users}", f"--run-time={seconds}s",
        f"--stop-timeout={stop_timeout}", f"--csv={folder / 'locust'}", "--only-summary", "--exit-code-on-error=0",
    ]  # fmt: skip
    if processes > 1:
        command.append(f"--processes={processes}")
    environment = {**os.environ, "PACED_RATE": str(rate), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=seconds + stop_timeout + 90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / FILE_NAME


def test_a_master_and_two_workers_record_the_exact_p95_of_ten_slow_replies_in_a_hundred(
    tmp_path: Path, reference: list[subprocess.Popen[bytes]]
) -> None:
    # The case: 10 of every 100 replies take 1,234 ms, the rest 5 ms; a user asks every
    # 2.5 s on average. Locust's own bucket would say 1,200 ms.
    port = serve(reference, "--fast-ms", "5", "--slow-every", "10", "--slow-ms", "1234")
    recording = read_recording(run_locust(tmp_path, port, users=300, seconds=14, rate=0.4, processes=2))

    assert recording.complete, (recording.sources, recording.closed, recording.missing)
    assert len(recording.sources) == 2  # one per worker
    seconds = recording.seconds()
    judged = recording.window(seconds[0] + 2, seconds[-1] - 3)  # the ramp and the stop left out
    total = judged.total()
    assert total.intended > 500
    assert total.completed == total.intended  # every intended request answered in the window
    corrected = total.corrected_percentiles()
    assert 1234 <= corrected.p95_ms <= 1290, corrected
    assert corrected.p50_ms < 20, corrected
    assert 1234 <= total.uncorrected_percentiles().p95_ms <= 1290
    assert set(judged.endpoints()) == {"POST /predict", "GET /"}
    assert judged.total("POST /predict").intended > 2 * judged.total("GET /").intended
    # Locust was never the limit here: almost no send left more than 50 ms late by the generator.
    assert total.late_sends(50) <= total.intended * 0.01


def test_a_stalled_service_leaves_its_held_and_unsent_requests_counted_over_every_limit(
    tmp_path: Path, reference: list[subprocess.Popen[bytes]]
) -> None:
    # Every request from 3 s after the first is held past the end of the run: a closed loop would
    # count nothing of it (each user has one request stuck, the rest never sent).
    port = serve(reference, "--fast-ms", "5", "--stall-at", "3", "--stall-for", "120")
    recording = read_recording(run_locust(tmp_path, port, users=100, seconds=10, rate=2.0))

    assert recording.complete
    assert recording.sources == {"local"}
    seconds = recording.seconds()
    stalled = recording.window(seconds[0] + 5, None).total()
    assert stalled.intended > 500
    assert stalled.completed == 0
    assert stalled.unfinished == stalled.intended
    assert stalled.not_sent > stalled.intended * 0.8  # each user has at most one request in flight
    assert stalled.over(1000) == stalled.intended
    assert math.isinf(stalled.corrected_percentiles().p95_ms)
    before = recording.window(None, seconds[0] + 2).total()
    assert before.completed > 0
    assert before.corrected_percentiles().p95_ms < 100


def test_users_waiting_for_their_first_send_stop_at_once_not_after_the_stop_timeout(
    tmp_path: Path, reference: list[subprocess.Popen[bytes]]
) -> None:
    # One send every ~17 minutes a user: every user is still waiting for its first send when the
    # run ends. Locust treats a user in on_start as running (it waits --stop-timeout for it to finish
    # its task); a paced user's first wait is Locust's own, which a stop ends at once.
    port = serve(reference)
    started = time.monotonic()
    recording = read_recording(run_locust(tmp_path, port, users=20, seconds=2, rate=0.001, stop_timeout=60))
    took = time.monotonic() - started

    assert took < 30, f"Locust took {took:.0f} s to stop 20 waiting users (its stop timeout is 60 s)"
    assert recording.complete, (recording.sources, recording.closed, recording.missing)
