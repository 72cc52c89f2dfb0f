"""`python -m loadtest report`: the matrix rebuilt from cell folders, also from separate CI jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.gate import judge_folder
from loadtest.records import MatrixInfo, ReplicaLimits, ReplicaRecord, ReplicaUsage, RunRecord
from loadtest.runner.matrix import Cell
from loadtest.thresholds import Slo
from tests.loadtest.locust_csv import healthy_run

SLO = Slo(max_error_rate=0.01, max_p95_ms=1000)
STARTED = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


def make_cell(
    root: Path,
    cell: Cell,
    p95: int = 100,
    status: str = "completed",
    planned: list[str] | None = None,
    run_id: str = "run-a",
    commit: str = "0123456789abcdef",
    users: int = 200,
    limits_enforced: bool = True,
    csvs: bool = True,
    locust_cpu_warnings: list[str] | None = None,
) -> Path:
    """A cell folder as the runner leaves it: Locust's CSVs, the gate's verdict, run.json."""
    folder = root / cell.name
    folder.mkdir(parents=True)
    if csvs:
        healthy_run(requests=5_000, p95=p95).write(folder)
        if status == "completed":
            judge_folder(folder, SLO)
    usage = ReplicaUsage(
        cpu_seconds=10.0,
        cpu_periods=300,
        cpu_throttled_periods=150,
        cpu_throttled_seconds=3.0,
        memory_peak_bytes=64 * 1024**2,
        oom_kills=0,
    )
    limits = ReplicaLimits(
        source="cgroup v1",
        cpus=cell.cpus,
        cpu_quota_us=50_000,
        cpu_period_us=100_000,
        memory_bytes=cell.memory_bytes,
        swap_bytes=0,
    )
    record = RunRecord(
        cell=cell.name,
        status=status,
        error=None if status == "completed" else "interrupted by SIGINT",  # type: ignore[arg-type]
        backend="process",
        profile="local",
        replicas=cell.replicas,
        cpus=cell.cpus,
        memory=cell.memory,
        memory_bytes=cell.memory_bytes,
        limits_enforced=limits_enforced,
        limits_not_enforced_reason=None if limits_enforced else "cannot create the cgroup v1 folder: Permission denied",
        users=users,
        spawn_rate=50,
        run_time="15s",
        run_time_seconds=15,
        thresholds="thresholds.yaml",
        git_commit=commit,
        git_dirty=False,
        image=None,
        started_at=STARTED,
        ended_at=STARTED,
        duration_seconds=20.0,
        locust_cpu_warnings=locust_cpu_warnings or [],
        replica_records=[
            ReplicaRecord(index=i, name=f"replica-{i}", limits=limits, usage=usage) for i in range(cell.replicas)
        ],
        matrix=MatrixInfo(run_id=run_id, position=1, planned=planned or [cell.name]),
    )
    (folder / "run.json").write_text(record.model_dump_json(indent=2))
    return folder


R1, R2 = Cell(1, 0.5, "512m"), Cell(2, 0.5, "512m")


def test_a_passing_matrix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planned = [R1.name, R2.name]
    make_cell(tmp_path, R1, planned=planned)
    make_cell(tmp_path, R2, planned=planned)
    assert main(["report", str(tmp_path)]) == exitcodes.PASSED
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert matrix["result"] == "passed"
    assert matrix["complete"] is True
    assert matrix["limits_enforced"] is True
    assert [cell["cell"] for cell in matrix["cells"]] == planned
    assert [cell["folder"] for cell in matrix["cells"]] == planned
    first = matrix["cells"][0]
    assert first["figures"]["requests"] == 5000
    assert first["figures"]["p95_ms"] == 100
    assert first["figures"]["rps_per_cpu"] == pytest.approx(first["figures"]["rps"] / 0.5)
    assert matrix["cells"][1]["figures"]["rps_per_cpu"] == pytest.approx(matrix["cells"][1]["figures"]["rps"] / 1.0)
    assert first["resources"]["cpu_throttled_share"] == pytest.approx(0.5)
    summary = (tmp_path / "summary.md").read_text()
    assert "PASSED: 2 of 2 cells" in summary
    assert "| r1-cpu0.5-mem512m |" in summary
    assert "req/s per CPU" in summary
    assert (tmp_path / "matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "PASSED" in capsys.readouterr().out


def test_a_breach_exits_1_and_says_which_check(tmp_path: Path) -> None:
    make_cell(tmp_path, R1, p95=5000, planned=[R1.name, R2.name])
    make_cell(tmp_path, R2, planned=[R1.name, R2.name])
    assert main(["report", str(tmp_path)]) == exitcodes.BREACHED
    summary = (tmp_path / "summary.md").read_text()
    assert "FAILED: 1 of 2 cells" in summary
    assert "breached: P95 5,000 ms, limit 1,000 ms" in summary
    assert json.loads((tmp_path / "matrix.json").read_text())["result"] == "breached"


def test_cells_from_separate_jobs_merge_into_out(tmp_path: Path) -> None:
    make_cell(tmp_path / "job-1", R1, run_id="job-1")
    make_cell(tmp_path / "job-2", R2, run_id="job-2")
    out = tmp_path / "merged"
    assert (
        main(["report", str(tmp_path / "job-1"), str(tmp_path / "job-2" / R2.name), "--out", str(out)])
        == exitcodes.PASSED
    )
    matrix = json.loads((out / "matrix.json").read_text())
    assert [cell["cell"] for cell in matrix["cells"]] == [R1.name, R2.name]


def test_several_folders_need_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_cell(tmp_path / "a", R1)
    make_cell(tmp_path / "b", R2)
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b")]) == exitcodes.CANNOT_JUDGE
    assert "--out" in capsys.readouterr().err


def test_the_same_cell_twice_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_cell(tmp_path / "a", R1)
    make_cell(tmp_path / "b", R1)
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    assert "cell r1-cpu0.5-mem512m appears twice" in capsys.readouterr().err


def test_a_planned_cell_that_never_ran_makes_it_incomplete(tmp_path: Path) -> None:
    make_cell(tmp_path, R1, planned=[R1.name, R2.name])
    assert main(["report", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    matrix = json.loads((tmp_path / "matrix.json").read_text())
    assert matrix["not_run"] == [R2.name]
    assert matrix["complete"] is False
    assert "Incomplete matrix" in (tmp_path / "summary.md").read_text()


def test_an_interrupted_cell_is_cut_short_not_judged(tmp_path: Path) -> None:
    make_cell(tmp_path, R1, planned=[R1.name, R2.name])
    make_cell(tmp_path, R2, p95=5000, status="interrupted", planned=[R1.name, R2.name])
    assert main(["report", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    summary = (tmp_path / "summary.md").read_text()
    assert "CUT SHORT" in summary
    assert "was interrupted (interrupted by SIGINT)" in summary


def test_a_failed_cell_without_csvs(tmp_path: Path) -> None:
    make_cell(tmp_path, R1, status="failed", csvs=False)
    assert main(["report", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    assert "| ERROR |" in (tmp_path / "summary.md").read_text()


def test_limits_not_enforced_are_loud(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_cell(tmp_path, R1, limits_enforced=False)
    assert main(["report", str(tmp_path)]) == exitcodes.PASSED
    summary = (tmp_path / "summary.md").read_text()
    assert "**limits_enforced: false**" in summary
    assert "Permission denied" in summary
    assert "NOT ENFORCED" in summary
    assert "limits_enforced: false" in capsys.readouterr().out
    assert json.loads((tmp_path / "matrix.json").read_text())["limits_enforced"] is False


def test_a_saturated_locust_is_loud_and_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planned = [R1.name, R2.name]
    make_cell(tmp_path, R1, p95=5000, planned=planned, locust_cpu_warnings=["CPU usage above 90%!"])
    make_cell(tmp_path, R2, planned=planned)
    assert main(["report", str(tmp_path)]) == exitcodes.BREACHED  # the verdict stands; the reader is warned
    summary = (tmp_path / "summary.md").read_text()
    assert f"**Locust ran out of CPU** in {R1.name}:" in summary
    assert R2.name not in summary.split("Locust ran out")[1].split("\n")[0]
    assert f"Locust ran out of CPU in {R1.name}:" in capsys.readouterr().out


def test_no_warning_when_locust_kept_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_cell(tmp_path, R1)
    assert main(["report", str(tmp_path)]) == exitcodes.PASSED
    assert "ran out of CPU" not in (tmp_path / "summary.md").read_text() + capsys.readouterr().out


def test_cells_from_different_runs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_cell(tmp_path, R1, commit="aaaaaaaaaaaa1111", users=1000)
    make_cell(tmp_path, R2, commit="bbbbbbbbbbbb2222", run_id="run-b")
    assert main(["report", str(tmp_path)]) == exitcodes.PASSED
    summary = (tmp_path / "summary.md").read_text()
    assert "**These cells were not run together**" in summary
    assert f"commit differs: aaaaaaaaaaaa ({R1.name}); bbbbbbbbbbbb ({R2.name})" in summary
    assert f"users differs: 1000 ({R1.name}); 200 ({R2.name})" in summary
    assert "not run together" in capsys.readouterr().out


def test_separate_jobs_of_one_run_are_not_mixed(tmp_path: Path) -> None:
    make_cell(tmp_path / "job-1", R1, run_id="job-1")
    make_cell(tmp_path / "job-2", R2, run_id="job-2")
    out = tmp_path / "merged"
    assert main(["report", str(tmp_path / "job-1"), str(tmp_path / "job-2"), "--out", str(out)]) == exitcodes.PASSED
    assert "not run together" not in (out / "summary.md").read_text()


def test_no_cells_found(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    assert "no cell results found" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("content", "message"), [("{}", "not a run.json of this tool"), ("not json", "not a run.json")]
)
def test_a_foreign_run_json_is_named(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cell").mkdir()
    (tmp_path / "cell" / "run.json").write_text(content)
    assert main(["report", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_a_missing_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nowhere")]) == exitcodes.CANNOT_JUDGE
    assert "no such folder" in capsys.readouterr().err
