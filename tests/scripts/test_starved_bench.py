"""scripts/starved_bench.py: its cases are valid profiles, and a cell folder becomes one table row."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loadtest.runner.matrix import Cell
from loadtest.thresholds import Slo, parse_thresholds
from scripts.starved_bench import REPO, Case, cases, cell_folder, row
from tests.loadtest.cell_folders import write_cell

LOCAL = yaml.safe_load((REPO / "thresholds.yaml").read_text())["profiles"]["local"]


@pytest.mark.parametrize("case", cases(LOCAL), ids=lambda case: case.name)
def test_every_case_is_a_profile_thresholds_yaml_accepts(case: Case) -> None:
    document = yaml.safe_load((REPO / "thresholds.yaml").read_text())
    document["profiles"] = {"case": case.profile}
    assert parse_thresholds(yaml.safe_dump(document)).profiles["case"]


def test_the_reference_cases_are_asked_twice_what_limit_over_cost_serves() -> None:
    reference = {case.name: case for case in cases(LOCAL) if case.predicted_rps is not None}
    assert {name: case.predicted_rps for name, case in reference.items()} == {
        "reference-1x0.5": pytest.approx(250),
        "reference-2x0.1": pytest.approx(100),
    }
    for case in reference.values():
        assert case.predicted_rps is not None
        assert case.profile["users"] == 2 * case.predicted_rps  # each user asks 1 req/s


def test_a_cell_folder_is_one_row_with_its_outcome_and_delivery(tmp_path: Path) -> None:
    case = next(case for case in cases(LOCAL) if case.name == "reference-1x0.5")
    write_cell(tmp_path, Cell(1, 0.5, "512m"), Slo(max_error_rate=0.01, max_p95_ms=1000), stopped_early="served 9")
    name, what, outcome, served, _, _, p95, reason = row(case, cell_folder(tmp_path))
    assert (name, outcome, p95) == ("reference-1x0.5", "pass", "100")
    assert what.startswith("reference service at 2 ms, 1 x 0.5 CPU")
    assert served.endswith("(limit/cost 250)")
    assert reason == "stopped early: served 9"


def test_no_folder_says_so(tmp_path: Path) -> None:
    case = cases(LOCAL)[0]
    assert cell_folder(tmp_path / "absent") is None
    assert row(case, None)[2] == "no cell folder"
