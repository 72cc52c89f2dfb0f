"""Locust as a subprocess: its command line, its workers, its CPU warnings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from loadtest.locust_contract import LoadSettings, WebSettings, extract_cpu_warnings, locust_args, locust_web_args
from loadtest.runner.backends.local_locust import locust_command, locust_web_command
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


def test_a_web_ui_session_prefills_the_form_and_writes_the_csvs(tmp_path: Path) -> None:
    settings = WebSettings(users=200, spawn_rate=50.0, host="127.0.0.1", port=18089)
    command = locust_web_command(Path("lf.py"), "http://127.0.0.1:18250", tmp_path, settings, workers=1)
    assert command == [
        sys.executable,
        "-m",
        "locust",
        "--locustfile=lf.py",
        "--host=http://127.0.0.1:18250",
        "--users=200",
        "--spawn-rate=50",
        "--stop-timeout=10",
        f"--csv={tmp_path / 'locust'}",
        "--csv-full-history",
        "--web-host=127.0.0.1",
        "--web-port=18089",
        "--exit-code-on-error=0",
    ]
    # Without --headless, -u and -r only pre-fill the start form; no run time unless asked for.
    assert "--headless" not in command
    assert not any(flag.startswith("--run-time") for flag in command)


@pytest.mark.parametrize(
    ("settings", "bind", "expected"),
    [
        (
            WebSettings(10, 1.0, run_time_seconds=90),
            None,
            ["--run-time=90s", "--web-host=127.0.0.1", "--web-port=8089"],
        ),
        (WebSettings(10, 1.0, host="0.0.0.0", port=9000), None, ["--web-host=0.0.0.0", "--web-port=9000"]),
        (WebSettings(10, 1.0, port=9000), ("0.0.0.0", 8089), ["--web-host=0.0.0.0", "--web-port=8089"]),
    ],
)
def test_web_flags(settings: WebSettings, bind: tuple[str, int] | None, expected: list[str]) -> None:
    flags = locust_web_args(settings, "http://api:8000", Path("/results"), bind)
    assert [flag for flag in flags if flag.startswith(("--run-time", "--web-"))] == expected


def test_workers_of_a_web_ui_session_get_a_master_port(tmp_path: Path) -> None:
    command = locust_web_command(Path("lf.py"), "http://h", tmp_path, WebSettings(10, 1.5), workers=2, master_port=1)
    assert command[-3:] == ["--processes=2", "--master-bind-port=1", "--master-port=1"]


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
