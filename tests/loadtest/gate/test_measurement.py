"""Whether a run measured the service: the judged window, served against expected, who used the CPU,
and the outcome they lead to (pass, breach, inconclusive), on synthetic runs with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.gate.measurement import cpu_seconds_per_request
from loadtest.gate.reading import read_stats
from loadtest.gate.verdict import evaluate
from loadtest.records import RUN_FILE, GeneratorCapacity, Resources, write_record
from loadtest.runner.matrix import Cell
from loadtest.scenario import workshop_scenario
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import HISTORY_START, ONE_A_SECOND, ONE_LOCUST, run_record, samples
from tests.loadtest.locust_csv import HISTORY_HEADER, Entry, SyntheticRun, write_csv

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
USERS, SECONDS, RAMP = 1000, 20, 10
CELL = Cell(1, 1.0, "512m")


def record(**fields: Any) -> Any:
    """A 1 x 1.0 CPU cell's run.json: USERS users asking one request a second each, the ramp excluded."""
    values = {"users": USERS, "locust": ONE_LOCUST, "scenario": ONE_A_SECOND, "warmup": "spawn", **fields}
    return run_record(CELL, **values)


def run(served: float, p95: int = 100, mean_ms: float = 50.0) -> SyntheticRun:
    """Our three endpoints serving `served` req/s in all, USERS users, after a RAMP-second ramp."""
    entries = [
        Entry("GET", "GET /", int(served * SECONDS * 0.05), p95=p95, rps=served * 0.05, mean_ms=mean_ms),
        Entry("GET", "GET /health", int(served * SECONDS * 0.15), p95=p95, rps=served * 0.15, mean_ms=mean_ms),
        Entry("POST", "POST /predict", int(served * SECONDS * 0.8), p95=p95, rps=served * 0.8, mean_ms=mean_ms),
    ]
    return SyntheticRun(entries=entries, users=USERS, seconds=SECONDS, ramp_seconds=RAMP)


def judged(tmp_path: Path, served: float, p95: int = 100, **fields: Any) -> Any:
    stats = read_stats(run(served, p95).write(tmp_path / "cell"))
    return evaluate(stats, SLO, record(**fields))


def with_samples(api_share: float, throttled: float, locust_share: float) -> dict[str, Any]:
    return {"samples": samples(SECONDS + 1, 1.0, api_share, throttled, locust_share, start=HISTORY_START + RAMP)}


def test_the_window_starts_where_locust_reset_its_statistics(tmp_path: Path) -> None:
    stats = read_stats(run(1000).write(tmp_path / "cell"))
    assert stats.window.kind == "after spawn"
    assert stats.window.start == HISTORY_START + RAMP + 1
    assert stats.window.seconds == SECONDS - 1
    assert stats.users_in(stats.window) == USERS


def test_without_a_reset_the_whole_run_is_judged(tmp_path: Path) -> None:
    synthetic = run(1000)
    synthetic.ramp_seconds = 0
    stats = read_stats(synthetic.write(tmp_path / "cell"))
    assert (stats.window.kind, stats.window.seconds) == ("whole run", SECONDS)


def test_a_healthy_cell_passes_with_its_evidence(tmp_path: Path) -> None:
    verdict = judged(tmp_path, served=980, **with_samples(api_share=0.6, throttled=0.0, locust_share=0.4))
    assert (verdict.outcome, verdict.reasons, verdict.passed) == ("pass", [], True)
    assert verdict.delivery.expected_rps == pytest.approx(USERS)
    assert verdict.delivery.ratio == pytest.approx(0.98)
    assert verdict.resources.api_cpu_share == pytest.approx(0.6)
    assert verdict.resources.locust_busy_seconds == 0


def test_a_starved_service_breaches_naming_the_shortfall(tmp_path: Path) -> None:
    verdict = judged(tmp_path, served=290, **with_samples(api_share=1.0, throttled=0.97, locust_share=0.2))
    assert verdict.outcome == "breach"
    assert verdict.reasons == [
        "served 290 of ~1,000 req/s expected (29%, the constant-throughput target); "
        "API throttled in 97% of CFS periods, API CPU 100% of its limit"
    ]


def test_a_saturated_locust_is_inconclusive_even_when_the_slo_is_breached(tmp_path: Path) -> None:
    verdict = judged(tmp_path, served=400, p95=5000, **with_samples(api_share=0.3, throttled=0.0, locust_share=1.0))
    assert verdict.outcome == "inconclusive"
    assert verdict.reasons[0].startswith("Locust CPU 100% (limit 90%) for 21 s of 21 s")


def without_locust_cpu(shares: dict[str, Any]) -> dict[str, Any]:
    """The same samples with Locust's CPU unread (its processes could not be read back)."""
    return {"samples": [sample.model_copy(update={"locust_cpu_seconds": None}) for sample in shares["samples"]]}


@pytest.mark.parametrize(
    ("measured", "locust"),
    [
        (
            with_samples(api_share=0.2, throttled=0.0, locust_share=0.3),
            "Locust was not saturated (at most 30% of its cores)",
        ),
        (
            without_locust_cpu(with_samples(api_share=0.2, throttled=0.0, locust_share=0.3)),
            "Locust's CPU was not measured (it gave no CPU warning)",
        ),
    ],
    ids=["locust-measured", "locust-not-measured"],
)
def test_a_shortfall_nobody_explains_is_inconclusive_saying_what_is_known_of_locust(
    tmp_path: Path, measured: dict[str, Any], locust: str
) -> None:
    verdict = judged(tmp_path, served=300, **measured)
    assert verdict.outcome == "inconclusive"
    assert verdict.reasons == [
        "served 300 of ~1,000 req/s expected (30%) while the API was not CPU-limited (API throttled in 0% of CFS "
        f"periods, API CPU 20% of its limit) and {locust}: something else held the load back"
    ]


def test_the_verdict_carries_the_cells_generator_capacity(tmp_path: Path) -> None:
    capacity = GeneratorCapacity(per_worker_rps=2_800.0, workers=2, total_rps=5_600.0, users=500, seconds=8.0)
    verdict = judged(tmp_path, served=300, generator_capacity_rps=capacity, **with_samples(0.2, 0.0, 0.3))
    assert verdict.generator_capacity_rps == 5_600.0
    assert verdict.reasons[0].endswith(
        "(the users asked ~1,000 req/s, this machine's Locust delivers ~5,600 req/s of this scenario)"
    )


def test_limits_not_enforced_are_inconclusive(tmp_path: Path) -> None:
    verdict = judged(
        tmp_path, served=1000, limits_enforced=False, limits_not_enforced_reason="disabled with --no-limits"
    )
    assert verdict.outcome == "inconclusive"
    assert verdict.reasons == [
        "limits were not enforced (disabled with --no-limits): the replicas ran without their CPU and memory limits"
    ]


def test_locusts_own_warning_counts_when_its_cpu_was_not_measured(tmp_path: Path) -> None:
    warning = "[2026-11-28 04:50:30,000] vm/WARNING/root: CPU usage above 90%! This may constrain your throughput"
    verdict = judged(tmp_path, served=1000, locust_cpu_warnings=[warning])
    assert verdict.outcome == "inconclusive"
    assert "Locust warned that its CPU was above 90%" in verdict.reasons[0]


def test_a_breached_limit_is_named(tmp_path: Path) -> None:
    verdict = judged(tmp_path, served=990, p95=1200, **with_samples(api_share=0.9, throttled=0.3, locust_share=0.3))
    assert (verdict.outcome, verdict.reasons) == ("breach", ["P95 1,200 ms, limit 1,000 ms"])


def test_a_locustfile_of_your_own_skips_the_delivery_check(tmp_path: Path) -> None:
    verdict = judged(
        tmp_path, served=100, scenario=None, **with_samples(api_share=1.0, throttled=0.9, locust_share=0.1)
    )
    assert (verdict.outcome, verdict.delivery) == ("pass", None)


def test_between_waits_expect_littles_law_at_the_measured_replies(tmp_path: Path) -> None:
    workshop = workshop_scenario()  # 1-3 s and 0.1-0.5 s waits
    stats = read_stats(run(1000, mean_ms=100.0).write(tmp_path / "cell"))
    verdict = evaluate(stats, SLO, record(scenario=workshop))
    assert verdict.delivery is not None
    assert verdict.delivery.expected_rps == pytest.approx(500 / (2.0 + 0.1) + 500 / (0.3 + 0.1))
    assert verdict.delivery.basis == "Little's law at the measured response times"


def test_without_run_json_only_the_slo_is_judged(tmp_path: Path) -> None:
    stats = read_stats(run(100).write(tmp_path / "cell"))
    verdict = evaluate(stats, SLO)
    assert (verdict.outcome, verdict.delivery, verdict.resources) == ("pass", None, None)


@pytest.mark.parametrize(
    ("served", "shares", "code"),
    [
        (980, {}, exitcodes.PASSED),
        (290, {"api_share": 1.0, "throttled": 0.97, "locust_share": 0.1}, exitcodes.BREACHED),
        (400, {"api_share": 0.3, "throttled": 0.0, "locust_share": 1.0}, exitcodes.INCONCLUSIVE),
    ],
)
def test_the_gate_command_reads_run_json_and_reaches_the_same_outcome(
    tmp_path: Path, served: float, shares: dict[str, float], code: int
) -> None:
    folder = run(served).write(tmp_path / "cell")
    written = record(**with_samples(**{"api_share": 0.5, "throttled": 0.0, "locust_share": 0.3, **shares}))
    write_record(folder / RUN_FILE, written)
    assert main(["gate", str(folder)]) == code
    assert evaluate(read_stats(folder), SLO, written).outcome == {0: "pass", 1: "breach", 3: "inconclusive"}[code]
    assert (folder / "timeline.png").stat().st_size > 10_000


def fast_ramp(tmp_path: Path) -> Path:
    """A real probe's shape: 600 users started within a second, so Locust reset its statistics before
    the history's totals could fall; 2,676 requests at 527 req/s after the reset; 36 users left in the
    row Locust wrote while it stopped them."""
    folder = run(527).write(tmp_path / "cell")
    stats = read_stats(folder)
    total = stats.aggregated
    start = HISTORY_START
    rows = []
    for second, (users, requests) in enumerate(
        [(0, 0), (300, 435), (600, 496), (600, 1039), (600, 1580), (600, 2134), (36, total.requests)]
    ):
        row: dict[str, object] = dict.fromkeys(HISTORY_HEADER, 0)
        row.update({"Timestamp": start + second, "User Count": users, "Type": "", "Name": "Aggregated"})
        row.update({"Total Request Count": requests, "Total Failure Count": 0 if second < 6 else total.failures})
        row.update({"95%": 930, "Requests/s": 500})
        rows.append(row)
    write_csv(folder / "locust_stats_history.csv", HISTORY_HEADER, rows)
    return folder


def test_a_reset_within_the_first_second_still_starts_the_window_at_full_users(tmp_path: Path) -> None:
    stats = read_stats(fast_ramp(tmp_path))
    assert stats.window.kind == "whole run"  # the totals never fall
    window = stats.judged_window(after_spawn=True)
    assert (window.kind, window.start, window.seconds) == ("after spawn", HISTORY_START + 2, 4)
    assert stats.judged_window(after_spawn=False) == stats.window
    assert stats.users_in(window) == 600  # the stop row's 36 users are not part of the load


def test_a_starved_cell_with_a_fast_ramp_is_a_breach_not_a_pass(tmp_path: Path) -> None:
    verdict = evaluate(read_stats(fast_ramp(tmp_path)), SLO, record(users=600))
    assert verdict.delivery is not None
    assert verdict.delivery.users == 600
    assert verdict.delivery.ratio < 0.9
    assert verdict.outcome == "breach"
    assert verdict.reasons[0].startswith("served 527 of ~600 req/s expected (88%")


def test_cpu_per_request_is_the_cpu_used_a_second_over_the_requests_answered_a_second() -> None:
    window = Resources(
        seconds=10, api_cpu_share=0.9, api_throttled_share=0.5, locust_peak_cpu=0.4, locust_busy_seconds=0
    )
    assert cpu_seconds_per_request(window, api_cpus=0.5, served_rps=900) == pytest.approx(0.45 / 900)
    assert cpu_seconds_per_request(window, api_cpus=2.0, served_rps=900) == pytest.approx(1.8 / 900)


@pytest.mark.parametrize(
    ("share", "served"), [pytest.param(None, 900.0, id="cpu-not-read"), pytest.param(0.9, 0.0, id="none-answered")]
)
def test_cpu_per_request_is_unknown_without_the_cpu_or_an_answered_request(share: float | None, served: float) -> None:
    window = Resources(
        seconds=10, api_cpu_share=share, api_throttled_share=None, locust_peak_cpu=None, locust_busy_seconds=None
    )
    assert cpu_seconds_per_request(window, api_cpus=0.5, served_rps=served) is None
    assert cpu_seconds_per_request(None, api_cpus=0.5, served_rps=900) is None
