"""The perf gate's decision, case by case: the jobs' results and the artifacts in tmp_path.

Each case is one path a run can take on GitHub (a re-run of failed cells, a cancelled cell, a
comparison that regressed, ...), written as the folders the gate job's downloads leave.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from loadtest.thresholds import Slo
from loadtest.workflow.check import Decision, Job, Mode, NeedsError, decide, parse_needs, render_markdown
from tests.loadtest.cell_folders import R1, R2
from tests.loadtest.workflow.artifacts import CellFolders, comparison_artifact

PLANNED = json.dumps([1, 2])


def jobs(
    plan: str = "success",
    build: str = "success",
    perf: str = "success",
    compare: str = "skipped",
    replicas: str = PLANNED,
) -> dict[str, Job]:
    """`toJSON(needs)` of the gate job, read."""
    return {
        "plan": Job(plan, {"replicas": replicas} if plan == "success" else {}),
        "build": Job(build, {"base": ""}),
        "perf": Job(perf),
        "compare": Job(compare),
    }


def judge(tmp_path: Path, needs: dict[str, Job], mode: Mode = "matrix") -> Decision:
    return decide(mode, needs, tmp_path / "cells", tmp_path / "comparison", tmp_path / "report")


def errors(decision: Decision) -> list[str]:
    return [finding.text for finding in decision.findings if finding.level == "error"]


def both_cells_pass(cells: CellFolders, tmp_path: Path, slo: Slo) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo)


def test_every_planned_cell_passing_passes_and_merges_them(tmp_path: Path, cells: CellFolders, slo: Slo) -> None:
    both_cells_pass(cells, tmp_path, slo)
    decision = judge(tmp_path, jobs())
    assert decision.passed, decision.findings
    assert decision.code == 0
    assert decision.report is not None
    assert (tmp_path / "report" / "matrix.json").is_file()
    assert "PASSED: 2 of 2 cells" in (tmp_path / "report" / "summary.md").read_text()


@pytest.mark.parametrize(
    ("first", "second", "passes"),
    [
        pytest.param(5000, 100, True, id="a-re-run-that-passes-turns-the-check-green"),
        pytest.param(100, 5000, False, id="the-newest-attempt-counts-not-the-best"),
    ],
)
def test_a_re_run_cell_is_judged_on_its_newest_attempt(
    tmp_path: Path, cells: CellFolders, slo: Slo, first: int, second: int, passes: bool
) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo, p95=first)
    cells.artifact(tmp_path / "cells", R2, 2, slo, p95=second)
    # Attempt 2's cell job ran (a re-run of the failed one); its result is what the run shows now.
    decision = judge(tmp_path, jobs(perf="success" if passes else "failure"))
    assert decision.passed is passes, decision.findings
    assert any("perf-r2-attempt-1: replaced by a newer attempt" in finding.text for finding in decision.findings)


def test_a_planned_cell_without_an_artifact_fails_naming_it(tmp_path: Path, cells: CellFolders, slo: Slo) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    decision = judge(tmp_path, jobs(perf="failure"))
    assert not decision.passed
    assert errors(decision)[0].startswith("the cell of 2 replicas: no results: its job uploaded no artifact")


def test_a_lone_artifact_extracted_into_the_folder_is_judged(tmp_path: Path, cells: CellFolders, slo: Slo) -> None:
    # One planned cell: download-artifact put its files in cells/ itself.
    cells.artifact(tmp_path / "cells", R2, None, slo)
    assert judge(tmp_path, jobs(replicas="[2]")).passed


@pytest.mark.parametrize(("policy", "passes", "level"), [("pass", True, "notice"), ("fail", False, "error")])
def test_an_inconclusive_cell_follows_on_inconclusive(
    tmp_path: Path, cells: CellFolders, policy: Literal["pass", "fail"], passes: bool, level: str
) -> None:
    slo = Slo(max_error_rate=0.01, max_p95_ms=1000, on_inconclusive=policy)
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo, limits_enforced=False, limits_not_enforced_reason="no cgroup")
    decision = judge(tmp_path, jobs(perf="failure"))  # the inconclusive cell's own job exits 3
    assert decision.passed is passes
    (finding,) = [finding for finding in decision.findings if "inconclusive" in finding.text]
    assert finding.level == level
    assert f"slo.on_inconclusive is {policy}" in finding.text


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        pytest.param(jobs(perf="cancelled"), "perf job: cancelled", id="a-cancelled-cell"),
        pytest.param(
            jobs(perf="failure"), "perf job: failure, yet every cell's newest results pass", id="broke-outside"
        ),
        pytest.param(jobs(perf="skipped"), "perf job: skipped: no cell ran", id="skipped"),
    ],
)
def test_a_cell_job_that_did_not_succeed_fails_even_when_its_results_pass(
    tmp_path: Path, cells: CellFolders, slo: Slo, needs: dict[str, Job], message: str
) -> None:
    both_cells_pass(cells, tmp_path, slo)
    decision = judge(tmp_path, needs)
    assert not decision.passed
    assert any(text.startswith(message) for text in errors(decision)), errors(decision)


def test_a_breach_fails_once_with_its_reason_not_again_for_its_job(
    tmp_path: Path, cells: CellFolders, slo: Slo
) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo, p95=5000)
    assert errors(judge(tmp_path, jobs(perf="failure"))) == [
        "the cells: a cell breached a limit of the SLO (the table says which)"
    ]


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        pytest.param(jobs(build="failure", perf="skipped"), "build job: failure", id="no-image"),
        pytest.param(jobs(plan="failure", perf="skipped"), "plan job: failure", id="no-plan"),
        pytest.param(jobs(build="cancelled", perf="skipped"), "build job: cancelled", id="build-cancelled"),
    ],
)
def test_no_build_or_no_plan_fails_with_that_reason_alone(tmp_path: Path, needs: dict[str, Job], message: str) -> None:
    (error,) = errors(judge(tmp_path, needs))
    assert error.startswith(message)


def test_a_cell_that_could_not_be_judged_fails(tmp_path: Path, cells: CellFolders, slo: Slo) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo, status="failed", csvs=False)
    assert "the cells: a cell could not be judged" in errors(judge(tmp_path, jobs(perf="failure")))[0]


def test_two_folders_of_one_cell_in_an_artifact_fail_with_the_reports_reason(
    tmp_path: Path, cells: CellFolders, slo: Slo
) -> None:
    cells.artifact(tmp_path / "cells", R1, 1, slo)
    cells.artifact(tmp_path / "cells", R2, 1, slo)
    (tmp_path / "cells" / "perf-r2-attempt-1" / R2.name).rename(tmp_path / "cells" / "perf-r2-attempt-1" / "copy")
    cells.artifact(tmp_path / "cells", R2, 1, slo)
    assert "appears twice" in errors(judge(tmp_path, jobs()))[0]


# --------------------------------------------------------------------------- the comparison


@pytest.mark.parametrize(
    ("document", "passes", "message"),
    [
        pytest.param({"verdict": "no change"}, True, "the comparison: no change against the base", id="no-change"),
        pytest.param({"verdict": "improved"}, True, "the comparison: improved against the base", id="improved"),
        pytest.param({"verdict": "regressed"}, False, "the comparison: the head regressed", id="regressed"),
        pytest.param({"complete": False, "verdict": "inconclusive"}, False, "could not be judged", id="cut-short"),
        pytest.param({"verdict": "inconclusive"}, False, "slo.on_inconclusive is fail", id="inconclusive-fails"),
        pytest.param(
            {"verdict": "inconclusive", "on_inconclusive": "pass"}, True, "slo.on_inconclusive is pass", id="passes"
        ),
    ],
)
def test_the_comparison_decides_as_compare_exits(
    tmp_path: Path, document: dict[str, object], passes: bool, message: str
) -> None:
    comparison_artifact(tmp_path / "comparison", None, **document)
    needs = jobs(perf="skipped", compare="success" if passes else "failure")
    decision = judge(tmp_path, needs, mode="compare")
    assert decision.passed is passes, decision.findings
    assert any(message in finding.text for finding in decision.findings)


def test_a_re_run_comparison_is_judged_on_its_newest_attempt(tmp_path: Path) -> None:
    comparison_artifact(tmp_path / "comparison", 1, verdict="inconclusive")
    comparison_artifact(tmp_path / "comparison", 2, verdict="no change")
    assert judge(tmp_path, jobs(perf="skipped", compare="success"), mode="compare").passed


@pytest.mark.parametrize("compare", ["failure", "cancelled"])
def test_a_comparison_that_left_nothing_fails(tmp_path: Path, compare: str) -> None:
    assert errors(judge(tmp_path, jobs(perf="skipped", compare=compare), mode="compare")) == [
        f"compare job: {compare}: it left no comparison.json (its log says why)"
    ]


def test_a_compare_dispatch_is_judged_on_the_comparison_alone(tmp_path: Path) -> None:
    needs = jobs(perf="skipped", compare="success")
    comparison_artifact(tmp_path / "comparison", None, verdict="no change")
    decision = judge(tmp_path, needs, mode="compare")
    assert decision.passed, decision.findings
    assert decision.report is None  # no cells in this mode
    comparison_artifact(tmp_path / "regressed", None, verdict="regressed")
    regressed = decide("compare", needs, tmp_path / "cells", tmp_path / "regressed", tmp_path / "report")
    assert not regressed.passed
    skipped = judge(tmp_path, jobs(perf="skipped", compare="skipped"), mode="compare")
    assert errors(skipped) == ["mode compare: the comparison did not run (the build job's log says why: no base image)"]


def test_a_push_has_no_comparison_to_judge(tmp_path: Path, cells: CellFolders, slo: Slo) -> None:
    both_cells_pass(cells, tmp_path, slo)
    comparison_artifact(tmp_path / "comparison", None, verdict="regressed")  # not this run's: compare skipped
    assert judge(tmp_path, jobs(compare="skipped")).passed


# --------------------------------------------------------------------------- needs and Markdown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ("[]", "not an object of jobs"),
        ('{"build": {"result": "green"}}', "build.result is 'green', not one of success, failure, cancelled, skipped"),
        ('{"build": {"result": "success", "outputs": {"a": 1}}}', "build.outputs is {'a': 1}"),
        ('{"build": {"result": "success"}}', "no job plan"),
    ],
)
def test_needs_that_are_not_the_workflows_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(NeedsError, match="^" + problem.replace("{", r"\{").replace("}", r"\}").replace("'", "'")):
        parse_needs(text, ("build", "plan"))


def test_a_plan_output_that_is_no_list_names_it(tmp_path: Path) -> None:
    with pytest.raises(NeedsError, match=r"plan.outputs.replicas is '1,2', not a JSON list"):
        judge(tmp_path, jobs(replicas="1,2"))


def test_the_markdown_leads_with_the_decision_then_the_comparison_then_the_matrix(
    tmp_path: Path, cells: CellFolders, slo: Slo
) -> None:
    both_cells_pass(cells, tmp_path, slo)
    comparison_artifact(tmp_path / "comparison", None, verdict="regressed")
    text = render_markdown(judge(tmp_path, jobs(compare="failure")))
    assert text.startswith(
        "### ❌ perf gate failed\n\n- • the cells: every cell holds the SLO\n- ❌ the comparison: the head regressed"
    )
    assert text.index("Comparison REGRESSED") < text.index("Performance matrix PASSED")
    assert "![chart]" not in text  # a summary or a comment cannot show the run's files
