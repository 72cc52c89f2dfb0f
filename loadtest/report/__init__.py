"""The matrix report: every cell side by side, as the workshop's table did.

`write_report` reads nothing itself: it takes the cells (`collect_cell` reads a folder), builds the
table (`table`), renders it (`matrix_summary`, `chart`) and writes matrix.json, summary.md and matrix.png.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loadtest.records import SUMMARY_FILE
from loadtest.report.cells import (
    ReportError,
    check_unique,
    collect_cell,
    cut_short_reasons,
    find_cell_folders,
    missing_cells,
    mixed_runs,
)
from loadtest.report.chart import render_chart
from loadtest.report.matrix_summary import render_matrix_console, render_matrix_markdown
from loadtest.report.table import build_table, matrix_document, outcome
from loadtest.results import CellResult
from loadtest.util.files import write_atomic, write_json_atomic

__all__ = [
    "CHART_FILE",
    "MATRIX_FILE",
    "CellResult",
    "Report",
    "ReportError",
    "collect_cell",
    "find_cell_folders",
    "write_report",
]

MATRIX_FILE = "matrix.json"
CHART_FILE = "matrix.png"


@dataclass
class Report:
    """What `write_report` produced."""

    code: int
    console: str
    paths: list[Path] = field(default_factory=list)


def write_report(cells: list[CellResult], out: Path, interruption: str | None = None) -> Report:
    """Write matrix.json, summary.md and matrix.png into `out`; return the exit code and console text."""
    check_unique(cells)
    missing = missing_cells(cells)
    reasons = cut_short_reasons(cells, missing, interruption)
    table = build_table(cells)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / MATRIX_FILE, out / SUMMARY_FILE]
    chart = None
    if not table.empty:
        slo = next((cell.verdict.slo for cell in cells if cell.verdict is not None), None)
        write_atomic(out / CHART_FILE, render_chart(table, slo))
        chart = CHART_FILE
        paths.append(out / CHART_FILE)
    write_json_atomic(out / MATRIX_FILE, matrix_document(cells, table, out, missing, reasons))
    write_atomic(out / SUMMARY_FILE, render_matrix_markdown(cells, table, missing, reasons, chart))
    console = render_matrix_console(table, missing, reasons, mixed_runs(cells))
    return Report(code=outcome(table, reasons), console=console, paths=paths)
