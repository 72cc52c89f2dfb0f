"""run.json and verdict.json (loadtest/records.py): written and read back through the same models only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest.records import GeneratorCapacity, RecordError, RunRecord, Verdict, read_record, write_record
from tests.loadtest.cell_folders import R2, run_record
from tests.loadtest.locust_csv import healthy_run

if TYPE_CHECKING:
    from tests.conftest import Judge


def test_run_json_round_trips(tmp_path: Path) -> None:
    record = run_record(R2, status="interrupted", locust_cpu_warnings=["CPU usage above 90%!"])
    write_record(tmp_path / "run.json", record)
    assert read_record(tmp_path / "run.json", RunRecord) == record
    text = (tmp_path / "run.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text)["replica_records"][1]["name"] == "replica-1"


def test_run_json_names_the_calibration_as_verdict_and_matrix_json_do(tmp_path: Path) -> None:
    capacity = GeneratorCapacity(per_worker_rps=2_800.0, workers=2, total_rps=5_600.0, users=1000, seconds=8.0)
    write_record(tmp_path / "run.json", run_record(R2, generator_capacity_rps=capacity))
    document = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert "generator" not in document
    assert document["generator_capacity_rps"] == {
        "per_worker_rps": 2_800.0,
        "workers": 2,
        "total_rps": 5_600.0,
        "users": 1000,
        "seconds": 8.0,
    }


def test_verdict_json_round_trips_with_its_checks(tmp_path: Path, judged: Judge) -> None:
    _, verdict = judged(healthy_run(failures=500, p95=3000))
    write_record(tmp_path / "verdict.json", verdict)
    again = read_record(tmp_path / "verdict.json", Verdict)
    assert again == verdict
    assert [check.name for check in again.breached] == ["max_error_rate", "max_p95_ms"]


def _run_json_with(tmp_path: Path, **changes: object) -> Path:
    document = json.loads(run_record(R2).model_dump_json())
    document.update(changes)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"status": "done"},
            "not a run.json of this tool: status: Input should be 'completed', 'interrupted' or 'failed'",
        ),
        ({"verdict": "PASS"}, "not a run.json of this tool: verdict: Extra inputs are not permitted"),
        ({"replicas": "two"}, "not a run.json of this tool: replicas: Input should be a valid integer"),
    ],
)
def test_a_foreign_or_damaged_record_names_the_file_and_the_field(
    tmp_path: Path, changes: dict[str, object], problem: str
) -> None:
    path = _run_json_with(tmp_path, **changes)
    with pytest.raises(RecordError) as raised:
        read_record(path, RunRecord)
    assert str(raised.value).startswith(f"{path}: {problem}")


@pytest.mark.parametrize(("content", "problem"), [("not json", "the document: Invalid JSON"), ("[]", "the document")])
def test_a_file_that_is_not_a_record(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "verdict.json").write_text(content, encoding="utf-8")
    with pytest.raises(RecordError, match=re.escape(f"verdict.json: not a verdict.json of this tool: {problem}")):
        read_record(tmp_path / "verdict.json", Verdict)


def test_a_missing_record_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match=r"run\.json: cannot be read: No such file or directory"):
        read_record(tmp_path / "run.json", RunRecord)
