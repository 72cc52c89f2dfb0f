"""The process backend's service of your own in a folder of its own (a comparison's side)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from loadtest.runner.backends import BackendError
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
from loadtest.util.http import get_status

REPO = Path(__file__).resolve().parents[4]
SERVER = f"{shlex.quote(sys.executable)} -m http.server {{port}} --bind 127.0.0.1"


def test_a_view_runs_its_service_in_its_own_folder_and_shares_the_backend(tmp_path: Path) -> None:
    side = tmp_path / "side"
    side.mkdir()
    (side / "served-from-here.txt").write_text("only in the side's folder\n")
    backend = ProcessBackend(cwd=REPO, ready_timeout=30, enforce_limits=False, health_path="/served-from-here.txt")
    view = backend.serving(SERVER, side)
    assert (backend.command_template, backend.api_cwd) == (None, REPO)
    assert view.cgroups is backend.cgroups
    cell_dir = tmp_path / "cell"
    cell_dir.mkdir()
    # Ready only once the health path answers 200: the file exists in the side's folder alone.
    with view.deployment(Cell(1, 1.0, "256m"), cell_dir) as deployment:
        assert deployment.api_cwd == side
        assert deployment.locustfile == REPO / "loadtest/locustfile.py"
        assert get_status("127.0.0.1", deployment.port, "/served-from-here.txt") == 200
    assert deployment.replica_records()[0].restarts == 0
    assert backend.close() == []


def test_a_view_refuses_a_command_without_its_port(tmp_path: Path) -> None:
    backend = ProcessBackend(cwd=REPO, ready_timeout=1, enforce_limits=False)
    with pytest.raises(BackendError, match=r"must contain \{port\}"):
        backend.serving("python -m api", tmp_path)


def allowed_cpus(pid: int) -> str:
    """The CPUs the kernel lets a process run on, as /proc lists them."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list"))


@pytest.mark.parametrize("enforce_limits", [True, False])
def test_a_pinned_view_runs_its_replicas_on_its_cores(tmp_path: Path, enforce_limits: bool) -> None:
    """With limits, through the replica's cpuset cgroup; without, through the launcher's CPU affinity."""
    backend = ProcessBackend(cwd=REPO, ready_timeout=30, enforce_limits=enforce_limits, health_path="/")
    try:
        if enforce_limits and (backend.cgroups is None or backend.cgroups.cpuset_unavailable is not None):
            pytest.skip(f"replicas cannot be pinned with cgroups here: {backend.describe()}")
        core = max(os.sched_getaffinity(0))
        view = backend.pinned(Placement(frozenset({core}), frozenset({min(os.sched_getaffinity(0))}))).serving(
            SERVER, tmp_path
        )
        assert backend.placement is None
        with view.deployment(Cell(1, 0.5, "256m"), tmp_path) as deployment:
            replica = deployment.replicas[0]
            assert replica.process is not None
            assert allowed_cpus(replica.process.pid) == str(core)
            # Its Locust gets its own cores' processes, not the machine's: one, at least.
            assert deployment._workers() == 1
        limits = deployment.replica_records()[0].limits
        assert (limits.cpuset if limits is not None else None) == (str(core) if enforce_limits else None)
    finally:
        assert backend.close() == []


def test_a_duets_two_sides_deploy_the_same_cell_at_once_on_the_same_cores(tmp_path: Path) -> None:
    """The same cell twice at the same time on one placement: each side's replicas in cgroups of their own,
    named after the side, both in the placement's cpuset."""
    backend = ProcessBackend(cwd=REPO, ready_timeout=30, enforce_limits=True, health_path="/")
    try:
        cores = sorted(os.sched_getaffinity(0))
        if backend.cgroups is None or backend.cgroups.cpuset_unavailable is not None or len(cores) < 2:
            pytest.skip(f"no two cores to pin replicas to with cgroups here: {backend.describe()}")
        placement = Placement(frozenset({cores[-1]}), frozenset({cores[0]}), sharing=2)
        first, second = (backend.pinned(placement, role).serving(SERVER, tmp_path) for role in ("base", "head"))
        cell = Cell(1, 0.5, "256m")
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        with first.deployment(cell, tmp_path / "a") as one, second.deployment(cell, tmp_path / "b") as other:
            names = [replica.cgroup.name for replica in (*one.replicas, *other.replicas) if replica.cgroup is not None]
            assert names == [f"{cell.name}-base-replica-0", f"{cell.name}-head-replica-0"]
            pids = [replica.process.pid for replica in (*one.replicas, *other.replicas) if replica.process is not None]
            assert [allowed_cpus(pid) for pid in pids] == [str(cores[-1]), str(cores[-1])]
    finally:
        assert backend.close() == []
