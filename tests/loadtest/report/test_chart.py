"""matrix.png (loadtest/report/chart.py): drawn from the table, whatever the cells hold."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from loadtest.report import collect_cell
from loadtest.report.chart import render_chart
from loadtest.report.table import build_table
from loadtest.runner.matrix import Cell
from loadtest.thresholds import Slo
from tests.loadtest.cell_folders import write_cell

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(("replica_counts", "width"), [([1, 2], 1100), ([1, 2, 3, 4], 1980)])
def test_the_chart_widens_with_the_cells(tmp_path: Path, slo: Slo, replica_counts: list[int], width: int) -> None:
    cells = [collect_cell(write_cell(tmp_path, Cell(count, 0.5, "512m"), slo)) for count in replica_counts]
    assert png_size(render_chart(build_table(cells), slo)) == (width, 440)  # 110 dpi, at least 10 x 4 inches


def test_cells_without_figures_and_no_slo_still_draw(tmp_path: Path, slo: Slo) -> None:
    cells = [collect_cell(write_cell(tmp_path, Cell(1, 0.5, "512m"), slo, status="failed", csvs=False))]
    assert png_size(render_chart(build_table(cells), None)) == (1100, 440)
