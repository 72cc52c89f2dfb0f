"""What the Docker CLI tells the compose backend (loadtest/runner/backends/docker.py): limits, errors."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.docker import compose_error, limits_from_inspect, probe_container


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


def fake_docker_on_path(folder: Path, monkeypatch: pytest.MonkeyPatch, stdout: str, code: int = 0) -> None:
    """A `docker` first on PATH that prints `stdout` and exits `code`, as the daemon's `ulimit -Hn` would."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "docker"
    script.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(stdout)}\nexit {code}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize(("printed", "limit"), [("20000\n", 20000), ("65536", 65536), ("unlimited\n", None)])
def test_the_daemons_open_files_limit_is_read_from_a_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, printed: str, limit: int | None
) -> None:
    fake_docker_on_path(tmp_path / "bin", monkeypatch, printed)
    assert probe_container("api:1").open_files == limit


@pytest.mark.parametrize(
    ("printed", "code", "message"),
    [
        ("1024k", 0, r"`ulimit -Hn` in a container of api:1 printed '1024k', not a number"),
        ("", 0, r"`ulimit -Hn` in a container of api:1 printed '', not a number"),
        (
            "Unable to find image 'api:1' locally",
            125,
            r"open-files limit \(`docker run .* api:1 .*` exited 125\): Unable",
        ),
    ],
    ids=["not-a-number", "nothing", "docker-run-fails"],
)
def test_an_open_files_limit_that_cannot_be_read_names_the_image_and_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, printed: str, code: int, message: str
) -> None:
    fake_docker_on_path(tmp_path / "bin", monkeypatch, printed, code)
    with pytest.raises(BackendError, match=message):
        probe_container("api:1")
