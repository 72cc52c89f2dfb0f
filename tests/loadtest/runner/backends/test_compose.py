"""The compose backend's pure parts: the env contract, docker inspect and docker stats parsing, choosing Compose."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pytest

from loadtest.locust_contract import LoadSettings
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import ApiContainer, compose_environment, limits_mismatch, project_name
from loadtest.runner.backends.docker import detect_compose, limits_from_inspect
from loadtest.runner.matrix import Cell
from loadtest.scenario import HANDOVER_ENV, workshop_scenario

CELL = Cell(replicas=2, cpus=0.5, memory="512m")


def test_the_environment_of_a_cell(tmp_path: Path) -> None:
    env = compose_environment(
        CELL, LoadSettings(10000, 500.0, 120), tmp_path / "cell", "me/api:1", "me/lt:1", workers=3, open_files=20000
    )
    assert env == {
        "API_IMAGE": "me/api:1",
        "API_REPLICAS": "2",
        "API_CPUS": "0.5",
        "API_MEMORY": "512m",
        "API_HEALTH_PATH": "/health",
        "LOADTEST_IMAGE": "me/lt:1",
        "LOCUST_LOCUSTFILE": "loadtest/locustfile.py",
        "LOCUST_WORKERS": "3",
        "LOCUST_USERS": "10000",
        "LOCUST_SPAWN_RATE": "500",
        "LOCUST_RUN_TIME": "120s",
        "RESULTS_DIR": str((tmp_path / "cell").resolve()),
        # Locust in the container writes the results as the user who runs the tests, so they can be removed.
        "LOADTEST_UID": str(os.getuid()),
        "LOADTEST_GID": str(os.getgid()),
        "NOFILE_LIMIT": "20000",
        HANDOVER_ENV: workshop_scenario().model_dump_json(),
        "LOCUST_RESET_STATS": "false",
    }


def test_a_relative_results_folder_is_made_absolute_for_docker() -> None:
    env = compose_environment(CELL, LoadSettings(1, 0.5, 5), Path("results/cell"), "a", "b", workers=1, open_files=1024)
    assert Path(env["RESULTS_DIR"]).is_absolute()
    assert env["LOCUST_SPAWN_RATE"] == "0.5"


def test_project_names_are_valid_and_unique_per_run() -> None:
    assert project_name(CELL, 4242) == "loadtest4242-r2-cpu0_5-mem512m"
    assert project_name(CELL, 1) != project_name(CELL, 2)


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ({"NanoCpus": 500_000_000, "Memory": 536870912, "MemorySwap": 536870912}, None),
        ({"NanoCpus": 0, "Memory": 536870912, "MemorySwap": 536870912}, "Docker reports None CPUs instead of 0.5"),
        (
            {"NanoCpus": 500_000_000, "Memory": 2**30, "MemorySwap": 2**30},
            "Docker reports a memory limit of 1073741824 bytes instead of 536870912",
        ),
        # Docker's default when memswap_limit is not set: as much swap again as memory.
        (
            {"NanoCpus": 500_000_000, "Memory": 536870912, "MemorySwap": 1073741824},
            "Docker allows 536870912 bytes of swap on top of the memory limit (memswap_limit not applied)",
        ),
        (
            {"NanoCpus": 500_000_000, "Memory": 536870912, "MemorySwap": -1},
            "Docker allows unlimited swap on top of the memory limit (memswap_limit not applied)",
        ),
    ],
)
def test_limits_that_docker_did_not_apply_are_named(host: dict[str, int], problem: str | None) -> None:
    assert limits_mismatch(CELL, limits_from_inspect({"HostConfig": host})) == problem


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("v1", "Compose v1 cannot be used: `docker-compose` is not on PATH"),
        ("v2", "Compose v2 cannot be used: `docker` is not on PATH"),
        ("auto", "no Compose found: `docker` is not on PATH; `docker-compose` is not on PATH"),
    ],
)
def test_a_compose_that_is_not_there_is_named(
    wanted: Literal["auto", "v1", "v2"], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendError) as error:
        detect_compose(wanted)
    assert str(error.value) == message


def test_a_containers_run_json_entry_from_docker_inspect() -> None:
    document = {
        "Id": "e58897ebaeb3abcdef",
        "RestartCount": 1,
        "State": {"Status": "exited", "ExitCode": 137, "OOMKilled": True, "Pid": 0},
        "HostConfig": {"NanoCpus": 500_000_000, "Memory": 536870912},
    }
    record = ApiContainer(index=1, id="e58897ebaeb3abcdef", document=document).record()
    assert (record.index, record.name, record.pids, record.restarts) == (1, "e58897ebaeb3", [], 1)
    assert (record.exit_codes, record.oom_killed) == ([137], True)
    assert record.limits is not None
    assert (record.limits.cpus, record.limits.memory_bytes) == (0.5, 536870912)


def test_a_running_container_has_no_exit_code_yet() -> None:
    document = {"State": {"Status": "running", "ExitCode": 0, "Pid": 4242}, "HostConfig": {}}
    record = ApiContainer(index=0, id="abc", name="p-api-1", document=document).record()
    assert (record.name, record.pids, record.exit_codes, record.oom_killed) == ("p-api-1", [4242], [], None)
    assert ApiContainer(index=0, id="abc").record().limits is None  # not inspected yet
