"""`python -m loadtest report`: the matrix rebuilt from cell folders, also from separate CI jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from loadtest import exitcodes
from loadtest.gate.run_folder import judge_folder
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import R1, R2, write_cell
from tests.usage import assert_cannot_judge

if TYPE_CHECKING:
    from tests.conftest import Cli

PLANNED = [R1.name, R2.name]


def test_a_passing_matrix_writes_the_three_files(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path, R1, slo, planned=PLANNED)
    write_cell(tmp_path, R2, slo, planned=PLANNED)
    done = loadtest_cli("report", tmp_path)
    assert done.returncode == exitcodes.PASSED, done.stderr
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert (matrix["result"], matrix["complete"], matrix["limits_enforced"]) == ("passed", True, True)
    assert [cell["folder"] for cell in matrix["cells"]] == PLANNED
    assert matrix["cells"][1]["figures"]["rps_per_cpu"] == pytest.approx(matrix["cells"][1]["figures"]["rps"] / 1.0)
    summary = (tmp_path / "summary.md").read_text()
    assert "PASSED: 2 of 2 cells" in summary
    assert f"| {R1.name} |" in summary
    assert (tmp_path / "matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert done.stdout.startswith("✅ Performance matrix PASSED")
    assert done.stdout.endswith(f"\nReport: {tmp_path / 'summary.md'}\n")
    assert "ran out of CPU" not in summary + done.stdout
    assert "not run together" not in summary + done.stdout


def test_a_breach_exits_1(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path, R1, slo, p95=5000, planned=PLANNED)
    write_cell(tmp_path, R2, slo, planned=PLANNED)
    assert loadtest_cli("report", tmp_path).returncode == exitcodes.BREACHED
    summary = (tmp_path / "summary.md").read_text()
    assert "FAILED: 1 of 2 cells" in summary
    assert "breached: P95 5,000 ms, limit 1,000 ms" in summary
    assert json.loads((tmp_path / "matrix.json").read_text())["result"] == "breached"


def test_a_breach_stands_when_locust_ran_out_of_cpu_and_the_reader_is_warned(
    tmp_path: Path, slo: Slo, loadtest_cli: Cli
) -> None:
    write_cell(tmp_path, R1, slo, p95=5000, planned=PLANNED, locust_cpu_warnings=["CPU usage above 90%!"])
    write_cell(tmp_path, R2, slo, planned=PLANNED)
    done = loadtest_cli("report", tmp_path)
    assert done.returncode == exitcodes.BREACHED
    assert f"Locust ran out of CPU in {R1.name}:" in done.stdout


def test_unenforced_limits_are_inconclusive_even_beside_a_pass_verdict(
    tmp_path: Path, slo: Slo, loadtest_cli: Cli
) -> None:
    # write_cell judges before run.json exists, as an old or hand-made verdict would have been.
    folder = write_cell(
        tmp_path, R1, slo, limits_enforced=False, limits_not_enforced_reason="disabled with --no-limits"
    )
    assert json.loads((folder / "verdict.json").read_text())["outcome"] == "pass"
    done = loadtest_cli("report", tmp_path)
    assert done.returncode == exitcodes.INCONCLUSIVE
    assert done.stdout.startswith("⚠️ Performance matrix INCONCLUSIVE: 1 of 1 cells did not measure the service")
    assert "limits_enforced: false" in done.stdout
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert (matrix["result"], matrix["limits_enforced"]) == ("inconclusive", False)
    reason = (
        "limits were not enforced (disabled with --no-limits): the replicas ran without their CPU and memory limits"
    )
    assert (matrix["cells"][0]["result"], matrix["cells"][0]["reasons"]) == ("INCONCLUSIVE", [reason])
    assert (
        f"> **Inconclusive cells** judge nothing about the service, neither pass nor breach: **{R1.name}**: {reason}"
        in ((tmp_path / "summary.md").read_text())
    )


LOCUST_WARNING = "[2026-11-28 04:50:30,000] vm/WARNING/root: CPU usage above 90%! This may constrain your throughput"


def inconclusive_cell(root: Path, slo: Slo, **record: Any) -> Path:
    """R2's folder judged by the gate with its run.json: Locust warned of its CPU, which was not measured."""
    folder = write_cell(root, R2, slo, locust_cpu_warnings=[LOCUST_WARNING], **record)
    judge_folder(folder, slo)
    return folder


@pytest.mark.parametrize(
    ("first", "code", "headline"),
    [
        ({}, exitcodes.INCONCLUSIVE, "⚠️ Performance matrix INCONCLUSIVE: 1 of 2 cells did not measure the service"),
        ({"p95": 5000}, exitcodes.BREACHED, "❌ Performance matrix FAILED: 1 of 2 cells breach the SLO"),
        (
            {"status": "interrupted"},
            exitcodes.CANNOT_JUDGE,
            "⚠️ Performance matrix CANNOT JUDGE: 0 of 2 cells passed, the matrix is incomplete",
        ),
    ],
    ids=["beside-a-pass", "beside-a-breach", "beside-a-cut-short-cell"],
)
def test_an_inconclusive_cell_has_its_own_outcome_and_box(
    tmp_path: Path, slo: Slo, loadtest_cli: Cli, first: dict[str, Any], code: int, headline: str
) -> None:
    """Breach > cannot judge > inconclusive > pass (docs/runner.md), the inconclusive cell shown as such."""
    write_cell(tmp_path, R1, slo, planned=PLANNED, **first)
    inconclusive_cell(tmp_path, slo, planned=PLANNED)
    done = loadtest_cli("report", tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert done.stdout.startswith(headline)
    assert summary.startswith(f"## {headline}\n")
    box = next(line for line in summary.splitlines() if line.startswith("> **Inconclusive cells**"))
    assert f"**{R2.name}**: Locust warned that its CPU was above 90% ({LOCUST_WARNING!r})" in box
    assert R1.name not in box
    assert f"| {R2.name} |" in summary
    assert "| INCONCLUSIVE |" in summary
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert (matrix["exit_code"], matrix["cells"][1]["result"]) == (code, "INCONCLUSIVE")


def test_cells_from_separate_jobs_merge_into_out(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path / "job-1", R1, slo, run_id="job-1")
    write_cell(tmp_path / "job-2", R2, slo, run_id="job-2")
    out = tmp_path / "merged"
    done = loadtest_cli("report", tmp_path / "job-1", tmp_path / "job-2" / R2.name, "--out", out)
    assert done.returncode == exitcodes.PASSED, done.stderr
    assert [cell["cell"] for cell in json.loads((out / "matrix.json").read_text())["cells"]] == PLANNED
    assert "not run together" not in (out / "summary.md").read_text()


def test_out_from_the_environment(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path / "job", R1, slo)
    done = loadtest_cli("report", tmp_path / "job", env={"LOADTEST_REPORT_OUT": str(tmp_path / "merged")})
    assert done.returncode == exitcodes.PASSED
    assert (tmp_path / "merged" / "matrix.json").is_file()
    assert not (tmp_path / "job" / "matrix.json").exists()


@pytest.mark.parametrize(
    ("status", "result"), [("interrupted", "CUT SHORT"), ("failed", "ERROR")], ids=["interrupted", "failed"]
)
def test_a_cell_that_did_not_complete_cannot_be_judged(
    tmp_path: Path, slo: Slo, loadtest_cli: Cli, status: str, result: str
) -> None:
    write_cell(tmp_path, R1, slo, planned=PLANNED)
    write_cell(tmp_path, R2, slo, p95=5000, status=status, csvs=status == "interrupted", planned=PLANNED)
    assert loadtest_cli("report", tmp_path).returncode == exitcodes.CANNOT_JUDGE
    assert f"| {result} |" in (tmp_path / "summary.md").read_text()


def test_a_planned_cell_that_never_ran_makes_it_incomplete(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path, R1, slo, planned=PLANNED)
    assert loadtest_cli("report", tmp_path).returncode == exitcodes.CANNOT_JUDGE
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert (matrix["not_run"], matrix["complete"]) == ([R2.name], False)
    assert "Incomplete matrix" in (tmp_path / "summary.md").read_text()


def test_no_cells_found(tmp_path: Path, loadtest_cli: Cli) -> None:
    assert loadtest_cli("report", tmp_path).returncode == exitcodes.CANNOT_JUDGE
    assert "no cell results found" in (tmp_path / "summary.md").read_text()


def test_several_folders_need_out(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path / "a", R1, slo)
    write_cell(tmp_path / "b", R2, slo)
    done = loadtest_cli("report", tmp_path / "a", tmp_path / "b")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert "say where the report goes with --out DIR" in done.stderr


def test_the_same_cell_twice_is_an_error(tmp_path: Path, slo: Slo, loadtest_cli: Cli) -> None:
    write_cell(tmp_path / "a", R1, slo)
    write_cell(tmp_path / "b", R1, slo)
    done = loadtest_cli("report", tmp_path / "a", tmp_path / "b", "--out", tmp_path)
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert f"loadtest report: cell {R1.name} appears twice" in done.stderr


@pytest.mark.parametrize(
    ("content", "message"), [("{}", "not a run.json of this tool"), ("not json", "not a run.json")]
)
def test_a_foreign_run_json_is_named(tmp_path: Path, loadtest_cli: Cli, content: str, message: str) -> None:
    (tmp_path / "cell").mkdir()
    (tmp_path / "cell" / "run.json").write_text(content)
    assert_cannot_judge(loadtest_cli("report", tmp_path), message)


def test_a_missing_folder_is_named(tmp_path: Path, loadtest_cli: Cli) -> None:
    done = loadtest_cli("report", tmp_path / "nowhere")
    assert done.returncode == exitcodes.CANNOT_JUDGE
    assert "nowhere: no such folder" in done.stderr
