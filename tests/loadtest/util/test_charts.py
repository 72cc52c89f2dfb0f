"""Fixed margins in inches (loadtest/util/charts.py)."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from loadtest.util.charts import Margins

MARGINS = Margins(left=0.8, right=0.2, top=0.7, bottom=0.5, column_gap=0.6, row_gap=0.9)


def panel_edges(figure: Figure) -> list[tuple[float, float, float, float]]:
    """Each panel's left, bottom, right and top edge in inches from the figure's lower left corner."""
    width, height = figure.get_size_inches()
    edges = []
    for axis in figure.axes:
        box = axis.get_position()
        edges.append((box.x0 * width, box.y0 * height, box.x1 * width, box.y1 * height))
    return edges


@pytest.mark.parametrize(("width", "columns"), [(6.8, 2), (17.0, 5)])
def test_the_margins_and_gaps_are_the_inches_given_whatever_the_size(width: float, columns: int) -> None:
    figure = Figure(figsize=(width, 6.2))
    MARGINS.apply(figure, 2, columns)
    figure.subplots(2, columns)
    edges = panel_edges(figure)
    lefts = sorted({round(edge[0], 6) for edge in edges})
    rights = sorted({round(edge[2], 6) for edge in edges})
    bottoms = sorted({round(edge[1], 6) for edge in edges})
    tops = sorted({round(edge[3], 6) for edge in edges})
    assert lefts[0] == pytest.approx(0.8)
    assert rights[-1] == pytest.approx(width - 0.2)
    assert bottoms[0] == pytest.approx(0.5)
    assert tops[-1] == pytest.approx(6.2 - 0.7)
    assert [left - right for left, right in zip(lefts[1:], rights[:-1], strict=True)] == pytest.approx(
        [0.6] * (columns - 1)
    )
    assert bottoms[1] - tops[0] == pytest.approx(0.9)


def test_a_figure_too_small_for_its_panels_is_refused_naming_the_size() -> None:
    with pytest.raises(ValueError, match=r"a 2 x 6.2 in figure has no room for 2 x 3 panels"):
        MARGINS.apply(Figure(figsize=(2.0, 6.2)), 2, 3)
