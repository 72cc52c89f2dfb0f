"""`python -m loadtest ui`: bad input on the command line, and a real session on the process backend (the options
themselves: tests/loadtest/ui/test_ui_options.py).

The session test drives Locust's web API as the browser does (`POST /swarm`, `GET /stats/requests`,
`POST /stop`; Locust 2.47 takes only POST for /stop) against a real 2-replica cell under
0.5 CPU and 256 MiB each, reads the resource view with `python -m loadtest stats`, checks the
verdict written after each stop, and that SIGINT leaves no process and no cgroup behind. The
compose session does the same with containers (it needs both images: `make build`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.records import STATE_FILE, LiveCell, RunRecord, Verdict, read_record
from loadtest.runner.linux.sockets import free_port
from tests.loadtest.integration import command_env, reference
from tests.loadtest.processes import Watch, assert_nothing_left, needs_cgroups, watch
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
MIB = 2**20
TEST_FILES = (
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
    "locust_report.html",
    "run.json",
    "verdict.json",
    "summary.md",
    "timeline.png",
)


def test_an_unknown_profile_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--profile", "nope"]) == exitcodes.CANNOT_JUDGE
    assert "loadtest ui: profile 'nope' is not in" in capsys.readouterr().err


def test_a_web_port_in_use_is_named_before_anything_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["ui", "--no-limits", "--replicas", "1", "--web-port", str(port), "--out", str(tmp_path)])
    assert code == exitcodes.CANNOT_JUDGE
    output = capsys.readouterr().out
    assert f"ERROR: port {port} is already in use on this machine" in output
    assert "--web-port" in output
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- a real session


@dataclass
class UiRun:
    """A `python -m loadtest ui` under test: its process, its output, Locust's web API, what it started."""

    process: subprocess.Popen[str]
    output: Path
    client: httpx.Client
    seen: Watch = field(default_factory=Watch)

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Watch its processes until `condition()` holds; fail, with its output, if it does not in time."""
        watch(self.process, self.seen, timeout=90, until=condition)
        if not condition():
            pytest.fail(f"no {what} in time; the session's output:\n{self.output.read_text()[-4000:]}")

    def verdict(self, test: Path) -> Verdict:
        """A judged test's verdict; a test that could not be judged fails with its summary and the output."""
        if not (test / "verdict.json").is_file():
            summary = (test / "summary.md").read_text() if (test / "summary.md").is_file() else "(no summary.md)"
            pytest.fail(
                f"{test.name} was not judged:\n{summary}\nthe session's output:\n{self.output.read_text()[-4000:]}"
            )
        return read_record(test / "verdict.json", Verdict)

    def sigint(self) -> int:
        """Ctrl-C, and its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=120)


@contextmanager
def ui_session(tmp_path: Path, port: int, *args: str) -> Iterator[UiRun]:
    """Start `python -m loadtest ui ARGS` with its UI on `port`; end it if the test leaves it running.

    The caller's LOADTEST_* options are dropped, so only the arguments decide the session; the
    delegated cgroup a machine may need (LOADTEST_CGROUP_PARENT) is kept.
    """
    output = tmp_path / "ui.out"
    with output.open("w") as log, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        process = subprocess.Popen(
            [sys.executable, "-m", "loadtest", "ui", "--web-port", str(port), *args],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=command_env(),
        )
        try:
            yield UiRun(process, output, client)
        finally:
            # A failed test still ends the session as Ctrl-C does (a SIGKILL would orphan its
            # containers or cgroups); only a session that does not end in time is killed.
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def answers(client: httpx.Client) -> bool:
    try:
        return client.get("/").status_code == 200
    except httpx.HTTPError:
        return False


def judged(folder: Path) -> Callable[[], bool]:
    """The gate has written its verdict there (summary.md comes last)."""
    return (folder / "summary.md").exists


def running_with(client: httpx.Client, requests: int) -> Callable[[], bool]:
    """A test is running and has made `requests` (Locust's answer may be 2 s old, from before the swarm)."""

    def check() -> bool:
        answer = client.get("/stats/requests").json()
        return bool(answer["state"] == "running" and answer["stats"][-1]["num_requests"] >= requests)

    return check


def swarm(client: httpx.Client, users: int, spawn_rate: int) -> None:
    answer = client.post("/swarm", data={"user_count": users, "spawn_rate": spawn_rate}).json()
    assert answer["success"] is True, answer


def stats_view(out: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "loadtest", "stats", str(out), "--count", "1", "--interval", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def replica_rows(view: str) -> list[str]:
    return [line for line in view.splitlines() if line.startswith("replica-")]


def cpu_used(view: str) -> float:
    """The CPU the view's replicas used, summed (0 when a row has no figure)."""
    found = [re.search(r"(\d+\.\d\d) / 0\.5 \(", row) for row in replica_rows(view)]
    return sum(float(match[1]) for match in found if match is not None)


def view_with_load(out: Path) -> str:
    """The resource view once it shows the replicas using CPU: it gives what they used over its last
    second, which right after the swarm, or between two of the kernel's accounting updates, can be 0.00."""
    latest = ""

    def loaded() -> bool:
        nonlocal latest
        latest = stats_view(out)
        return cpu_used(latest) > 0

    wait_until(loaded, 60, "the resource view showing the replicas' CPU")
    return latest


# The reference service at 5 ms of CPU a request: the start form's 30 workshop users ask ~60 req/s,
# ~0.3 CPU of the cell's 1.0, whatever the host's speed.
SESSION_SERVICE = reference(cpu_ms=5)


@pytest.mark.slow
@needs_cgroups
@pytest.mark.integration
def test_a_session_judges_every_test_started_from_the_web_api_and_sigint_leaves_nothing(tmp_path: Path) -> None:
    out, port = tmp_path / "results", free_port()
    cell_dir = out / "r2-cpu0.5-mem256m"
    cell = ("--replicas", "2", "--cpus", "0.5", "--memory", "256m", "--users", "30", "--spawn-rate", "15")
    with ui_session(tmp_path, port, "--out", str(out), "--api-command", SESSION_SERVICE, *cell) as ui:
        client = ui.client
        ui.wait_for(lambda: answers(client) and (cell_dir / STATE_FILE).exists(), "web UI")
        # The start form is pre-filled with --users and --spawn-rate.
        page = client.get("/").text
        assert re.search(r'"num_users": ?30\b', page), page[-2000:]
        assert re.search(r'"spawn_rate": ?15(\.0)?\b', page)
        state = read_record(cell_dir / STATE_FILE, LiveCell)
        assert (state.pid, state.backend, len(state.replicas)) == (ui.process.pid, "process", 2)

        # Test 1: a swarm, figures while it runs, the resource view from another process, the stop.
        swarm(client, 30, 30)
        ui.wait_for(running_with(client, 150), "running test 1")
        # The view's CPU is what the replicas used over its last second: read it until the load shows
        # (right after the swarm, or between two of the kernel's accounting updates, it can read 0.00).
        view = view_with_load(out)
        rows = replica_rows(view)
        assert len(rows) == 2, view
        for row in rows:
            cpu = re.search(r"(\d+\.\d\d) / 0\.5 \((\d+)%\)", row)
            memory = re.search(r"([\d.]+) MiB / 256 MiB \((\d+)%\)", row)
            throttled = re.search(r"\)\s+(\d+)%\s+[\d.]+ MiB /", row)
            assert cpu is not None, row
            assert memory is not None, row
            assert throttled is not None, row
            assert 0 <= int(throttled[1]) <= 100, row
            assert float(cpu[1]) <= 0.55, row  # within its quota (the kernel enforces it per 100 ms period)
            assert 5 < float(memory[1]) < 256, row
            assert row.split()[-2:] == ["0", "0"], row  # no restart, no OOM kill
        client.post("/stop")
        verdict_path = cell_dir / "test-1" / "verdict.json"
        ui.wait_for(judged(cell_dir / "test-1"), "verdict of test 1")
        first = ui.verdict(cell_dir / "test-1")
        assert first.requests >= 150
        assert first.figures.name == "Aggregated"
        for name in TEST_FILES:
            assert (cell_dir / "test-1" / name).is_file(), name
        assert "Performance gate" in (cell_dir / "test-1" / "summary.md").read_text()
        # What ran, as for a cell of `run`: the start form's load, the limits, the CPU samples the gate reads.
        record = read_record(cell_dir / "test-1" / "run.json", RunRecord)
        assert (record.status, record.users, record.spawn_rate, record.replicas) == ("completed", 30, 30, 2)
        assert record.limits_enforced is True
        assert len(record.samples) >= 3
        assert record.window is not None
        assert [replica.restarts for replica in record.replica_records] == [0, 0]

        # Test 2 gets its own folder; test 1's stays as it was.
        kept = verdict_path.read_bytes()
        swarm(client, 4, 4)
        ui.wait_for(running_with(client, 10), "running test 2")
        client.post("/stop")
        ui.wait_for(judged(cell_dir / "test-2"), "verdict of test 2")
        assert ui.verdict(cell_dir / "test-2").requests >= 10
        assert verdict_path.read_bytes() == kept

        # Test 3 is running when SIGINT comes.
        swarm(client, 4, 4)
        ui.wait_for(running_with(client, 5), "running test 3")
        # The session looks at Locust once a second: SIGINT once it has seen test 3 start.
        ui.wait_for(lambda: "test 3 started" in ui.output.read_text(), "the session seeing test 3")
        code = ui.sigint()
    said = ui.output.read_text()
    assert code == exitcodes.PASSED, said
    assert "Traceback" not in said
    assert f"test 1: {'PASS' if first.passed else 'FAIL'} — {first.requests:,} requests" in said
    assert "test 3: cut short, not judged" in said
    assert "removed their cgroups" in said
    assert not (cell_dir / "test-3").exists()
    assert not (cell_dir / STATE_FILE).exists()
    # Limits read back from the kernel while the replicas served: 0.5 CPU, 256 MiB each.
    assert len(ui.seen.api_pids) == 2
    assert set(ui.seen.limits.values()) == {(50_000, 100_000, 256 * MIB)}
    assert_nothing_left(ui.process.pid, ui.seen)


def docker_images() -> tuple[str, str]:
    """The images a compose session runs (as `make build` names them), or skip when they are not here."""
    api = os.environ.get("API_IMAGE", "inference-gate-api:local")
    locust = os.environ.get("LOADTEST_IMAGE", "inference-gate-loadtest:local")
    if shutil.which("docker") is None:
        pytest.skip("Docker is not installed")
    for image in (api, locust):
        found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False, timeout=60)
        if found.returncode != 0:
            pytest.skip(f"no image {image}: build both with `make build`")
    return api, locust


def project_containers(pid: int) -> list[str]:
    """Containers of every Compose project the session with this pid made."""
    listed = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True, timeout=60
    )
    return [name for name in listed.stdout.split() if name.startswith(f"loadtest{pid}-")]


@pytest.mark.integration
@pytest.mark.xdist_group("docker")  # beside the other Docker tests (test_compose_integration.py)
def test_a_compose_session_serves_the_masters_ui_on_this_machine_and_takes_its_project_down(tmp_path: Path) -> None:
    api_image, locust_image = docker_images()
    out, port = tmp_path / "results", free_port()
    cell_dir = out / "r1-cpu0.5-mem256m"
    images = ("--image", api_image, "--loadtest-image", locust_image)
    cell = ("--replicas", "1", "--cpus", "0.5", "--memory", "256m", "--locust-workers", "1")
    with ui_session(tmp_path, port, "--backend", "compose", "--out", str(out), *images, *cell) as ui:
        client = ui.client

        def worker_ready() -> bool:
            up = answers(client) and (cell_dir / STATE_FILE).exists()
            return up and client.get("/stats/requests").json().get("worker_count") == 1

        ui.wait_for(worker_ready, "web UI with its worker")
        state = read_record(cell_dir / STATE_FILE, LiveCell)
        assert state.backend == "compose"
        assert [replica.container_id is not None for replica in state.replicas] == [True]
        swarm(client, 10, 10)
        ui.wait_for(running_with(client, 60), "running test 1")
        view = stats_view(out)
        assert re.search(r"\d+\.\d\d / 0\.5 \(\d+%\)", view), view
        assert re.search(r"MiB / 256 MiB \(\d+%\)", view), view
        client.post("/stop")
        ui.wait_for(judged(cell_dir / "test-1"), "verdict of test 1")
        assert ui.verdict(cell_dir / "test-1").requests >= 60
        code = ui.sigint()
    said = ui.output.read_text()
    assert code == exitcodes.PASSED, said
    assert "took its Compose project down" in said
    assert project_containers(ui.process.pid) == []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as gone:
        assert not answers(gone)  # nothing publishes the port any more
