"""The matrix for people: summary.md (GitHub job summaries, PR comments) and the terminal view.

Pure functions: they build text from the cells and their table, and write nothing.
"""

from __future__ import annotations

import math

import pandas as pd

from loadtest import exitcodes
from loadtest.report.cells import mixed_runs
from loadtest.report.table import outcome, saturated_cells
from loadtest.results import FAIL, INCONCLUSIVE, PASS, CellResult
from loadtest.util.tables import markdown_table, text_table
from loadtest.util.text import first_line, sentence
from loadtest.util.units import format_rate

HEADERS = [
    "cell",
    "requests",
    "failures",
    "error %",
    "req/s",
    "P50 ms",
    "P95 ms",
    "P99 ms",
    "req/s per CPU",
    "result",
    "limits",
]
ALIGN = "lrrrrrrrrll"
RESOURCE_HEADERS = [
    "cell",
    "restarts",
    "OOM kills",
    "CPU throttled",
    "peak memory (max replica)",
    "served/expected",
    "Locust CPU",
]
RESOURCE_ALIGN = "lrrrrrl"


def _fmt(value: float, pattern: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, pattern)


def _error_percent(failures: float, requests: float) -> str:
    """The error rate in percent, rounded down like the gate's (0.999% is 0.99, never 1.00)."""
    if any(isinstance(value, float) and math.isnan(value) for value in (failures, requests)):
        return "–"
    return format_rate(int(failures), int(requests)).removesuffix("%")


def table_rows(table: pd.DataFrame) -> list[list[str]]:
    """The main comparison table as text cells."""
    return [
        [
            row["cell"],
            _fmt(row["requests"], ",.0f"),
            _fmt(row["failures"], ",.0f"),
            _error_percent(row["failures"], row["requests"]),
            _fmt(row["rps"], ",.1f"),
            _fmt(row["p50_ms"], ",.0f"),
            _fmt(row["p95_ms"], ",.0f") + (f"; {row['p95_over']}" if row["p95_over"] else ""),
            _fmt(row["p99_ms"], ",.0f"),
            _fmt(row["rps_per_cpu"], ",.1f"),
            row["result"],
            "enforced" if row["limits_enforced"] else "NOT ENFORCED",
        ]
        for _, row in table.iterrows()
    ]


def resource_rows(table: pd.DataFrame) -> list[list[str]]:
    """The resources table as text cells."""
    return [
        [
            row["cell"],
            str(row["restarts"]),
            _fmt(row["oom_kills"], ".0f"),
            _fmt(row["cpu_throttled_share"] * 100, ".0f") + ("%" if not math.isnan(row["cpu_throttled_share"]) else ""),
            _fmt(row["memory_peak_bytes"] / 1024**2, ",.0f")
            + (" MiB" if not math.isnan(row["memory_peak_bytes"]) else ""),
            _fmt(row["delivered_ratio"] * 100, ".0f") + ("%" if not math.isnan(row["delivered_ratio"]) else ""),
            "SATURATED" if row["locust_cpu_saturated"] else "ok",
        ]
        for _, row in table.iterrows()
    ]


def matrix_headline(code: int, table: pd.DataFrame, reasons: list[str]) -> str:
    """The first line of the summary."""
    total = len(table)
    passed = int((table["result"] == PASS).sum()) if total else 0
    if code == exitcodes.PASSED:
        return f"✅ Performance matrix PASSED: {passed} of {total} cells hold the SLO"
    if code == exitcodes.BREACHED:
        failed = int((table["result"] == FAIL).sum())
        return f"❌ Performance matrix FAILED: {failed} of {total} cells breach the SLO"
    if code == exitcodes.INCONCLUSIVE:
        doubtful = int((table["result"] == INCONCLUSIVE).sum())
        return f"⚠️ Performance matrix INCONCLUSIVE: {doubtful} of {total} cells did not measure the service"
    if not total:
        return "⚠️ Performance matrix CANNOT JUDGE: no cell results found"
    return f"⚠️ Performance matrix CANNOT JUDGE: {passed} of {total} cells passed" + (
        ", the matrix is incomplete" if reasons else ""
    )


def render_matrix_markdown(
    cells: list[CellResult], table: pd.DataFrame, missing: list[str], reasons: list[str], chart: str | None
) -> str:
    """DIR/summary.md."""
    code = outcome(table, reasons)
    parts = [f"## {matrix_headline(code, table, reasons)}", ""]
    if reasons:
        parts += [
            "> [!WARNING]",
            "> **Incomplete matrix.** " + " ".join(f"{sentence(reason)}" for reason in reasons),
            "",
        ]
    unenforced = [cell for cell in cells if not cell.record.limits_enforced]
    if unenforced:
        why = "; ".join(sorted({cell.record.limits_not_enforced_reason or "unknown" for cell in unenforced}))
        names = ", ".join(cell.record.cell for cell in unenforced)
        parts += [
            "> [!CAUTION]",
            f"> **limits_enforced: false** for {names}: the replicas ran WITHOUT their CPU and memory "
            f"limits, so these figures do not show the service under its limits. Why: {why}",
            "",
        ]
    mixed = mixed_runs(cells)
    if mixed:
        parts += [
            "> [!WARNING]",
            "> **These cells were not run together**, so they may not compare: "
            + "; ".join(mixed)
            + ". A reused results folder keeps old cell folders; give each run its own.",
            "",
        ]
    doubtful = [cell for cell in cells if cell.result == INCONCLUSIVE and cell.verdict is not None]
    if doubtful:
        parts += [
            "> [!WARNING]",
            "> **Inconclusive cells** judge nothing about the service, neither pass nor breach: "
            + "; ".join(f"**{cell.record.cell}**: {' '.join(cell.reasons)}" for cell in doubtful),
            "",
        ]
    saturated = [name for name in saturated_cells(table) if name not in {cell.record.cell for cell in doubtful}]
    if saturated:
        parts += [
            "> [!WARNING]",
            f"> **Locust ran out of CPU** in {', '.join(saturated)}: the load generator, not only the "
            "service, limited these figures, and its response times include its own delays. Before "
            "reading a breach there as the service's, give Locust more CPU (a bigger runner, or fewer "
            "CPUs for the API).",
            "",
        ]
    if not table.empty:
        parts += [markdown_table(HEADERS, table_rows(table), ALIGN), ""]
        parts += ["req/s per CPU = req/s / (replicas x CPUs per replica).", ""]
        if chart:
            parts += [f"![requests per second, P95 and error rate per cell]({chart})", ""]
        parts += ["### Resources", "", markdown_table(RESOURCE_HEADERS, resource_rows(table), RESOURCE_ALIGN), ""]
        parts += [
            "CPU throttled: share of CFS periods in which the replicas hit their quota. Served/expected: "
            "what the service served of what its users should have sent in the judged window. "
            "Locust CPU SATURATED: Locust used 90% or more of its cores for a tenth of the window or "
            "more (or warned so itself), so the load generator, not the API, limited these figures.",
            "",
        ]
    notes = []
    for cell in cells:
        if cell.result == FAIL and cell.verdict is not None:
            notes.append(f"- **{cell.record.cell}** breached: " + "; ".join(cell.reasons))
        elif cell.problem and cell.result not in (PASS, INCONCLUSIVE):
            notes.append(f"- **{cell.record.cell}**: {first_line(cell.problem)}")
    if notes:
        parts += ["### Details", "", *notes, ""]
    if cells:
        first = cells[0].record
        parts += [
            f"Backend `{first.backend}`, {first.users:,} users spawning {first.spawn_rate:g}/s for "
            f"{first.run_time}, commit `{(first.git_commit or 'unknown')[:12]}`"
            + (f", image `{first.image}`" if first.image else "")
            + ". Each cell's folder holds Locust's CSVs and HTML report, verdict.json, summary.md and run.json.",
            "",
        ]
    return "\n".join(parts)


def render_matrix_console(
    table: pd.DataFrame, missing: list[str], reasons: list[str], mixed: list[str] | None = None
) -> str:
    """The terminal version: headline, table, warnings."""
    code = outcome(table, reasons)
    lines = [matrix_headline(code, table, reasons)]
    if not table.empty:
        lines += ["", text_table(HEADERS, table_rows(table), ALIGN)]
    if mixed:
        lines += ["", "!!! These cells were not run together: " + "; ".join(mixed) + " !!!"]
    if not table.empty and not table["limits_enforced"].all():
        lines += ["", "!!! limits_enforced: false — replicas ran WITHOUT CPU/memory limits (see summary.md) !!!"]
    saturated = saturated_cells(table)
    if saturated:
        lines += [
            "",
            f"!!! Locust ran out of CPU in {', '.join(saturated)}: the load generator, not only "
            "the service, limited these figures (see summary.md) !!!",
        ]
    if reasons:
        lines += ["", "Incomplete matrix: " + "; ".join(reasons)]
    return "\n".join(lines) + "\n"
