"""The cell folders a report is made of (loadtest/report/cells.py): read, checked, compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.report import ReportError, collect_cell, find_cell_folders
from loadtest.report.cells import check_unique, cut_short_reasons, missing_cells, mixed_runs
from loadtest.results import CANNOT_JUDGE, CUT_SHORT, ERROR, FAIL, PASS
from loadtest.runner.matrix import Cell
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import R1, R2, write_cell

R3 = Cell(3, 0.5, "512m")


def test_a_judged_cell_brings_its_verdict_and_its_figures(tmp_path: Path, slo: Slo) -> None:
    cell = collect_cell(write_cell(tmp_path, R1, slo))
    assert cell.result == PASS
    assert cell.verdict is not None
    assert cell.figures == cell.verdict.figures
    assert cell.figures.requests == 5_000
    assert cell.problem is None


def test_a_breach_is_a_fail(tmp_path: Path, slo: Slo) -> None:
    cell = collect_cell(write_cell(tmp_path, R1, slo, p95=5000))
    assert cell.result == FAIL
    assert cell.verdict is not None
    assert cell.verdict.reasons == ["P95 5,000 ms, limit 1,000 ms"]


def test_a_cell_the_gate_could_not_judge_keeps_its_figures_from_the_csvs(tmp_path: Path, slo: Slo) -> None:
    folder = write_cell(tmp_path, R1, slo)
    (folder / "verdict.json").unlink()
    cell = collect_cell(folder)
    assert cell.result == CANNOT_JUDGE
    assert cell.figures is not None
    assert cell.figures.requests == 5_000
    assert cell.problem == "no verdict.json: the gate could not judge this cell"


def test_a_damaged_verdict_is_named_and_not_trusted(tmp_path: Path, slo: Slo) -> None:
    folder = write_cell(tmp_path, R1, slo)
    (folder / "verdict.json").write_text('{"passed": true}', encoding="utf-8")
    cell = collect_cell(folder)
    assert cell.result == CANNOT_JUDGE
    assert cell.problem is not None
    assert "verdict.json: not a verdict.json of this tool" in cell.problem
    assert cell.figures is not None  # read from the CSVs instead


def test_an_interrupted_cell_is_cut_short(tmp_path: Path, slo: Slo) -> None:
    cell = collect_cell(write_cell(tmp_path, R1, slo, status="interrupted"))
    assert cell.result == CUT_SHORT
    assert cell.verdict is None
    assert cell.problem == "interrupted by SIGINT"


def test_a_failed_cell_without_csvs_has_no_figures(tmp_path: Path, slo: Slo) -> None:
    cell = collect_cell(write_cell(tmp_path, R1, slo, status="failed", csvs=False, error="API replica 0 exited"))
    assert (cell.result, cell.figures, cell.problem) == (ERROR, None, "API replica 0 exited")


def test_a_folder_without_a_valid_run_json_is_not_a_cell(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ReportError, match=r"run\.json: not a run\.json of this tool"):
        collect_cell(tmp_path)


def test_cell_folders_are_the_folders_given_or_their_children(tmp_path: Path, slo: Slo) -> None:
    second, first = write_cell(tmp_path / "run", R2, slo), write_cell(tmp_path / "run", R1, slo)
    (tmp_path / "run" / "not-a-cell").mkdir()
    single = write_cell(tmp_path / "job", R3, slo)
    assert find_cell_folders([tmp_path / "run", single]) == [first, second, single]
    assert find_cell_folders([tmp_path / "run" / "not-a-cell"]) == []


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="nowhere: no such folder"):
        find_cell_folders([tmp_path / "nowhere"])


def test_planned_cells_without_a_folder_are_missing_once_each(tmp_path: Path, slo: Slo) -> None:
    planned = [R1.name, R2.name, R3.name]
    cells = [
        collect_cell(write_cell(tmp_path / job, cell, slo, planned=planned)) for job, cell in (("a", R1), ("b", R3))
    ]
    assert missing_cells(cells) == [R2.name]


def test_the_same_cell_twice_names_both_folders(tmp_path: Path, slo: Slo) -> None:
    cells = [collect_cell(write_cell(tmp_path / job, R1, slo)) for job in ("a", "b")]
    with pytest.raises(ReportError, match=f"cell {R1.name} appears twice: .*a/{R1.name} and .*b/{R1.name}"):
        check_unique(cells)


def test_why_a_matrix_is_incomplete(tmp_path: Path, slo: Slo) -> None:
    cells = [
        collect_cell(write_cell(tmp_path, R1, slo, status="interrupted")),
        collect_cell(write_cell(tmp_path, R2, slo, status="failed", csvs=False, error="Locust wrote nothing\nlog...")),
    ]
    assert cut_short_reasons(cells, [R3.name], "the run was cut short by SIGINT") == [
        "the run was cut short by SIGINT",
        f"cell {R1.name} was interrupted (interrupted by SIGINT)",
        f"cell {R2.name} failed: Locust wrote nothing",
        f"not run: {R3.name}",
    ]
    assert cut_short_reasons([collect_cell(write_cell(tmp_path / "ok", R1, slo))], []) == []


def test_cells_that_were_not_run_together_are_named(tmp_path: Path, slo: Slo) -> None:
    cells = [
        collect_cell(write_cell(tmp_path, R1, slo, git_commit="aaaaaaaaaaaa1111", users=1000, spawn_rate=50.0)),
        collect_cell(write_cell(tmp_path, R2, slo, git_commit="bbbbbbbbbbbb2222", run_id="run-b", spawn_rate=50.0)),
        collect_cell(write_cell(tmp_path, R3, slo, git_commit=None, spawn_rate=50.0)),
    ]
    assert mixed_runs(cells) == [
        f"commit differs: aaaaaaaaaaaa ({R1.name}); bbbbbbbbbbbb ({R2.name}); unknown ({R3.name})",
        f"users differs: 1000 ({R1.name}); 200 ({R2.name}, {R3.name})",
    ]


def test_separate_jobs_of_one_run_are_not_mixed(tmp_path: Path, slo: Slo) -> None:
    cells = [collect_cell(write_cell(tmp_path / job, cell, slo, run_id=job)) for job, cell in (("1", R1), ("2", R2))]
    assert mixed_runs(cells) == []
