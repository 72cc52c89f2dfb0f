"""`python -m loadtest verdict`: the perf gate's check from the command line, as the workflow calls it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import R1, R2
from tests.loadtest.workflow.artifacts import CellFolders, comparison_artifact
from tests.usage import assert_cannot_judge

if TYPE_CHECKING:
    from tests.conftest import Cli


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> CellFolders:
    return CellFolders(tmp_path_factory.mktemp("cell-folders"))


def needs(perf: str = "success", compare: str = "skipped") -> str:
    """`toJSON(needs)` as GitHub writes it into the gate job's environment."""
    return json.dumps(
        {
            "plan": {"result": "success", "outputs": {"replicas": "[1,2]"}},
            "build": {"result": "success", "outputs": {"base": ""}},
            "perf": {"result": perf, "outputs": {}},
            "compare": {"result": compare, "outputs": {}},
        },
        indent=2,
    )


def test_a_passing_run_exits_0_and_writes_the_report_and_the_markdown(
    tmp_path: Path, cells: CellFolders, slo: Slo, loadtest_cli: Cli
) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo)
    done = loadtest_cli(
        "verdict",
        "--cells",
        tmp_path / "cells",
        "--out",
        tmp_path / "report",
        "--markdown",
        tmp_path / "gate.md",
        env={"LOADTEST_NEEDS": needs()},
    )
    assert done.returncode == exitcodes.PASSED, done.stdout + done.stderr
    assert done.stdout.startswith("✅ Performance matrix PASSED: 2 of 2 cells")
    assert done.stdout.endswith("the cells: every cell holds the SLO\nperf gate: passed\n")
    assert (tmp_path / "report" / "summary.md").is_file()
    assert (tmp_path / "gate.md").read_text().startswith("### ✅ perf gate passed")


def test_a_failing_run_exits_1_with_one_error_annotation_per_reason(tmp_path: Path, loadtest_cli: Cli) -> None:
    comparison_artifact(tmp_path / "comparison", None, verdict="regressed")
    done = loadtest_cli(
        "verdict",
        "--mode",
        "compare",
        "--cells",
        tmp_path / "cells",
        "--out",
        tmp_path / "report",
        "--comparison",
        tmp_path / "comparison",
        "--needs",
        needs(perf="skipped", compare="failure"),
    )
    assert done.returncode == exitcodes.BREACHED
    assert "::error::the comparison: the head regressed against the base: regressed: the reason\n" in done.stdout
    assert done.stdout.endswith("perf gate: failed\n")


def test_without_the_jobs_results_it_cannot_judge(loadtest_cli: Cli) -> None:
    done = loadtest_cli("verdict")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert "loadtest verdict: give --needs: the gate job's ${{ toJSON(needs) }}" in done.stderr


def test_jobs_results_that_are_not_the_workflows_are_named(loadtest_cli: Cli) -> None:
    done = loadtest_cli("verdict", env={"LOADTEST_NEEDS": '{"build": {"result": "done"}}'})
    assert_cannot_judge(done, "loadtest verdict: --needs: build.result is 'done', not one of")


def test_a_mode_it_does_not_decide_is_refused_naming_it(loadtest_cli: Cli) -> None:
    # A search dispatch has no gate job: its search job's exit code is the check.
    done = loadtest_cli("verdict", "--needs", needs(), env={"LOADTEST_MODE": "search"})
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert (
        "loadtest verdict: environment variable LOADTEST_MODE='search': 'search' is not one of matrix, compare"
        in done.stderr
    )
