"""What the Docker CLI tells the compose backend (loadtest/runner/backends/docker.py): limits, errors."""

from __future__ import annotations

from typing import Any

import pytest

from loadtest.runner.backends.docker import compose_error, limits_from_inspect


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
        ({"NanoCpus": 0, "CpuQuota": 150_000, "CpuPeriod": 0, "Memory": 0}, 1.5, 150_000, None, None),
        ({"NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0, "Memory": 0, "MemorySwap": 0}, None, None, None, None),
    ],
    ids=["--cpus", "--cpu-quota", "quota-default-period", "unlimited"],
)
def test_limits_from_docker_inspect(
    host: dict[str, Any], cpus: float | None, quota: int | None, memory: int | None, swap: int | None
) -> None:
    limits = limits_from_inspect({"Id": "e58897ebaeb3abcdef", "HostConfig": host})
    assert (limits.cpus, limits.cpu_quota_us, limits.memory_bytes, limits.swap_bytes) == (cpus, quota, memory, swap)
    assert limits.source == "docker inspect"
    assert limits.paths == ["e58897ebaeb3"]


def test_a_container_without_host_config_is_unlimited() -> None:
    limits = limits_from_inspect({})
    assert (limits.cpus, limits.memory_bytes, limits.paths) == (None, None, [""])


COMPOSE_V1_RLIMIT_FAILURE = """Creating network "p_default" with the default driver
Creating p_api_1 ... error

ERROR: for p_api_1  Cannot start service api: error setting rlimit type 7: operation not permitted: unknown
Encountered errors while bringing up the project.
"""


def test_compose_errors_keep_the_error_lines_and_hint_at_rlimits() -> None:
    message = compose_error(COMPOSE_V1_RLIMIT_FAILURE)
    assert message.startswith("ERROR: for p_api_1  Cannot start service api")
    assert "NOFILE_LIMIT" in message


def test_compose_errors_without_an_error_line_keep_the_last_lines() -> None:
    output = "pulling api\nsomething odd\nexit status 1\n"
    assert compose_error(output) == "pulling api something odd exit status 1"
    assert compose_error("") == "no output"
