"""The matrix for people (loadtest/report/matrix_summary.py): summary.md and the terminal view, warnings loud."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from loadtest.gate.run_folder import judge_folder
from loadtest.report import CellResult, collect_cell
from loadtest.report.cells import cut_short_reasons, missing_cells, mixed_runs
from loadtest.report.matrix_summary import matrix_headline, render_matrix_console, render_matrix_markdown
from loadtest.report.table import build_table
from loadtest.thresholds import Slo
from tests.loadtest import histogram_files as hist
from tests.loadtest.cell_folders import R1, R2, write_cell

PLANNED = [R1.name, R2.name]
UNENFORCED = {
    "limits_enforced": False,
    "limits_not_enforced_reason": "cannot create the cgroup v1 folder: Permission denied",
}


def _rendered(cells: list[CellResult]) -> tuple[str, str]:
    """summary.md and the console text, as `write_report` makes them."""
    table, missing = build_table(cells), missing_cells(cells)
    reasons = cut_short_reasons(cells, missing)
    markdown = render_matrix_markdown(cells, table, missing, reasons, "matrix.png")
    return markdown, render_matrix_console(table, missing, reasons, mixed_runs(cells))


def _cells(tmp_path: Path, slo: Slo, first: dict[str, Any], second: dict[str, Any] | None) -> list[CellResult]:
    specs = [(R1, first)] + ([(R2, second)] if second is not None else [])
    return [collect_cell(write_cell(tmp_path, cell, slo, planned=PLANNED, **spec)) for cell, spec in specs]


def test_a_passing_matrix(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, {}, {}))
    lines = markdown.splitlines()
    assert lines[0] == "## ✅ Performance matrix PASSED: 2 of 2 cells hold the SLO"
    assert "| r1-cpu0.5-mem512m | 5,000 | 0 | 0.00 | 500.0 | 20 | 100 | 200 | 1,000.0 | PASS | enforced |" in lines
    assert "| r1-cpu0.5-mem512m | 0 | 0 | 50% | 64 MiB | – | ok |" in lines
    assert "![requests per second, P95 and error rate per cell](matrix.png)" in lines
    assert "Backend `process`, 200 users spawning 50/s for 15s, commit `0123456789ab`." in markdown
    assert "[!WARNING]" not in markdown
    assert "[!CAUTION]" not in markdown
    assert console.startswith("✅ Performance matrix PASSED: 2 of 2 cells hold the SLO\n\ncell ")
    assert "!!!" not in console


def test_a_breach_says_which_check(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, {"p95": 5000}, {}))
    assert markdown.startswith("## ❌ Performance matrix FAILED: 1 of 2 cells breach the SLO")
    assert f"- **{R1.name}** breached: P95 5,000 ms, limit 1,000 ms" in markdown
    assert console.startswith("❌ Performance matrix FAILED")


def test_an_incomplete_matrix_says_why_and_keeps_the_cell_names(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, {"p95": 5000, "status": "interrupted"}, None))
    assert markdown.startswith("## ⚠️ Performance matrix CANNOT JUDGE: 0 of 1 cells passed, the matrix is incomplete")
    # Sentences start with a capital, the cell names stay as their folders are called.
    why = f"Cell {R1.name} was interrupted (interrupted by SIGINT). Not run: {R2.name}."
    assert f"> **Incomplete matrix.** {why}" in markdown
    assert f"| {R1.name} |" in markdown
    assert "CUT SHORT" in markdown
    assert f"Incomplete matrix: cell {R1.name} was interrupted (interrupted by SIGINT); not run: {R2.name}" in console


def test_a_failed_cell_without_figures_shows_gaps_and_its_error(tmp_path: Path, slo: Slo) -> None:
    markdown, _ = _rendered(_cells(tmp_path, slo, {"status": "failed", "csvs": False, "error": "no model\ntrace"}, {}))
    assert f"| {R1.name} | – | – | – | – | – | – | – | – | ERROR | enforced |" in markdown.splitlines()
    assert f"- **{R1.name}**: no model" in markdown


def test_limits_that_were_not_enforced_are_loud(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, UNENFORCED, {}))
    assert "> [!CAUTION]" in markdown
    assert f"> **limits_enforced: false** for {R1.name}: the replicas ran WITHOUT their CPU and memory" in markdown
    assert "Why: cannot create the cgroup v1 folder: Permission denied" in markdown
    assert "| NOT ENFORCED |" in markdown
    assert "!!! limits_enforced: false" in console


def test_a_saturated_locust_is_loud_and_named(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, {"locust_cpu_warnings": ["CPU usage above 90%!"]}, {}))
    assert f"> **Locust ran out of CPU** in {R1.name}: the load generator" in markdown
    assert f"| {R1.name} | 0 | 0 | 50% | 64 MiB | – | SATURATED |" in markdown
    assert f"| {R2.name} | 0 | 0 | 50% | 64 MiB | – | ok |" in markdown
    assert f"!!! Locust ran out of CPU in {R1.name}: the load generator" in console


def test_cells_from_different_runs_are_named(tmp_path: Path, slo: Slo) -> None:
    markdown, console = _rendered(_cells(tmp_path, slo, {"users": 1000}, {"run_id": "run-b"}))
    assert "> **These cells were not run together**, so they may not compare: users differs: " in markdown
    assert "!!! These cells were not run together: users differs" in console


@pytest.mark.parametrize(
    ("code", "results", "reasons", "headline"),
    [
        (exitcodes.PASSED, ["PASS"], [], "✅ Performance matrix PASSED: 1 of 1 cells hold the SLO"),
        (exitcodes.BREACHED, ["PASS", "FAIL", "FAIL"], [], "❌ Performance matrix FAILED: 2 of 3 cells breach the SLO"),
        (
            exitcodes.CANNOT_JUDGE,
            ["PASS", "CANNOT JUDGE"],
            [],
            "⚠️ Performance matrix CANNOT JUDGE: 1 of 2 cells passed",
        ),
        (exitcodes.CANNOT_JUDGE, [], [], "⚠️ Performance matrix CANNOT JUDGE: no cell results found"),
    ],
)
def test_matrix_headline(code: int, results: list[str], reasons: list[str], headline: str) -> None:
    import pandas as pd  # noqa: PLC0415 - the table's shape only, for this test

    assert matrix_headline(code, pd.DataFrame({"result": results}), reasons) == headline


def test_a_cell_judged_from_its_histograms_shows_its_share_over_the_p95_limit(tmp_path: Path, slo: Slo) -> None:
    folder = write_cell(tmp_path, R1, slo, planned=PLANNED)
    hist.steady(30, hist.n_in_100(200, 12)).write(folder)
    judge_folder(folder, slo)  # again, now from the histograms
    markdown, console = _rendered([collect_cell(folder)])

    row = next(line for line in markdown.splitlines() if line.startswith(f"| {R1.name} |") and "over" in line)
    assert "| 1,500; 12.0% over 1,000 ms [" in row
    assert "12.0% over 1,000 ms [" in console
