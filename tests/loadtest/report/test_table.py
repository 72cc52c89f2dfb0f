"""The matrix as a table (loadtest/report/table.py): one row per cell, the outcome, matrix.json."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from loadtest import exitcodes
from loadtest.records import GeneratorCapacity, ReplicaRecord
from loadtest.report import CellResult, collect_cell
from loadtest.report.table import build_table, matrix_document, outcome, saturated_cells
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import R1, R2, replica_usage, write_cell


def test_one_row_per_cell_with_figures_per_cpu_and_resources(tmp_path: Path, slo: Slo) -> None:
    replicas = [
        ReplicaRecord(
            index=0, name="replica-0", restarts=1, usage=replica_usage(cpu_periods=100, cpu_throttled_periods=10)
        ),
        ReplicaRecord(index=1, name="replica-1", usage=replica_usage(memory_peak_bytes=99, oom_kills=2)),
    ]
    cells = [collect_cell(write_cell(tmp_path, R2, slo, replica_records=replicas))]
    row = build_table(cells).iloc[0]
    assert (row["cell"], row["replicas"], row["requests"], row["p95_ms"], row["result"]) == (
        R2.name,
        2,
        5000,
        100,
        "PASS",
    )
    assert row["rps_per_cpu"] == pytest.approx(row["rps"] / (2 * 0.5))
    assert row["cpu_throttled_share"] == pytest.approx((10 + 150) / (100 + 300))
    assert (row["restarts"], row["oom_kills"], row["memory_peak_bytes"]) == (1, 2, 64 * 1024**2)


def test_a_cell_without_figures_or_usage_has_gaps_not_zeros(tmp_path: Path, slo: Slo) -> None:
    cells = [collect_cell(write_cell(tmp_path, R1, slo, status="failed", csvs=False, replica_records=[]))]
    row = build_table(cells).iloc[0]
    for column in ("requests", "rps", "p95_ms", "rps_per_cpu", "oom_kills", "cpu_throttled_share", "memory_peak_bytes"):
        assert math.isnan(row[column]), column
    assert row["result"] == "ERROR"


@pytest.mark.parametrize(
    ("specs", "reasons", "code"),
    [
        ([{}, {}], [], exitcodes.PASSED),
        ([{}, {"p95": 5000}], [], exitcodes.BREACHED),
        ([{"p95": 5000}, {"status": "interrupted"}], ["cut short"], exitcodes.BREACHED),  # a breach stands
        ([{}, {"status": "interrupted"}], ["cut short"], exitcodes.CANNOT_JUDGE),
        ([{}, {"status": "failed", "csvs": False}], [], exitcodes.CANNOT_JUDGE),
        ([{}], ["not run: r2-cpu0.5-mem512m"], exitcodes.CANNOT_JUDGE),
        ([], [], exitcodes.CANNOT_JUDGE),
    ],
    ids=["all-pass", "one-breach", "breach-and-cut-short", "cut-short", "failed-cell", "missing-cell", "no-cells"],
)
def test_the_outcome(tmp_path: Path, slo: Slo, specs: list[dict[str, Any]], reasons: list[str], code: int) -> None:
    cells = [
        collect_cell(write_cell(tmp_path, cell, slo, **spec))
        for cell, spec in zip((R1, R2)[: len(specs)], specs, strict=True)
    ]
    assert outcome(build_table(cells), reasons) == code


def _cells(tmp_path: Path, slo: Slo, **second: Any) -> list[CellResult]:
    return [collect_cell(write_cell(tmp_path, R1, slo)), collect_cell(write_cell(tmp_path, R2, slo, **second))]


def test_matrix_json(tmp_path: Path, slo: Slo) -> None:
    cells = _cells(tmp_path, slo, status="failed", csvs=False, limits_enforced=False)
    document = matrix_document(cells, build_table(cells), tmp_path, ["r3-cpu0.5-mem512m"], ["not run"])
    assert (document["result"], document["exit_code"], document["complete"]) == ("cannot judge", 2, False)
    assert (document["limits_enforced"], document["not_run"], document["cut_short"]) == (
        False,
        ["r3-cpu0.5-mem512m"],
        ["not run"],
    )
    passed, failed = document["cells"]
    assert (passed["folder"], passed["result"], passed["figures"]["requests"]) == (R1.name, "PASS", 5000)
    assert passed["verdict"]["passed"] is True
    assert (failed["result"], failed["figures"]["requests"], failed["verdict"]) == ("ERROR", None, None)  # NaN is null
    assert failed["resources"]["locust_cpu_saturated"] is False


def _capacity(workers: int) -> GeneratorCapacity:
    return GeneratorCapacity(
        per_worker_rps=2_800.0, workers=workers, total_rps=2_800.0 * workers, users=1000, seconds=8
    )


def test_matrix_json_carries_the_generator_capacity_per_worker_and_per_cell(tmp_path: Path, slo: Slo) -> None:
    cells = [
        collect_cell(write_cell(tmp_path, R1, slo, generator_capacity_rps=_capacity(1))),
        collect_cell(write_cell(tmp_path, R2, slo, generator_capacity_rps=_capacity(2))),
    ]
    document = matrix_document(cells, build_table(cells), tmp_path, [], [])
    assert document["generator_capacity_rps"] == {
        "per_worker_rps": 2_800.0,
        "total_rps": {R1.name: 2_800.0, R2.name: 5_600.0},
    }
    assert [cell["generator_capacity_rps"] for cell in document["cells"]] == [
        _capacity(1).model_dump(mode="json"),
        _capacity(2).model_dump(mode="json"),
    ]


def test_matrix_json_without_a_calibration_has_no_generator_capacity(tmp_path: Path, slo: Slo) -> None:
    cells = _cells(tmp_path, slo)
    document = matrix_document(cells, build_table(cells), tmp_path, [], [])
    assert document["generator_capacity_rps"] is None
    assert [cell["generator_capacity_rps"] for cell in document["cells"]] == [None, None]


def test_a_cell_folder_outside_the_report_keeps_its_full_path(tmp_path: Path, slo: Slo) -> None:
    cells = [collect_cell(write_cell(tmp_path / "job", R1, slo))]
    document = matrix_document(cells, build_table(cells), tmp_path / "merged", [], [])
    assert document["cells"][0]["folder"] == str(tmp_path / "job" / R1.name)


def test_saturated_cells_are_the_ones_whose_locust_warned(tmp_path: Path, slo: Slo) -> None:
    cells = _cells(tmp_path, slo, locust_cpu_warnings=["CPU usage above 90%!"])
    assert saturated_cells(build_table(cells)) == [R2.name]
    assert saturated_cells(build_table([])) == []
