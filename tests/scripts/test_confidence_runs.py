"""scripts/confidence_runs.py: its cases are issue 21's, as profiles thresholds.yaml accepts, and a judged cell
folder becomes one table row that says when and on how many blocks it was decided."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loadtest.gate.reading import read_stats
from loadtest.gate.verdict import evaluate
from loadtest.records import RUN_FILE, VERDICT_FILE, write_record
from loadtest.scenario.loading import parse_scenario
from loadtest.thresholds import Slo, parse_thresholds
from scripts.confidence_runs import REPO, SCENARIO, Case, cases, cell_folder, row
from tests.loadtest import histogram_files as hist
from tests.loadtest.cell_folders import R1, run_record
from tests.loadtest.locust_csv import healthy_run

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_every_case_is_a_profile_thresholds_yaml_accepts(case: Case) -> None:
    document = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    document["profiles"] = {"case": case.profile}
    assert parse_thresholds(yaml.safe_dump(document)).profiles["case"]


def test_the_cases_are_the_issues_load_and_services() -> None:
    by_name = {case.name: case for case in cases("20s")}
    assert list(by_name) == ["n2", "n12", "n5", "leak", "healthy"]
    for name in ("n2", "n12", "n5", "leak"):
        profile = by_name[name].profile
        # 500 users at 0.4 req/s, 60 s and 120 s judged after the 1 s ramp.
        assert (profile["users"], profile["spawn_rate"], profile["run_time"], profile["max_run_time"]) == (
            500,
            500,
            "61s",
            "121s",
        )
        assert profile["scenario_file"] == "scenario.yaml"
    scenario = parse_scenario(SCENARIO, "scenario.yaml")
    # One request the service counts, one kind of user at 0.4 req/s on a regular schedule.
    assert [request.name for request in scenario.requests] == ["POST /predict"]
    assert [(kind.share, kind.rate, kind.arrivals) for kind in scenario.users.values()] == [(1.0, 0.4, "constant")]
    assert "--slow-every 12 --slow-ms 1500" in by_name["n12"].service
    assert "--leak-ms-per-s 10" in by_name["leak"].service
    assert by_name["healthy"].profile["run_time"] == "20s"
    assert "max_run_time" not in by_name["healthy"].profile


def test_a_judged_cell_is_one_row_with_when_and_on_how_many_blocks(tmp_path: Path) -> None:
    results = tmp_path / "results"
    folder = results / "cell"
    healthy_run().write(folder)
    hist.steady(62, hist.n_in_100(200, 12)).write(folder)
    record = run_record(
        R1, run_time="60s", run_time_seconds=60, warmup="none", stopped_early="decided after 15 s of judged load"
    )
    write_record(folder / RUN_FILE, record)
    verdict = evaluate(read_stats(folder), SLO, record)
    (folder / VERDICT_FILE).write_text(verdict.model_dump_json())

    case = next(case for case in cases() if case.name == "n12")
    line = row(case, cell_folder(results), 21.4)
    assert line[:3] == ["n12", "12 of every 100 replies at 1,500 ms", "breach, stopped early"]
    assert line[3:6] == ["breach", "stopped early", "3 of 12-12 x 5 s"]
    assert line[6].startswith("12.0% [")
    assert line[8] == "21"
    assert line[9].startswith("stopped early at 15 s of 60 s: P95 ")


def test_a_run_that_left_no_folder_is_a_row_that_says_so(tmp_path: Path) -> None:
    case = cases()[0]
    assert row(case, cell_folder(tmp_path / "nothing"), 3.0)[3] == "no cell folder"
