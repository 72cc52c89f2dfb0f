"""Locust's side of the contract (loadtest/locust_contract.py): its flags, its files, its CPU warnings."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from loadtest.locust_contract import (
    LoadSettings,
    WebSettings,
    cpu_warnings_in,
    csv_paths,
    extract_cpu_warnings,
    locust_args,
    locust_environment,
    locust_web_args,
)
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


def test_a_web_ui_session_prefills_the_form_and_writes_the_csvs_of_the_whole_session() -> None:
    args = locust_web_args(WebSettings(users=200, spawn_rate=50.0, port=18089), "http://api:8000", Path("/r/c"))
    flags = dict(arg.removeprefix("--").partition("=")[::2] for arg in args)
    # Without --headless, -u and -r only pre-fill the start form; no run time unless asked for.
    assert "headless" not in flags
    assert "run-time" not in flags
    assert (flags["host"], flags["users"], flags["spawn-rate"]) == ("http://api:8000", "200", "50")
    assert (flags["web-host"], flags["web-port"]) == ("127.0.0.1", "18089")
    assert flags["csv"] + "_stats.csv" == str(csv_paths(Path("/r/c"))["stats"])
    assert "csv-full-history" in flags
    assert flags["exit-code-on-error"] == "0"


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
def test_the_web_ui_flags(settings: WebSettings, bind: tuple[str, int] | None, expected: list[str]) -> None:
    flags = locust_web_args(settings, "http://api:8000", PurePosixPath("/results"), bind)
    assert [flag for flag in flags if flag.startswith(("--run-time", "--web-"))] == expected


def test_a_web_ui_session_hands_the_scenario_and_warmup_to_locust() -> None:
    web = WebSettings(10, 1.0, warmup="spawn")
    load = LoadSettings(10, 1.0, 60, warmup="spawn")
    assert locust_environment(web) == locust_environment(load)
