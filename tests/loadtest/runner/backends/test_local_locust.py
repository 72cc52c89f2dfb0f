"""Locust as a subprocess: its command line, its workers, its CPU warnings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from loadtest.locust_contract import LoadSettings, extract_cpu_warnings, locust_args
from loadtest.runner.backends.local_locust import locust_command
from loadtest.runner.generator import worker_processes


@pytest.mark.parametrize(
    ("cores", "api_cpus", "workers"),
    [(2, 0.5, 1), (2, 1.0, 1), (2, 2.0, 1), (4, 1.0, 3), (4, 2.0, 2), (8, 1.5, 6), (1, 0.5, 1), (16, 4.0, 12)],
)
def test_workers_use_the_cores_the_api_leaves(cores: int, api_cpus: float, workers: int) -> None:
    assert worker_processes(cores, api_cpus) == workers


def test_a_standalone_command(tmp_path: Path) -> None:
    settings = LoadSettings(200, 50.0, 15)
    command = locust_command(Path("loadtest/locustfile.py"), "http://127.0.0.1:18250", tmp_path, settings, workers=1)
    assert command == [
        sys.executable,
        "-m",
        "locust",
        "--locustfile=loadtest/locustfile.py",
        *locust_args(settings, "http://127.0.0.1:18250", tmp_path),
    ]


def test_workers_get_their_own_master_port(tmp_path: Path) -> None:
    command = locust_command(
        Path("lf.py"), "http://h", tmp_path, LoadSettings(10, 1.5, 60), workers=3, master_port=18251
    )
    assert command[-3:] == ["--processes=3", "--master-bind-port=18251", "--master-port=18251"]


def test_cpu_warnings_are_found_once_each() -> None:
    log = """\
[2026-11-28 05:10:35,012] host/INFO/locust.main: Starting Locust 2.47.0
[2026-11-28 05:10:40,000] host/WARNING/root: CPU usage above 90%! This may constrain your throughput and may even give inconsistent response time measurements! See https://docs.locust.io/en/stable/running-distributed.html for how to distribute the load over multiple CPU cores or machines
[2026-11-28 05:10:41,000] host/WARNING/locust.runners: Worker host_abc (index 0) exceeded cpu threshold (will only log this once per worker)
[2026-11-28 05:10:41,000] host/WARNING/locust.runners: Worker host_abc (index 0) exceeded cpu threshold (will only log this once per worker)
[2026-11-28 05:11:00,000] host/WARNING/locust.runners: CPU usage threshold was exceeded on workers during the test!
[2026-11-28 05:11:00,000] host/INFO/locust.main: Shutting down (exit code 0)
"""
    warnings = extract_cpu_warnings(log)
    assert len(warnings) == 3
    assert "CPU usage above 90%" in warnings[0]
    assert "exceeded cpu threshold" in warnings[1]
    assert extract_cpu_warnings("all fine\n") == []
