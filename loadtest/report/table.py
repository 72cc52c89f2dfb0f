"""The matrix as a table: one row per cell, figures as numbers, and the matrix's outcome.

Pure functions over `CellResult`s; `matrix_document` is the matrix.json document.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from loadtest import exitcodes
from loadtest.gate.reading import AGGREGATED
from loadtest.gate.verdict import locust_saturated
from loadtest.gate.verdict_summary import share_over_text
from loadtest.results import FAIL, INCONCLUSIVE, PASS, CellResult

COLUMNS = [
    "cell",
    "replicas",
    "cpus",
    "memory",
    "requests",
    "failures",
    "error_rate",
    "rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "rps_per_cpu",
    "result",
    "limits_enforced",
    "restarts",
    "oom_kills",
    "cpu_throttled_share",
    "memory_peak_bytes",
    "locust_cpu_saturated",
    "delivered_ratio",
    "p95_over",
]
FIGURE_COLUMNS = COLUMNS[4:12]
"""matrix.json's `figures` of a cell."""
RESOURCE_COLUMNS = COLUMNS[14:20]
"""matrix.json's `resources` of a cell."""


def build_table(cells: list[CellResult]) -> pd.DataFrame:
    """One row per cell, figures as numbers (NaN where there are none)."""
    rows = []
    for cell in cells:
        record, figures = cell.record, cell.figures
        usages = [replica.usage for replica in record.replica_records if replica.usage is not None]
        periods = sum(usage.cpu_periods or 0 for usage in usages)
        throttled = sum(usage.cpu_throttled_periods or 0 for usage in usages)
        peaks = [usage.memory_peak_bytes for usage in usages if usage.memory_peak_bytes is not None]
        ooms = [usage.oom_kills for usage in usages if usage.oom_kills is not None]
        rows.append(
            {
                "cell": record.cell,
                "replicas": record.replicas,
                "cpus": record.cpus,
                "memory": record.memory,
                "requests": figures.requests if figures else math.nan,
                "failures": figures.failures if figures else math.nan,
                "error_rate": _number(figures.error_rate) if figures else math.nan,
                "rps": figures.rps if figures else math.nan,
                "p50_ms": _number(figures.p50_ms) if figures else math.nan,
                "p95_ms": _number(figures.p95_ms) if figures else math.nan,
                "p99_ms": _number(figures.p99_ms) if figures else math.nan,
                "rps_per_cpu": figures.rps / (record.replicas * record.cpus) if figures else math.nan,
                "result": cell.result,
                "limits_enforced": record.limits_enforced,
                "restarts": sum(replica.restarts for replica in record.replica_records),
                "oom_kills": sum(ooms) if ooms else math.nan,
                "cpu_throttled_share": throttled / periods if periods else math.nan,
                "memory_peak_bytes": max(peaks) if peaks else math.nan,
                "locust_cpu_saturated": _locust_saturated(cell),
                "delivered_ratio": cell.verdict.delivery.ratio if cell.verdict and cell.verdict.delivery else math.nan,
                "p95_over": _p95_over(cell),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _p95_over(cell: CellResult) -> str:
    """The Aggregated P95 limit's share over it and its interval (`5.3% over 1,000 ms [4.1%, 6.6%]`), when
    the cell was judged from its histograms; else empty."""
    if cell.verdict is None:
        return ""
    check = next((c for c in cell.verdict.checks if c.name == "max_p95_ms" and c.scope == AGGREGATED), None)
    return share_over_text(check) if check is not None and check.estimate is not None else ""


def _locust_saturated(cell: CellResult) -> bool:
    """Locust's CPU was the limit: measured in the judged window, else Locust's own warnings."""
    measured = locust_saturated(cell.verdict.resources) if cell.verdict is not None else None
    return measured if measured is not None else bool(cell.record.locust_cpu_warnings)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def outcome(table: pd.DataFrame, reasons: list[str]) -> int:
    """0 when every cell passed; 1 when any breached a limit; 2 when anything could not be judged
    or the matrix is incomplete (`reasons`, from `cut_short_reasons`)."""
    results = set(table["result"])
    if FAIL in results:
        return exitcodes.BREACHED
    if table.empty or reasons or results - {PASS, INCONCLUSIVE}:
        return exitcodes.CANNOT_JUDGE
    if INCONCLUSIVE in results:
        return exitcodes.INCONCLUSIVE
    return exitcodes.PASSED


def matrix_document(
    cells: list[CellResult], table: pd.DataFrame, out: Path, missing: list[str], reasons: list[str]
) -> dict[str, Any]:
    """The matrix.json document."""
    code = outcome(table, reasons)
    entries = []
    for cell, (_, row) in zip(cells, table.iterrows(), strict=True):
        entries.append(
            {
                "cell": cell.record.cell,
                "folder": _relative(cell.folder, out),
                "status": cell.record.status,
                "result": cell.result,
                "limits_enforced": cell.record.limits_enforced,
                "limits_not_enforced_reason": cell.record.limits_not_enforced_reason,
                "figures": {column: _json_value(row[column]) for column in FIGURE_COLUMNS},
                "resources": {column: _json_value(row[column]) for column in RESOURCE_COLUMNS},
                "verdict": cell.verdict.model_dump(mode="json") if cell.verdict is not None else None,
                "problem": cell.problem,
                "reasons": cell.reasons,
                "generator_capacity_rps": (
                    capacity.model_dump(mode="json") if (capacity := cell.record.generator_capacity_rps) else None
                ),
            }
        )
    return {
        "schema_version": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "result": RESULT_WORDS.get(code, "cannot judge"),
        "exit_code": code,
        "complete": not reasons,
        "cut_short": reasons,
        "limits_enforced": bool(cells) and all(cell.record.limits_enforced for cell in cells),
        "on_inconclusive": next((cell.verdict.slo.on_inconclusive for cell in cells if cell.verdict), "fail"),
        "generator_capacity_rps": _generator(cells),
        "cells": entries,
        "not_run": missing,
    }


RESULT_WORDS = {
    exitcodes.PASSED: "passed",
    exitcodes.BREACHED: "breached",
    exitcodes.INCONCLUSIVE: "inconclusive",
}


def _generator(cells: list[CellResult]) -> dict[str, Any] | None:
    """What one Locust process delivered in the calibration, and each cell's total (its processes):
    run.json's `per_worker_rps` and `total_rps`, the total by cell."""
    measured = {
        cell.record.cell: cell.record.generator_capacity_rps
        for cell in cells
        if cell.record.generator_capacity_rps is not None
    }
    if not measured:
        return None
    first = next(iter(measured.values()))
    return {
        "per_worker_rps": first.per_worker_rps,
        "total_rps": {name: value.total_rps for name, value in measured.items()},
    }


def _relative(folder: Path, out: Path) -> str:
    try:
        return str(folder.resolve().relative_to(out.resolve()))
    except ValueError:
        return str(folder)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def saturated_cells(table: pd.DataFrame) -> list[str]:
    """The cells whose Locust warned that its own CPU was saturated."""
    if table.empty:
        return []
    return [str(cell) for cell in table.loc[table["locust_cpu_saturated"].astype(bool), "cell"]]
