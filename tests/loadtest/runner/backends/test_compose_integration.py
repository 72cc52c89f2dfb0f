"""The compose backend against a real Docker daemon, under Compose v2 and v1.

Both images are built from the Dockerfile once per session (BuildKit's cache makes a rebuild
quick). A Compose version that is not installed is skipped; so is everything without Docker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from loadtest.compare.duet import duet_placement
from loadtest.exitcodes import BY_OUTCOME
from loadtest.records import RunRecord, Verdict, read_record
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import OPEN_FILES_WANTED, ComposeBackend, project_name
from loadtest.runner.backends.docker import detect_compose, probe_container
from loadtest.runner.linux.cgroup_stats import format_cpu_list
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import ComposeVersion
from tests.waiting import wait_until

# One xdist worker takes every test that drives Docker (`make test` runs the integration tests on two):
# the images a session builds are shared, and two compose projects at once would only contend for them.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("docker")]

REPO = Path(__file__).resolve().parents[4]
API_IMAGE = "inference-gate-api:test"
LOADTEST_IMAGE = "inference-gate-loadtest:test"
CELL = Cell(replicas=2, cpus=0.5, memory="512m")


DOCKER = os.environ.get("DOCKER", "docker")
BUILDX_MISSING = "buildx component is missing"
"""The client that builds the images, as `make e2e-docker DOCKER=...` (a client without buildx needs
its own built-in BuildKit: Debian's /usr/bin/docker 20.10)."""


def docker(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKER, *arguments], capture_output=True, text=True, timeout=timeout, check=False)


def docker_problem() -> str | None:
    """Why Docker cannot be used here (None: it can)."""
    if shutil.which(DOCKER) is None:
        return "Docker is not installed"
    if docker("info").returncode != 0:
        return "the Docker daemon does not answer (`docker info` failed)"
    return None


@pytest.fixture(params=["v2", "v1"])
def compose(request: pytest.FixtureRequest) -> ComposeVersion:
    """Each Compose version in turn; skipped where it (or Docker) is absent."""
    version: ComposeVersion = request.param
    if problem := docker_problem():
        pytest.skip(problem)
    try:
        detect_compose(version)
    except BackendError as error:
        pytest.skip(str(error))
    return version


@pytest.fixture(scope="session")
def images() -> None:
    """Both images of this checkout, built as `make build` builds them (scripts/build_images.sh)."""
    if problem := docker_problem():
        pytest.skip(problem)
    result = subprocess.run(
        ["bash", "scripts/build_images.sh"],
        cwd=REPO,
        env={**os.environ, "DOCKER": DOCKER, "API_IMAGE": API_IMAGE, "LOADTEST_IMAGE": LOADTEST_IMAGE},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if result.returncode != 0 and BUILDX_MISSING in result.stderr:
        # A client of Docker 23+ builds with BuildKit only through buildx; the Dockerfile needs
        # BuildKit (RUN --mount), so no build is possible with this client, not a failure of ours.
        pytest.skip(
            f"{DOCKER} cannot build with BuildKit (its buildx component is missing): set DOCKER to a client that can"
        )
    assert result.returncode == 0, f"building the images failed:\n{result.stderr[-3000:]}"


def daemon_open_files() -> int:
    """What a container gets from this daemon as its hard open-files limit, asked directly."""
    text = docker("run", "--rm", "--entrypoint", "sh", API_IMAGE, "-c", "ulimit -Hn").stdout.strip()
    return sys.maxsize if text == "unlimited" else int(text)


def project_containers(project: str, service: str = "api") -> list[str]:
    """Names of a Compose project's containers of `service`, running or not."""
    result = docker(
        "ps",
        "--all",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
        "--format",
        "{{.Names}}",
    )
    return sorted(result.stdout.split())


def wait_for(condition: Callable[[], bool], timeout: float, what: str, run: subprocess.Popen[str]) -> None:
    """Poll `condition` until it holds; fail, with the runner's output, if it does not in time or the runner exits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if run.poll() is not None or time.monotonic() > deadline:
            run.kill()
            _, err = run.communicate()
            pytest.fail(f"{what}: not seen within {timeout:g} s (runner exit {run.returncode}):\n{err[-3000:]}")
        time.sleep(0.5)


def aggregated_requests(history: Path) -> int:
    """Requests so far, from the last Aggregated row of Locust's stats history (0 before there is one)."""
    try:
        frame = pd.read_csv(history)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0
    rows = frame[frame["Name"] == "Aggregated"]
    return int(rows["Total Request Count"].iloc[-1]) if len(rows) else 0


def first_request_second(history: Path) -> int:
    """The second of the first Aggregated row with a request, from Locust's stats history."""
    frame = pd.read_csv(history)
    rows = frame[(frame["Name"] == "Aggregated") & (frame["Total Request Count"] > 0)]
    return int(rows["Timestamp"].iloc[0])


@pytest.fixture
def backend_for(compose: ComposeVersion, images: None) -> Callable[[str], ComposeBackend]:
    """Opens a compose backend with the chosen Compose and the given API image."""

    def make(api_image: str) -> ComposeBackend:
        return ComposeBackend(
            compose_file=REPO / "loadtest" / "container" / "docker-compose.ci.yaml",
            api_image=api_image,
            loadtest_image=LOADTEST_IMAGE,
            ready_timeout=120,
            locust_workers=1,
            cwd=REPO,
            compose=compose,
        )

    return make


def test_a_dead_replica_stays_in_view_of_supervision_and_readiness(
    backend_for: Callable[[str], ComposeBackend], tmp_path: Path
) -> None:
    with backend_for(API_IMAGE).deployment(CELL, tmp_path) as deployment:
        victim = deployment.containers[0]
        assert docker("kill", victim.id).returncode == 0
        wait_until(
            lambda: docker("inspect", "--format", "{{.State.Status}}", victim.id).stdout.strip() == "exited",
            60,
            f"{victim.name} exited after docker kill",
            interval=0.2,
        )
        assert deployment.supervise() == [f"API container {victim.name} exited with code 137"]
        with pytest.raises(BackendError, match=f"API container {victim.name} exited with code 137 before it was"):
            deployment.wait_ready(timeout=60)
        records = {record.name: record for record in deployment.replica_records()}
        assert len(records) == CELL.replicas
        assert records[victim.name].exit_codes == [137]
    assert project_containers(deployment.project) == []


def test_the_open_files_limit_is_the_daemons_where_that_is_lower(
    backend_for: Callable[[str], ComposeBackend], tmp_path: Path
) -> None:
    backend = backend_for(API_IMAGE)
    expected = min(OPEN_FILES_WANTED, daemon_open_files())
    assert backend.open_files_limit == expected
    assert f"open files per container: {expected}" in backend.describe()
    # The cell comes up with it (a limit above the daemon's makes `up` fail with "error setting rlimit").
    with backend.deployment(Cell(replicas=1, cpus=0.5, memory="512m"), tmp_path) as deployment:
        (container,) = deployment.containers
        ulimits = {u["Name"]: u for u in container.document["HostConfig"]["Ulimits"]}
        assert (ulimits["nofile"]["Soft"], ulimits["nofile"]["Hard"]) == (expected, expected)


def test_a_replica_killed_mid_run_is_recorded_and_the_run_goes_on(
    compose: ComposeVersion, images: None, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    load = ["--users", "20", "--spawn-rate", "10", "--run-time", "25s", "--locust-workers", "1"]
    cell = ["--replicas", str(CELL.replicas), "--cpus", "0.5", "--memory", CELL.memory]
    image_flags = ["--image", API_IMAGE, "--loadtest-image", LOADTEST_IMAGE]
    argv = [sys.executable, "-m", "loadtest", "run", "--backend", "compose", "--compose", compose, *image_flags, *cell]
    argv += [*load, "--out", str(out)]
    run = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    project = project_name(CELL, run.pid)
    history = out / CELL.name / "locust_stats_history.csv"
    wait_for(lambda: aggregated_requests(history) > 0, 240, "Locust's first requests", run)
    victim = project_containers(project)[0]
    assert docker("kill", victim).returncode == 0
    at_kill = aggregated_requests(history)
    _, err = run.communicate(timeout=300)

    record = read_record(out / CELL.name / "run.json", RunRecord)
    assert record.status == "completed"
    # However Locust ended (its run time, or stopped once the cell's looks decided: SIGINT, Locust's
    # Ctrl-C), it wrote its HTML report.
    assert (out / CELL.name / "locust_report.html").stat().st_size > 0
    # Judged either way (the kill's failed requests may or may not reach 1%), and the exit code says which.
    verdict = read_record(out / CELL.name / "verdict.json", Verdict)
    assert run.returncode == BY_OUTCOME[verdict.outcome], err
    assert aggregated_requests(history) > at_kill, "no request was served after the kill"
    replicas = {replica.name: replica for replica in record.replica_records}
    assert len(replicas) == CELL.replicas, sorted(replicas)
    killed = replicas[victim]
    assert (killed.exit_codes, killed.oom_killed, killed.restarts) == ([137], False, 0)
    (survivor,) = [replica for name, replica in replicas.items() if name != victim]
    assert (survivor.exit_codes, survivor.oom_killed) == ([], False)
    assert f"API container {victim} exited with code 137" in err
    for replica in replicas.values():
        assert replica.limits is not None
        assert (replica.limits.memory_bytes, replica.limits.swap_bytes) == (CELL.memory_bytes, 0)
    assert record.limits_enforced, record.limits_not_enforced_reason
    assert record.locust is not None
    assert record.locust.open_files_limit == min(OPEN_FILES_WANTED, daemon_open_files())


# Minutes (two duet blocks of two phases, each a Compose project per side, under each Compose version):
# `make test-slow`. Its seams are unit tests: the override and the views (test_compose_placement.py), the
# design on Docker's CPUs (tests/loadtest/compare/test_lab.py), duet_view (tests/loadtest/compare/test_trials.py).
@pytest.mark.slow
def test_a_compose_comparison_runs_as_a_duet_on_the_cpus_it_planned(
    compose: ComposeVersion, images: None, tmp_path: Path
) -> None:
    out = tmp_path / "comparison"
    argv = [sys.executable, "-m", "loadtest", "compare", "--backend", "compose", "--compose", compose]
    argv += ["--base", API_IMAGE, "--head", API_IMAGE, "--loadtest-image", LOADTEST_IMAGE, "--design", "duet"]
    argv += ["--trials", "2", "--run-time", "10s", "--load-time", "10s", "--seed", "11", "--replicas", "1"]
    argv += ["--cpus", "0.5", "--memory", "512m", "--out", str(out)]
    run = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, stderr = run.communicate(timeout=900)
    document = json.loads((out / "comparison.json").read_text())
    assert document["design"] == "duet", stderr[-3000:]
    cpus = probe_container(API_IMAGE).cpus  # what a container may run on: the CPUs the duet is planned on
    assert cpus is not None
    planned = duet_placement(cpus, Cell(1, 0.5, "512m"))
    assert planned is not None
    replicas, locust = format_cpu_list(planned.replicas), format_cpu_list(planned.locust)
    assert f"on CPU {replicas}" in document["design_reason"]
    trials = document["trials"]
    pairs = {(trial["block"], trial["phase"]) for trial in trials}
    assert len(pairs) >= 4, stderr[-3000:]  # two blocks of two phases at least (a dropped block is replaced)
    for trial in trials:
        assert (trial["cores"], trial["locust_cores"]) == (replicas, locust)
        record = read_record(out / trial["folder"] / "run.json", RunRecord)
        # Docker applied the cpusets: the replicas' read back here, Locust's checked by the backend (a Locust
        # container off its CPUs leaves the limits not enforced). Whether the gate found a trial steady is the
        # machine's business, not this test's.
        assert record.limits_enforced, record.limits_not_enforced_reason
        assert [replica.limits.cpuset for replica in record.replica_records if replica.limits] == [replicas]
        if trial["figures"] is not None:
            assert trial["cpu_ms_per_request"] > 0, trial["folder"]  # from the containers' cgroups
    for pair in pairs:
        both = [trial for trial in trials if (trial["block"], trial["phase"]) == pair]
        assert sorted(trial["role"] for trial in both) == ["base", "head"]
        # Their loads started together: each side's first request in the same second, give or take one.
        first = [first_request_second(out / trial["folder"] / "locust_stats_history.csv") for trial in both]
        assert abs(first[0] - first[1]) <= 1, (pair, first)
    for trial in trials:  # each side's projects its own, the two of a block at once
        assert f"-p loadtest{run.pid}-{trial['role']}-" in (out / trial["folder"] / "compose.log").read_text()
    assert docker("ps", "--all", "--quiet", "--filter", f"name=loadtest{run.pid}").stdout.strip() == ""
