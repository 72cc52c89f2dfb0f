"""The compose backend's pure parts (loadtest/runner/backends/compose.py): the cell's environment,
project names, limits checks and the run.json entry of a container."""

from __future__ import annotations

import os
from pathlib import Path

from loadtest.locust_contract import LoadSettings
from loadtest.records import ReplicaLimits
from loadtest.runner.backends.compose import ApiContainer, compose_environment, limits_mismatch, project_name
from loadtest.runner.matrix import Cell
from loadtest.scenario import Scenario

CELL = Cell(replicas=2, cpus=0.5, memory="512m")


def test_the_environment_of_a_cell(tmp_path: Path) -> None:
    env = compose_environment(
        CELL, LoadSettings(10000, 500.0, 120), tmp_path / "cell", "me/api:1", "me/lt:1", workers=3
    )
    assert env == {
        "API_IMAGE": "me/api:1",
        "API_REPLICAS": "2",
        "API_CPUS": "0.5",
        "API_MEMORY": "512m",
        "LOADTEST_IMAGE": "me/lt:1",
        "LOCUST_WORKERS": "3",
        "LOCUST_USERS": "10000",
        "LOCUST_SPAWN_RATE": "500",
        "LOCUST_RUN_TIME": "120s",
        "RESULTS_DIR": str((tmp_path / "cell").resolve()),
        # Locust in the container writes the results as the user who runs the tests, so they can be removed.
        "LOADTEST_UID": str(os.getuid()),
        "LOADTEST_GID": str(os.getgid()),
        "LOADTEST_SCENARIO": Scenario().to_env(),
        "LOCUST_RESET_STATS": "false",
    }


def test_a_relative_results_folder_is_made_absolute_for_docker() -> None:
    env = compose_environment(CELL, LoadSettings(1, 0.5, 5), Path("results/cell"), "a", "b", workers=1)
    assert Path(env["RESULTS_DIR"]).is_absolute()
    assert env["LOCUST_SPAWN_RATE"] == "0.5"


def test_project_names_are_valid_and_unique_per_run() -> None:
    assert project_name(CELL, 4242) == "loadtest4242-r2-cpu0_5-mem512m"
    assert project_name(CELL, 1) != project_name(CELL, 2)


def _limits(cpus: float | None, memory: int | None) -> ReplicaLimits:
    return ReplicaLimits(
        source="docker inspect", cpus=cpus, cpu_quota_us=None, cpu_period_us=None, memory_bytes=memory, swap_bytes=None
    )


def test_limits_that_docker_did_not_apply_are_named() -> None:
    assert limits_mismatch(CELL, _limits(0.5, 512 * 1024**2)) is None
    assert limits_mismatch(CELL, _limits(0.505, 512 * 1024**2)) is None  # rounding of NanoCpus
    assert limits_mismatch(CELL, _limits(None, 512 * 1024**2)) == "Docker reports None CPUs instead of 0.5"
    assert limits_mismatch(CELL, _limits(1.0, 512 * 1024**2)) == "Docker reports 1.0 CPUs instead of 0.5"
    assert limits_mismatch(CELL, _limits(0.5, None)) == (
        "Docker reports a memory limit of None bytes instead of 536870912"
    )


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
