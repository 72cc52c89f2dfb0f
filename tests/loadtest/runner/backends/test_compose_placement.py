"""A compose cell's containers pinned to CPUs (runner/backends/compose_placement.py) and the compose backend's
pinned and labelled views, against a scripted `docker` on PATH (the Docker CLI is the seam)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest import packaged
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import ApiContainer, project_name
from loadtest.runner.backends.compose_placement import (
    PLACEMENT_OVERRIDE_FILE,
    DockerCpus,
    cpuset_mismatch,
    docker_cpus,
    placement_override,
)
from loadtest.runner.backends.docker import limits_from_inspect, probe_container
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
from tests.loadtest.runner.backends.scripted_docker import INFO, PROBE, open_compose, scripted_docker

CELL = Cell(replicas=2, cpus=0.5, memory="512m")
SHARED = Placement(replicas=frozenset({1}), locust=frozenset({0}), sharing=2)
"""The duet's layout on two cores: both sides' replicas on CPU 1, both sides' Locusts on CPU 0."""


def backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, info: dict[str, Any] | str = INFO, probe: str = PROBE
) -> Path:
    return scripted_docker(tmp_path / "bin", monkeypatch, info, probe)


def test_the_override_pins_the_replicas_and_both_locust_services() -> None:
    assert placement_override(Placement(frozenset({0, 1}), frozenset({2, 3, 5}), sharing=2)) == {
        "services": {
            "api": {"cpuset": "0-1"},
            "locust-master": {"cpuset": "2-3,5"},
            "locust-worker": {"cpuset": "2-3,5"},
        }
    }


def test_a_pinned_cells_compose_commands_layer_the_placement_over_the_compose_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = backend(tmp_path, monkeypatch)
    cell_dir = tmp_path / "cell"
    cell_dir.mkdir()
    deployment = open_compose(tmp_path).pinned(SHARED, "head").deployment(CELL, cell_dir)
    deployment.pin()
    deployment.compose("config")
    (argv,) = [json.loads(line) for line in log.read_text().splitlines()]
    override = cell_dir / PLACEMENT_OVERRIDE_FILE
    assert argv == [
        "compose",
        "-f",
        str(packaged.COMPOSE_FILE),
        "-f",
        str(override),
        "-p",
        deployment.project,
        "config",
    ]
    assert yaml.safe_load(override.read_text()) == placement_override(SHARED)
    assert deployment.project == project_name(CELL, os.getpid(), "head")
    assert deployment.workers == 1  # one Locust worker a side on the one Locust CPU (and its master)
    assert (
        open_compose(tmp_path)
        .pinned(Placement(frozenset({3}), frozenset({0, 1, 2, 4}), 2))
        .deployment(CELL, cell_dir)
        .workers
        == 2
    )  # its share of the Locust CPUs


def test_an_unpinned_cell_adds_no_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend(tmp_path, monkeypatch)
    deployment = open_compose(tmp_path).deployment(CELL, tmp_path)
    deployment.pin()
    assert (deployment.override_files, deployment.project) == ([], project_name(CELL, os.getpid()))
    assert not (tmp_path / PLACEMENT_OVERRIDE_FILE).exists()


def test_the_views_leave_the_backend_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend(tmp_path, monkeypatch)
    compose = open_compose(tmp_path)
    view = compose.pinned(SHARED, "base")
    assert (view.tag, view.placement) == ("base", SHARED)
    assert (compose.tag, compose.placement) == (None, None)
    assert view.pinned(None).placement is None


def test_the_cpus_a_container_may_use_come_from_inside_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend(tmp_path, monkeypatch, probe="20000\n2-3\n")
    compose = open_compose(tmp_path)
    assert compose.cpus == DockerCpus(frozenset({2, 3}))
    assert (compose.open_files_limit, compose.server_version) == (20000, "20.10.24")


def test_a_daemon_without_cpuset_cannot_pin_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend(tmp_path, monkeypatch, info={**INFO, "CPUSet": False, "CgroupVersion": "2"})
    compose = open_compose(tmp_path)
    assert compose.cpus.unavailable == (
        "the Docker daemon cannot pin containers to CPUs (docker info: CPUSet False; cgroup v2 without the cpuset "
        "controller)"
    )
    with pytest.raises(BackendError, match="cannot pin a cell's containers: the Docker daemon cannot pin"):
        compose.pinned(SHARED)
    assert compose.pinned(None).placement is None  # unpinned cells still run


def test_docker_info_that_is_no_json_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend(tmp_path, monkeypatch, info="Server: 20.10")
    with pytest.raises(BackendError, match=r"`docker info --format '\{\{json \.\}\}'` printed no JSON object"):
        open_compose(tmp_path)


@pytest.mark.parametrize(
    ("info", "allowed", "expected"),
    [
        ({"NCPU": 4, "CPUSet": True}, frozenset({1, 2}), DockerCpus(frozenset({1, 2}))),
        ({"NCPU": 2, "CPUSet": True}, None, DockerCpus(frozenset({0, 1}))),
        ({"CPUSet": True}, None, DockerCpus(frozenset())),
    ],
    ids=["the-containers-cpus", "ncpu-when-unread", "nothing-known"],
)
def test_the_cpus_docker_may_pin_to(info: dict[str, Any], allowed: frozenset[int] | None, expected: DockerCpus) -> None:
    assert docker_cpus(info, allowed) == expected


def test_a_daemon_that_does_not_say_it_has_cpuset_cannot_pin() -> None:
    cpus = docker_cpus({"NCPU": 2}, None)
    assert cpus.cores == {0, 1}
    assert cpus.unavailable == (
        "the Docker daemon cannot pin containers to CPUs (docker info: CPUSet None; cgroup v? without the cpuset "
        "controller)"
    )


@pytest.mark.parametrize(
    ("printed", "open_files", "cpus"),
    [
        ("1048576\n0-1\n", 1048576, frozenset({0, 1})),
        ("unlimited\n3,5\n", None, frozenset({3, 5})),
        ("65536\n", 65536, None),
        ("65536\nall of them\n", 65536, None),
    ],
    ids=["both", "unlimited", "no-cpu-line", "unreadable-cpus"],
)
def test_the_probe_reads_open_files_then_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, printed: str, open_files: int | None, cpus: frozenset[int] | None
) -> None:
    backend(tmp_path, monkeypatch, probe=printed)
    probe = probe_container("me/api:1")
    assert (probe.open_files, probe.cpus) == (open_files, cpus)


@pytest.mark.parametrize(
    ("reported", "problem"),
    [
        ("1", None),
        ("", "Docker reports cpuset none instead of 1"),
        ("0-1", "Docker reports cpuset 0-1 instead of 1"),
    ],
)
def test_a_cpuset_docker_did_not_apply_is_named(reported: str, problem: str | None) -> None:
    assert cpuset_mismatch(frozenset({1}), {"HostConfig": {"CpusetCpus": reported}}) == problem


def test_a_containers_cpuset_is_read_back_from_docker_inspect() -> None:
    assert limits_from_inspect({"HostConfig": {"CpusetCpus": "0"}}).cpuset == "0"
    assert limits_from_inspect({"HostConfig": {"CpusetCpus": ""}}).cpuset is None


def test_each_sides_projects_are_named_apart() -> None:
    base, head = project_name(CELL, 4242, "base"), project_name(CELL, 4242, "head")
    assert (base, head) == ("loadtest4242-base-r2-cpu0_5-mem512m", "loadtest4242-head-r2-cpu0_5-mem512m")
    assert project_name(CELL, 4242) == "loadtest4242-r2-cpu0_5-mem512m"  # a run's, as the tests find it


def test_a_container_off_its_cpus_leaves_the_cells_limits_not_enforced_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend(tmp_path, monkeypatch)
    deployment = open_compose(tmp_path).pinned(SHARED, "base").deployment(CELL, tmp_path)
    on_its_cpus = {"Name": "/p-locust-worker-1", "HostConfig": {"CpusetCpus": "0"}}
    deployment.check_locust_pinned([on_its_cpus])
    assert (deployment.limits_enforced, deployment.limits_not_enforced_reason) == (True, None)
    deployment.check_locust_pinned([on_its_cpus, {"Name": "/p-locust-master-1", "HostConfig": {"CpusetCpus": ""}}])
    assert (deployment.limits_enforced, deployment.limits_not_enforced_reason) == (
        False,
        "Locust container p-locust-master-1: Docker reports cpuset none instead of 0",
    )
    # An API container's cpuset is checked with its limits once it is healthy; the first reason is kept.
    deployment.check_locust_pinned([{"Id": "0123456789abcdef", "HostConfig": {"CpusetCpus": "1"}}])
    assert (
        deployment.limits_not_enforced_reason
        == "Locust container p-locust-master-1: Docker reports cpuset none instead of 0"
    )


def test_a_replica_off_its_cpus_leaves_the_cells_limits_not_enforced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend(tmp_path, monkeypatch)
    deployment = open_compose(tmp_path).pinned(SHARED, "head").deployment(CELL, tmp_path)
    limited = {"NanoCpus": 500_000_000, "Memory": CELL.memory_bytes, "MemorySwap": CELL.memory_bytes}
    deployment.containers = [
        ApiContainer(0, "a", "p-api-1", {"HostConfig": {**limited, "CpusetCpus": "1"}}),
        ApiContainer(1, "b", "p-api-2", {"HostConfig": {**limited, "CpusetCpus": "0-1"}}),
    ]
    deployment.check_limits()
    assert (deployment.limits_enforced, deployment.limits_not_enforced_reason) == (
        False,
        "container p-api-2: Docker reports cpuset 0-1 instead of 1",
    )
