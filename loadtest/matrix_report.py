"""The matrix report: every cell side by side, as the workshop's table did.

Reading (`find_cell_folders`, `collect_cell`) is separate from the pure functions that build the
table (`build_table`, `outcome`, `matrix_document`, `render_markdown`, `render_console`) and
from the ones that write files (`write_chart`, `write_report`).

A cell folder holds the runner's `run.json`, the gate's `verdict.json` and Locust's CSVs; the
figures (requests, failures, P50/P95/P99, req/s) are read from the CSVs with the gate's reader.
"""

from __future__ import annotations

import json
import math
from io import BytesIO
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from loadtest import exitcodes
from loadtest.files import write_atomic, write_json_atomic
from loadtest.gate import VERDICT_FILE, Figures, GateInputError, format_rate, markdown_table, read_run, text_table
from loadtest.records import RunRecord

RUN_FILE = "run.json"
MATRIX_FILE = "matrix.json"
SUMMARY_FILE = "summary.md"
CHART_FILE = "matrix.png"

PASS, FAIL, CANNOT_JUDGE, CUT_SHORT, ERROR = "PASS", "FAIL", "CANNOT JUDGE", "CUT SHORT", "ERROR"


class ReportError(Exception):
    """The report cannot be made from these folders; the message says why."""


@dataclass(frozen=True)
class CellResult:
    """One cell folder, read."""

    folder: Path
    record: RunRecord
    figures: Figures | None
    verdict: dict[str, Any] | None
    problem: str | None = None
    """Why the cell has no figures or no verdict."""

    @property
    def result(self) -> str:
        """PASS, FAIL, CANNOT JUDGE, CUT SHORT (interrupted) or ERROR (the run broke)."""
        if self.record.status == "failed":
            return ERROR
        if self.record.status == "interrupted":
            return CUT_SHORT
        if self.verdict is None:
            return CANNOT_JUDGE
        return PASS if self.verdict.get("passed") is True else FAIL


# --------------------------------------------------------------------------- reading


def find_cell_folders(directories: list[Path]) -> list[Path]:
    """Cell folders: each directory that holds run.json, or its subfolders that do."""
    folders: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            raise ReportError(f"{directory}: no such folder")
        if (directory / RUN_FILE).is_file():
            folders.append(directory)
        else:
            folders += sorted(child for child in directory.iterdir() if (child / RUN_FILE).is_file())
    return folders


def collect_cell(folder: Path) -> CellResult:
    """Read a cell folder; raise ReportError if its run.json is missing or invalid."""
    path = folder / RUN_FILE
    try:
        record = RunRecord.model_validate_json(path.read_bytes())
    except OSError as error:
        raise ReportError(f"{path}: cannot be read: {error.strerror}") from None
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReportError(f"{path}: not a run.json of this tool: {where}: {first['msg']}") from None
    problem = record.error
    figures = verdict = None
    try:
        figures = read_run(folder).aggregated
    except GateInputError as error:
        problem = problem or str(error)
    verdict_path = folder / VERDICT_FILE
    if verdict_path.is_file():
        try:
            verdict = json.loads(verdict_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problem = problem or f"{verdict_path}: unreadable: {error}"
    elif problem is None:
        problem = "no verdict.json: the gate could not judge this cell"
    return CellResult(folder=folder, record=record, figures=figures, verdict=verdict, problem=problem)


def missing_cells(cells: list[CellResult]) -> list[str]:
    """Cells their runs planned that have no folder here (cut short, or a job that died)."""
    present = {cell.record.cell for cell in cells}
    missing: dict[str, None] = {}
    for cell in cells:
        for name in cell.record.matrix.planned:
            if name not in present:
                missing[name] = None
    return list(missing)


def check_unique(cells: list[CellResult]) -> None:
    """Raise ReportError when two folders hold the same cell."""
    seen: dict[str, Path] = {}
    for cell in cells:
        name = cell.record.cell
        if name in seen:
            raise ReportError(f"cell {name} appears twice: {seen[name]} and {cell.folder}")
        seen[name] = cell.folder


# --------------------------------------------------------------------------- computing (pure)

COLUMNS = [
    "cell", "replicas", "cpus", "memory", "requests", "failures", "error_rate", "rps",
    "p50_ms", "p95_ms", "p99_ms", "rps_per_cpu", "result", "limits_enforced",
    "restarts", "oom_kills", "cpu_throttled_share", "memory_peak_bytes", "locust_cpu_saturated",
]  # fmt: skip


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
                "locust_cpu_saturated": bool(record.locust_cpu_warnings),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def outcome(table: pd.DataFrame, reasons: list[str]) -> int:
    """0 when every cell passed; 1 when any breached a limit; 2 when anything could not be judged
    or the matrix is incomplete (`reasons`, from `cut_short_reasons`)."""
    results = set(table["result"])
    if FAIL in results:
        return exitcodes.BREACHED
    if table.empty or reasons or results - {PASS}:
        return exitcodes.CANNOT_JUDGE
    return exitcodes.PASSED


def cut_short_reasons(cells: list[CellResult], missing: list[str], interruption: str | None = None) -> list[str]:
    """Why the matrix is incomplete (empty when it is not)."""
    reasons = [interruption] if interruption else []
    for cell in cells:
        if cell.record.status == "interrupted":
            reasons.append(f"{cell.record.cell} was interrupted ({cell.record.error or 'signal'})")
        elif cell.record.status == "failed":
            reasons.append(f"{cell.record.cell} failed: {_first_line(cell.record.error)}")
    if missing:
        reasons.append("not run: " + ", ".join(missing))
    return reasons


# What every cell of one comparison should share; a difference means the cells were not run
# together (e.g. an old cell folder left in a reused --out folder).
SHARED_FIELDS = {"git_commit": "commit", "backend": "backend", "users": "users", "spawn_rate": "spawn rate", "run_time": "run time"}


def _shown(field: str, value: object) -> str:
    """A run setting as the warning shows it: commits shortened to 12, 50.0 as 50."""
    if value is None:
        return "unknown"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:12] if field == "git_commit" else str(value)


def mixed_runs(cells: list[CellResult]) -> list[str]:
    """One sentence per setting that differs between the cells (empty when they agree)."""
    problems = []
    for field, label in SHARED_FIELDS.items():
        by_value: dict[str, list[str]] = {}
        for cell in cells:
            by_value.setdefault(_shown(field, getattr(cell.record, field)), []).append(cell.record.cell)
        if len(by_value) > 1:
            problems.append(f"{label} differs: " + "; ".join(f"{value} ({', '.join(names)})" for value, names in by_value.items()))
    return problems


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _first_line(text: str | None) -> str:
    return (text or "unknown error").strip().splitlines()[0]


def breached_checks(verdict: dict[str, Any] | None) -> list[str]:
    """The verdict's failed checks, one short line each."""
    lines = []
    for check in (verdict or {}).get("checks", []):
        if isinstance(check, dict) and check.get("passed") is False:
            lines.append(f"{check.get('name')} ({check.get('scope')}): {_plain(check.get('value'))}, limit {_plain(check.get('limit'))}")
    return lines


def _plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def matrix_document(cells: list[CellResult], table: pd.DataFrame, out: Path, missing: list[str], reasons: list[str]) -> dict[str, Any]:
    """The matrix.json document."""
    code = outcome(table, reasons)
    entries = []
    for cell, (_, row) in zip(cells, table.iterrows()):
        entries.append(
            {
                "cell": cell.record.cell,
                "folder": _relative(cell.folder, out),
                "status": cell.record.status,
                "result": cell.result,
                "limits_enforced": cell.record.limits_enforced,
                "limits_not_enforced_reason": cell.record.limits_not_enforced_reason,
                "figures": {column: _json_value(row[column]) for column in COLUMNS[4:12]},
                "resources": {column: _json_value(row[column]) for column in COLUMNS[14:]},
                "verdict": cell.verdict,
                "problem": cell.problem,
            }
        )
    return {
        "schema_version": 1,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "result": {exitcodes.PASSED: "passed", exitcodes.BREACHED: "breached"}.get(code, "cannot judge"),
        "exit_code": code,
        "complete": not reasons,
        "cut_short": reasons,
        "limits_enforced": bool(cells) and all(cell.record.limits_enforced for cell in cells),
        "cells": entries,
        "not_run": missing,
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


# --------------------------------------------------------------------------- rendering (pure)

HEADERS = ["cell", "requests", "failures", "error %", "req/s", "P50 ms", "P95 ms", "P99 ms", "req/s per CPU", "result", "limits"]
ALIGN = "lrrrrrrrrll"
RESOURCE_HEADERS = ["cell", "restarts", "OOM kills", "CPU throttled", "peak memory (max replica)", "Locust CPU"]
RESOURCE_ALIGN = "lrrrrl"


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
            _fmt(row["p95_ms"], ",.0f"),
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
            _fmt(row["memory_peak_bytes"] / 1024**2, ",.0f") + (" MiB" if not math.isnan(row["memory_peak_bytes"]) else ""),
            "SATURATED" if row["locust_cpu_saturated"] else "ok",
        ]
        for _, row in table.iterrows()
    ]


def saturated_cells(table: pd.DataFrame) -> list[str]:
    """The cells whose Locust warned that its own CPU was saturated."""
    if table.empty:
        return []
    return [str(cell) for cell in table.loc[table["locust_cpu_saturated"].astype(bool), "cell"]]


def headline(code: int, table: pd.DataFrame, reasons: list[str]) -> str:
    """The first line of the summary."""
    total = len(table)
    passed = int((table["result"] == PASS).sum()) if total else 0
    if code == exitcodes.PASSED:
        return f"✅ Performance matrix PASSED: {passed} of {total} cells hold the SLO"
    if code == exitcodes.BREACHED:
        failed = int((table["result"] == FAIL).sum())
        return f"❌ Performance matrix FAILED: {failed} of {total} cells breach the SLO"
    if not total:
        return "⚠️ Performance matrix CANNOT JUDGE: no cell results found"
    return f"⚠️ Performance matrix CANNOT JUDGE: {passed} of {total} cells passed" + (", the matrix is incomplete" if reasons else "")


def render_markdown(cells: list[CellResult], table: pd.DataFrame, missing: list[str], reasons: list[str], chart: str | None) -> str:
    """DIR/summary.md."""
    code = outcome(table, reasons)
    parts = [f"## {headline(code, table, reasons)}", ""]
    if reasons:
        parts += ["> [!WARNING]", "> **Incomplete matrix.** " + " ".join(f"{_sentence(reason)}" for reason in reasons), ""]
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
            "> **These cells were not run together**, so they may not compare: " + "; ".join(mixed)
            + ". A reused results folder keeps old cell folders; give each run its own.",
            "",
        ]
    saturated = saturated_cells(table)
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
            "CPU throttled: share of CFS periods in which the replicas hit their quota. "
            "Locust CPU SATURATED: Locust warned that its own CPU was above 90%, so the load "
            "generator, not only the API, limited these figures.",
            "",
        ]
    notes = []
    for cell in cells:
        breached = breached_checks(cell.verdict)
        if breached:
            notes.append(f"- **{cell.record.cell}** breached: " + "; ".join(breached))
        elif cell.problem and cell.result != PASS:
            notes.append(f"- **{cell.record.cell}**: {_first_line(cell.problem)}")
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


def render_console(table: pd.DataFrame, missing: list[str], reasons: list[str], mixed: list[str] | None = None) -> str:
    """The terminal version: headline, table, warnings."""
    code = outcome(table, reasons)
    lines = [headline(code, table, reasons)]
    if not table.empty:
        lines += ["", text_table(HEADERS, table_rows(table), ALIGN)]
    if mixed:
        lines += ["", "!!! These cells were not run together: " + "; ".join(mixed) + " !!!"]
    if not table.empty and not table["limits_enforced"].all():
        lines += ["", "!!! limits_enforced: false — replicas ran WITHOUT CPU/memory limits (see summary.md) !!!"]
    saturated = saturated_cells(table)
    if saturated:
        lines += ["", f"!!! Locust ran out of CPU in {', '.join(saturated)}: the load generator, not only "
                      "the service, limited these figures (see summary.md) !!!"]
    if reasons:
        lines += ["", "Incomplete matrix: " + "; ".join(reasons)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- writing


def aggregated_limits(cells: list[CellResult]) -> dict[str, float]:
    """The SLO's limits on the Aggregated row ({"max_p95_ms": 1000, ...}), from the verdicts."""
    limits: dict[str, float] = {}
    for cell in cells:
        for check in (cell.verdict or {}).get("checks", []):
            if isinstance(check, dict) and check.get("scope") == "Aggregated" and isinstance(check.get("limit"), (int, float)):
                limits.setdefault(str(check.get("name")), float(check["limit"]))
    return limits


def write_chart(table: pd.DataFrame, path: Path, limits: dict[str, float] | None = None) -> None:
    """A PNG with req/s, P95 and error % per cell, bars coloured by result, SLO limits dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    limits = limits or {}
    colours = {PASS: "#2e7d32", FAIL: "#c62828"}
    bar_colours = [colours.get(result, "#9e9e9e") for result in table["result"]]
    figure, axes = plt.subplots(1, 3, figsize=(max(10.0, 1.5 * len(table) * 3), 4.0), constrained_layout=True)
    panels = [
        ("rps", "requests per second", 1.0, limits.get("min_rps"), ",.0f"),
        ("p95_ms", "P95 response time (ms)", 1.0, limits.get("max_p95_ms"), ",.0f"),
        ("error_rate", "error rate (%)", 100.0, limits.get("max_error_rate"), ".2f"),
    ]
    for axis, (column, title, scale, limit, pattern) in zip(axes, panels):
        values = table[column].fillna(0) * scale
        bars = axis.bar(table["cell"], values, color=bar_colours)
        axis.bar_label(bars, labels=[format(value, pattern) for value in values], fontsize=8)
        top = max([float(values.max()) if len(values) else 0.0, (limit or 0.0) * scale, 1e-9])
        if limit is not None:
            axis.axhline(limit * scale, color="#c62828", linestyle="--", linewidth=1, label="SLO limit")
            axis.legend(fontsize=8, loc="upper left")
        axis.set_ylim(0, top * 1.2 if top > 1e-9 else 1)
        axis.set_title(title)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle("Performance matrix (green: pass, red: fail, grey: not judged)", fontsize=10)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    write_atomic(path, buffer.getvalue())


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
        write_chart(table, out / CHART_FILE, aggregated_limits(cells))
        chart = CHART_FILE
        paths.append(out / CHART_FILE)
    write_json_atomic(out / MATRIX_FILE, matrix_document(cells, table, out, missing, reasons))
    write_atomic(out / SUMMARY_FILE, render_markdown(cells, table, missing, reasons, chart))
    console = render_console(table, missing, reasons, mixed_runs(cells))
    return Report(code=outcome(table, reasons), console=console, paths=paths)
