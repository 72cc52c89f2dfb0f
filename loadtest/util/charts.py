"""Fixed margins for the PNGs, in inches, whatever a figure's size and panel count.

matplotlib's `layout="constrained"` finds margins by drawing the figure once to measure its texts,
then again to render it: twice the cost (~1 s more for compare's ten panels). The texts of our
charts are known (font sizes, the longest tick label), so the room they need is given here in
inches and turned into the fractions `subplots_adjust` takes: a chart of more panels keeps the
same margins and gaps instead of squeezing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Margins:
    """Room around and between a grid of panels, in inches: `top` holds the titles, `bottom` and
    `row_gap` the x labels, `left` and `column_gap` the y tick labels and labels."""

    left: float
    right: float
    top: float
    bottom: float
    column_gap: float = 0.0
    row_gap: float = 0.0

    def apply(self, figure: Figure, rows: int, columns: int) -> None:
        """Set the figure's subplot parameters (call before `figure.subplots(rows, columns)`).

        ValueError when the figure is too small to leave its panels any room.
        """
        width, height = (float(size) for size in figure.get_size_inches())
        panel_width = (width - self.left - self.right - (columns - 1) * self.column_gap) / columns
        panel_height = (height - self.top - self.bottom - (rows - 1) * self.row_gap) / rows
        if panel_width <= 0 or panel_height <= 0:
            raise ValueError(
                f"a {width:g} x {height:g} in figure has no room for {rows} x {columns} panels within {self}"
            )
        figure.subplots_adjust(
            left=self.left / width,
            right=1 - self.right / width,
            top=1 - self.top / height,
            bottom=self.bottom / height,
            # matplotlib's gaps are fractions of the average panel's width and height.
            wspace=self.column_gap / panel_width,
            hspace=self.row_gap / panel_height,
        )
