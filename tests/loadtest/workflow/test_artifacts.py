"""Each cell's and the comparison's newest attempt among the artifacts the gate job downloads."""

from __future__ import annotations

from pathlib import Path

from loadtest.thresholds import Slo
from loadtest.workflow.artifacts import CELL_ARTIFACT, cell_artifact_name, newest_cells, newest_comparison
from tests.loadtest.cell_folders import R1, R2
from tests.loadtest.workflow.artifacts import CellFolders, comparison_artifact


def test_the_newest_attempt_of_each_cell_is_kept_by_number_not_by_name(
    tmp_path: Path, cells: CellFolders, slo: Slo
) -> None:
    for attempt in (1, 2, 10, 9):
        cells.artifact(tmp_path, R2, attempt, slo)
    cells.artifact(tmp_path, R1, 1, slo)
    found = newest_cells(tmp_path)
    assert {replicas: artifact.attempt for replicas, artifact in found.newest.items()} == {1: 1, 2: 10}
    assert found.newest[2].cells == (tmp_path / "perf-r2-attempt-10" / R2.name,)
    assert sorted(artifact.attempt for artifact in found.older if artifact.attempt) == [1, 2, 9]


def test_one_artifact_alone_is_extracted_into_the_folder_itself_and_known_by_its_run_json(
    tmp_path: Path, cells: CellFolders, slo: Slo
) -> None:
    folder = cells.artifact(tmp_path, R2, None, slo)
    found = newest_cells(tmp_path)
    assert list(found.newest) == [2]
    assert (found.newest[2].attempt, found.newest[2].cells) == (None, (folder,))


def test_an_artifact_without_a_cell_is_kept_empty_and_foreign_folders_are_named(tmp_path: Path) -> None:
    (tmp_path / cell_artifact_name(1, 3) / "calibration").mkdir(parents=True)
    (tmp_path / "perf-r1-no-results").mkdir()
    found = newest_cells(tmp_path)
    assert (found.newest[1].attempt, found.newest[1].cells) == (3, ())
    assert found.foreign == [tmp_path / "perf-r1-no-results"]


def test_nothing_downloaded_is_no_cell(tmp_path: Path) -> None:
    assert newest_cells(tmp_path / "absent").newest == {}
    assert newest_comparison(tmp_path / "absent").newest == {}


def test_the_artifact_names_are_the_ones_the_pattern_reads() -> None:
    assert cell_artifact_name(2, 1) == "perf-r2-attempt-1"
    assert CELL_ARTIFACT.fullmatch("perf-r02-attempt-1") is None  # no name the workflow makes


def test_the_newest_comparison_wins_and_a_lone_one_is_the_folder_itself(tmp_path: Path) -> None:
    comparison_artifact(tmp_path / "two", 1, verdict="regressed")
    newest = comparison_artifact(tmp_path / "two", 2)
    assert newest_comparison(tmp_path / "two").newest[0].folder == newest
    comparison_artifact(tmp_path / "one", None)
    assert newest_comparison(tmp_path / "one").newest[0].folder == tmp_path / "one"
