"""search.png: the grid as a heat map of what the search found, and the capacity curves.

Left: replicas (rows, most at the top, where the walk starts) against the CPU limit (columns), each
configuration coloured by its state: pass, fail, inconclusive, ruled out by a failure that covers it
(hatched), not needed (costs at least the winner), not tried; the winner framed. Right: P95 against
users for every configuration whose capacity was measured, the SLO's limit dashed.
"""

from __future__ import annotations

from io import BytesIO

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from loadtest.records import OUTCOME_WORDS
from loadtest.search.records import SearchRecord
from loadtest.search.walk import State

COLOURS: dict[State, str] = {
    "pass": "#2e7d32",
    "breach": "#c62828",
    "inconclusive": "#f9a825",
    "ruled out": "#e57373",
    "not needed": "#c8e6c9",
    "not tried": "#eeeeee",
}
_TEXT_ON = {"pass": "white", "breach": "white"}
_LINE_COLOURS = ["#1565c0", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#455a64"]


def render_chart(record: SearchRecord) -> bytes:
    """The PNG."""
    figure = Figure(figsize=(13.0, 5.0))
    figure.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.13, wspace=0.28)
    grid_axis, curve_axis = figure.subplots(1, 2)
    _heat_map(grid_axis, record)
    _capacity(curve_axis, record)
    figure.suptitle(f"search: {record.answer}", fontsize=10)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _heat_map(axis: Axes, record: SearchRecord) -> None:
    replicas = sorted(record.grid.replicas, reverse=True)
    cpus = sorted(record.grid.cpus)
    p95 = {
        probe.cell: probe.figures.p95_ms
        for probe in record.probes
        if probe.kind == "cpu" and probe.figures and probe.figures.p95_ms is not None
    }
    winner = record.winner or record.candidate
    for row in record.configurations:
        x, y = cpus.index(row.cpus), replicas.index(row.replicas)
        axis.add_patch(
            Rectangle(
                (x, y),
                1,
                1,
                facecolor=COLOURS[row.state],
                edgecolor="white",
                hatch="//" if row.state == "ruled out" else None,
                linewidth=2,
            )
        )
        label = OUTCOME_WORDS[row.state] if row.state in ("pass", "breach") else row.state
        if row.cell in p95 and row.state in ("pass", "breach", "inconclusive"):
            label += f"\nP95 {p95[row.cell]:,.0f} ms"
        if row.state == "ruled out" and row.by:
            label += f"\nby {row.by.split('-mem')[0]}"
        axis.text(x + 0.5, y + 0.5, label, ha="center", va="center", fontsize=8, color=_TEXT_ON.get(row.state, "black"))
        if winner is not None and (winner.replicas, winner.cpus) == (row.replicas, row.cpus):
            axis.add_patch(Rectangle((x + 0.03, y + 0.03), 0.94, 0.94, fill=False, edgecolor="black", linewidth=3))
            if winner.memory != row.memory:
                axis.text(x + 0.5, y + 0.85, f"answer at {winner.memory}", ha="center", fontsize=7, color="white")
    axis.set_xlim(0, len(cpus))
    axis.set_ylim(len(replicas), 0)
    axis.set_xticks([index + 0.5 for index in range(len(cpus))], [f"{value:g}" for value in cpus])
    axis.set_yticks([index + 0.5 for index in range(len(replicas))], [str(value) for value in replicas])
    axis.set_xlabel("CPU limit per replica")
    axis.set_ylabel("replicas")
    memory = record.grid.memory[-1]
    axis.set_title(f"the grid at {memory} per replica (framed: the answer), P95 at {record.users:,} users", fontsize=9)
    present = list(dict.fromkeys(row.state for row in record.configurations))
    axis.legend(
        handles=[
            Patch(facecolor=COLOURS[state], hatch="//" if state == "ruled out" else None, label=state)
            for state in present
        ],
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncol=len(present),
        frameon=False,
    )


def _capacity(axis: Axes, record: SearchRecord) -> None:
    limit = record.slo.max_p95_ms
    drawn = False
    for colour, capacity in zip(_LINE_COLOURS * 4, record.capacities, strict=False):
        points = sorted((point.users, point.p95_ms, point.outcome) for point in capacity.points if point.p95_ms)
        if not points:
            continue
        axis.plot(
            [users for users, _, _ in points],
            [p95 for _, p95, _ in points],
            color=colour,
            marker="o",
            label=capacity.cell,
        )
        for users, p95, outcome in points:
            if outcome == "breach":
                axis.plot([users], [p95], marker="x", color="#c62828", markersize=10)
            elif outcome != "pass":
                # Inconclusive (Locust set the pace): measured, but not a failure of the service.
                axis.plot([users], [p95], marker="o", markersize=12, fillstyle="none", color="#f9a825")
        drawn = True
    axis.axhline(limit, color="#c62828", linestyle="--", linewidth=1, label=f"SLO P95 {limit:,g} ms")
    axis.set_yscale("log")
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:,.0f}"))
    axis.yaxis.set_minor_formatter(FuncFormatter(lambda value, _position: f"{value:,.0f}"))
    axis.set_xlabel("users")
    axis.set_ylabel("P95 (ms, log scale)")
    title = "capacity: P95 against users (x: did not hold; ring: inconclusive)" if drawn else "capacity: not measured"
    axis.set_title(title, fontsize=9)
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, loc="upper left")
