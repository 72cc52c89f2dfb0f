"""The process backend's service of your own in a folder of its own (a comparison's side)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from loadtest.runner.backends import BackendError
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.matrix import Cell
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
