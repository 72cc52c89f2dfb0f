"""Locust's side of the contract (loadtest/locust_contract.py): its flags, its files, its CPU warnings."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from loadtest.locust_contract import LoadSettings, cpu_warnings_in, csv_paths, extract_cpu_warnings, locust_args
from tests.loadtest.locust_csv import REAL_RUNS

# Locust 2.47's own lines: the master's saturation warning, a worker's (logged once each), the summary.
LOCUST_LOG = """\
[2026-11-28 05:10:35,012] host/INFO/locust.main: Starting Locust 2.47.0
[2026-11-28 05:10:40,000] host/WARNING/root: CPU usage above 90%! This may constrain your throughput and may even \
give inconsistent response time measurements! See https://docs.locust.io/en/stable/running-distributed.html for how \
to distribute the load over multiple CPU cores or machines
[2026-11-28 05:10:41,000] host/WARNING/locust.runners: Worker host_abc (index 0) exceeded cpu threshold (will only \
log this once per worker)
[2026-11-28 05:10:41,000] host/WARNING/locust.runners: Worker host_abc (index 0) exceeded cpu threshold (will only \
log this once per worker)
[2026-11-28 05:11:00,000] host/WARNING/locust.runners: CPU usage threshold was exceeded on workers during the test!
[2026-11-28 05:11:00,000] host/INFO/locust.main: Shutting down (exit code 0)
"""


def test_cpu_warnings_are_found_once_each_in_order() -> None:
    warnings = extract_cpu_warnings(LOCUST_LOG)
    assert len(warnings) == 3
    assert "CPU usage above 90%" in warnings[0]
    assert "exceeded cpu threshold" in warnings[1]
    assert "threshold was exceeded on workers" in warnings[2]
    assert extract_cpu_warnings("all fine\n") == []


def test_cpu_warnings_in_a_log_file(tmp_path: Path) -> None:
    (tmp_path / "locust.log").write_text(LOCUST_LOG, encoding="utf-8")
    assert len(cpu_warnings_in(tmp_path / "locust.log")) == 3
    assert cpu_warnings_in(tmp_path / "no-locust-ran.log") == []


def test_the_csv_files_are_the_ones_locust_writes() -> None:
    for path in csv_paths(REAL_RUNS / "healthy").values():
        assert path.is_file(), path


def test_the_flags_point_locust_at_the_cell_folder() -> None:
    args = locust_args(LoadSettings(users=200, spawn_rate=50.0, run_time_seconds=90), "http://api:8000", Path("/r/c"))
    flags = dict(arg.removeprefix("--").partition("=")[::2] for arg in args)
    assert flags["csv"] + "_stats.csv" == str(csv_paths(Path("/r/c"))["stats"])
    assert Path(flags["html"]).parent == Path("/r/c")
    assert (flags["host"], flags["users"], flags["spawn-rate"], flags["run-time"]) == (
        "http://api:8000",
        "200",
        "50",
        "90s",
    )
    assert flags["exit-code-on-error"] == "0"  # the gate, not Locust, judges failed requests
    assert {"headless", "csv-full-history", "only-summary"} <= set(flags)


def test_a_fractional_spawn_rate_and_a_container_path() -> None:
    args = locust_args(LoadSettings(10, 0.5, 5), "http://h", PurePosixPath("/results"))
    assert "--spawn-rate=0.5" in args
    assert "--csv=/results/locust" in args
