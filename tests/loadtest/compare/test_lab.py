"""What a comparison may pin its sides to on the backend that serves them (loadtest/compare/lab.py), and the
design that follows: the compose backend opened against a scripted `docker` (the Docker CLI is its seam)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadtest.compare.duet import DesignError, Pinning, choose_design
from loadtest.compare.lab import backend_pinning
from loadtest.runner.backends.process import ProcessBackend
from loadtest.runner.matrix import Cell
from tests.loadtest.runner.backends.scripted_docker import INFO, open_compose, scripted_docker

CELL = Cell(1, 0.5, "512m")


def test_the_compose_backend_pins_to_the_cpus_a_container_may_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_docker(tmp_path / "bin", monkeypatch, probe="1048576\n2-3\n")
    pinning = backend_pinning(open_compose(tmp_path))
    assert pinning == Pinning(frozenset({2, 3}))
    design = choose_design("auto", pinning, CELL)
    assert design.name == "duet"
    assert design.placement is not None
    assert (design.placement.replicas, design.placement.locust) == (frozenset({3}), frozenset({2}))


def test_a_docker_daemon_without_cpuset_runs_interleaved_blocks_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_docker(tmp_path / "bin", monkeypatch, info={**INFO, "CPUSet": False, "CgroupVersion": "2"})
    pinning = backend_pinning(open_compose(tmp_path))
    why = (
        "the sides cannot be pinned to cores: the Docker daemon cannot pin containers to CPUs (docker info: CPUSet "
        "False; cgroup v2 without the cpuset controller)"
    )
    assert choose_design("auto", pinning, CELL).why == f"interleaved blocks, not a duet: {why}"
    with pytest.raises(DesignError, match="--design duet cannot run here: the sides cannot be pinned to cores: the"):
        choose_design("duet", pinning, CELL)


def test_the_process_backend_without_limits_pins_by_this_process_affinity(tmp_path: Path) -> None:
    backend = ProcessBackend(tmp_path, ready_timeout=5, enforce_limits=False)
    assert backend_pinning(backend) == Pinning(frozenset(os.sched_getaffinity(0)))


def test_no_backend_open_pins_nothing() -> None:
    assert backend_pinning(None) == Pinning(frozenset(), "no backend is open")
