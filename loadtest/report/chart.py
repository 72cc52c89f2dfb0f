"""matrix.png: req/s, P95 and error rate per cell, bars coloured by result, the SLO's limits dashed."""

from __future__ import annotations

from io import BytesIO

import pandas as pd
from matplotlib.figure import Figure

from loadtest.results import FAIL, PASS
from loadtest.thresholds import Slo
from loadtest.util.charts import Margins

_COLOURS = {PASS: "#2e7d32", FAIL: "#c62828"}
_NOT_JUDGED = "#9e9e9e"
# The room the texts take, in inches (fixed: a constrained layout drew the figure twice): the titles
# above, the cells' names under the bars (turned 30 degrees), the y tick labels beside each panel.
_MARGINS = Margins(left=0.55, right=0.15, top=0.6, bottom=0.95, column_gap=0.6)


def render_chart(table: pd.DataFrame, slo: Slo | None) -> bytes:
    """The PNG, from the matrix table (`report.table.build_table`) and the SLO the cells were judged on."""
    bar_colours = [_COLOURS.get(result, _NOT_JUDGED) for result in table["result"]]
    # matplotlib's object API: no pyplot, so no global figure state and no GUI backend to pick.
    figure = Figure(figsize=(max(10.0, 1.5 * len(table) * 3), 4.0))
    _MARGINS.apply(figure, 1, 3)
    axes = figure.subplots(1, 3)
    panels = [
        ("rps", "requests per second", 1.0, slo.min_rps if slo else None, ",.0f"),
        ("p95_ms", "P95 response time (ms)", 1.0, slo.max_p95_ms if slo else None, ",.0f"),
        ("error_rate", "error rate (%)", 100.0, slo.max_error_rate if slo else None, ".2f"),
    ]
    for axis, (column, title, scale, limit, pattern) in zip(axes, panels, strict=True):
        values = table[column].fillna(0) * scale
        bars = axis.bar(table["cell"], values, color=bar_colours)
        axis.bar_label(bars, labels=[format(value, pattern) for value in values], fontsize=8)
        top = max([float(values.max()) if len(values) else 0.0, (limit or 0.0) * scale, 1e-9])
        if limit is not None:
            axis.axhline(limit * scale, color=_COLOURS[FAIL], linestyle="--", linewidth=1, label="SLO limit")
            axis.legend(fontsize=8, loc="upper left")
        axis.set_ylim(0, top * 1.2 if top > 1e-9 else 1)
        axis.set_title(title)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle("Performance matrix (green: pass, red: fail, grey: not judged)", fontsize=10)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
