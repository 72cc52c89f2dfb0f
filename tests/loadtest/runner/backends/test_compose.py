"""The compose backend's pure parts: the env contract, docker inspect and docker stats parsing, choosing Compose."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from loadtest.locust_contract import LoadSettings
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import compose_environment, limits_mismatch, project_name
from loadtest.runner.backends.docker import compose_error, detect_compose, limits_from_inspect
from loadtest.runner.matrix import Cell
from loadtest.scenario import Scenario
from loadtest.util.units import parse_stats_size as parse_size

CELL = Cell(replicas=2, cpus=0.5, memory="512m")


def test_the_environment_contract(tmp_path: Path) -> None:
    env = compose_environment(
        CELL, LoadSettings(10000, 500.0, 120), tmp_path / "cell", "me/api:1", "me/lt:1", workers=3, open_files=20000
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
        "LOADTEST_UID": env["LOADTEST_UID"],
        "LOADTEST_GID": env["LOADTEST_GID"],
        "NOFILE_LIMIT": "20000",
        "LOADTEST_SCENARIO": Scenario().to_env(),
        "LOCUST_RESET_STATS": "false",
    }
    assert env["LOADTEST_UID"].isdigit()
    assert env["LOADTEST_GID"].isdigit()


def test_project_names_are_valid_and_unique_per_run() -> None:
    assert project_name(CELL, 4242) == "loadtest4242-r2-cpu0_5-mem512m"
    assert project_name(CELL, 1) != project_name(CELL, 2)


@pytest.mark.parametrize(
    ("host", "cpus", "quota", "memory", "swap"),
    [
        (
            {"NanoCpus": 500_000_000, "CpuQuota": 0, "CpuPeriod": 0, "Memory": 536870912, "MemorySwap": 1073741824},
            0.5,
            50_000,
            536870912,
            536870912,
        ),
        (
            {"NanoCpus": 0, "CpuQuota": 100_000, "CpuPeriod": 100_000, "Memory": 1073741824, "MemorySwap": -1},
            1.0,
            100_000,
            1073741824,
            None,
        ),
        ({"NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0, "Memory": 0, "MemorySwap": 0}, None, None, None, None),
    ],
)
def test_limits_from_docker_inspect(
    host: dict, cpus: float | None, quota: int | None, memory: int | None, swap: int | None
) -> None:
    limits = limits_from_inspect({"Id": "e58897ebaeb3abcdef", "HostConfig": host})
    assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes, limits.swap_bytes) == (cpus, quota, memory, swap)
    assert limits.source == "docker inspect"
    assert limits.paths == ["e58897ebaeb3"]


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


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("57.3MiB", round(57.3 * 1024**2)),
        ("1.5GiB", round(1.5 * 1024**3)),
        ("512KiB", 512 * 1024),
        ("12MB", 12_000_000),
        ("0B", 0),
        ("n/a", None),
    ],
)
def test_docker_stats_sizes(text: str, size: int | None) -> None:
    assert parse_size(text) == size


def test_compose_errors_keep_the_error_lines_and_hint_at_rlimits() -> None:
    output = """Creating network "p_default" with the default driver
Creating p_api_1 ... error

ERROR: for p_api_1  Cannot start service api: error setting rlimit type 7: operation not permitted: unknown
Encountered errors while bringing up the project.
"""
    message = compose_error(output)
    assert message.startswith("ERROR: for p_api_1  Cannot start service api")
    assert "NOFILE_LIMIT" in message
    assert compose_error("") == "no output"
