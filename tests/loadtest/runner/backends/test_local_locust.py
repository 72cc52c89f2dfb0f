"""Locust as a subprocess of the runner (loadtest/runner/backends/local_locust.py): its command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from loadtest.locust_contract import LoadSettings, WebSettings, locust_args, locust_web_args
from loadtest.runner.backends.local_locust import locust_command, locust_web_command


def test_a_standalone_locust_runs_exactly_the_contracts_flags(tmp_path: Path) -> None:
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


def test_without_a_port_given_the_workers_get_a_free_one(tmp_path: Path) -> None:
    command = locust_command(Path("lf.py"), "http://h", tmp_path, LoadSettings(10, 1.5, 60), workers=2)
    bind, connect = (arg.partition("=")[2] for arg in command[-2:])
    assert bind == connect
    assert 1024 <= int(bind) <= 65535


def test_a_web_ui_session_prefills_the_form_and_writes_the_csvs(tmp_path: Path) -> None:
    settings = WebSettings(users=200, spawn_rate=50.0, host="127.0.0.1", port=18089)
    command = locust_web_command(Path("lf.py"), "http://127.0.0.1:18250", tmp_path, settings, workers=1)
    assert command == [
        sys.executable,
        "-m",
        "locust",
        "--locustfile=lf.py",
        *locust_web_args(settings, "http://127.0.0.1:18250", tmp_path),
    ]


def test_workers_of_a_web_ui_session_get_a_master_port(tmp_path: Path) -> None:
    command = locust_web_command(Path("lf.py"), "http://h", tmp_path, WebSettings(10, 1.5), workers=2, master_port=1)
    assert command[-3:] == ["--processes=2", "--master-bind-port=1", "--master-port=1"]


def test_a_relative_cell_folder_is_passed_to_locust_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Locust runs from the checkout: a folder relative to the caller's directory must not move.
    monkeypatch.chdir(tmp_path)
    command = locust_command(Path("lf.py"), "http://h", Path("results/cell"), LoadSettings(10, 1.5, 60), workers=1)
    assert f"--csv={tmp_path / 'results' / 'cell' / 'locust'}" in command
    assert f"--html={tmp_path / 'results' / 'cell' / 'locust_report.html'}" in command
