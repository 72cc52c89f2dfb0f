"""The gate: read one Locust run's CSVs, judge them against the SLO, write and explain the verdict.

`judge_folder` is what the runner and `python -m loadtest gate` call: it reads (`reading`),
evaluates (`verdict`), renders (`render`) and writes `verdict.json` and `summary.md`.
"""

from __future__ import annotations

from pathlib import Path

from loadtest.gate.reading import AGGREGATED, GateInputError, LocustStats, endpoint_label, read_stats
from loadtest.gate.render import render_cannot_judge, render_console, render_summary, verdict_line
from loadtest.gate.verdict import evaluate
from loadtest.locust_contract import CSV_PREFIX
from loadtest.records import SUMMARY_FILE, VERDICT_FILE, Verdict, write_record
from loadtest.thresholds import Slo
from loadtest.util.files import write_atomic

__all__ = [
    "AGGREGATED",
    "GateInputError",
    "LocustStats",
    "endpoint_label",
    "evaluate",
    "judge_folder",
    "output_paths",
    "read_stats",
    "render_cannot_judge",
    "render_console",
    "render_summary",
    "verdict_line",
    "write_cannot_judge",
    "write_verdict",
]


def output_paths(run_dir: Path, json_path: Path | None, summary_path: Path | None) -> tuple[Path, Path]:
    """Where verdict.json and summary.md go: as given, else inside the run folder."""
    return (
        Path(json_path) if json_path is not None else Path(run_dir) / VERDICT_FILE,
        Path(summary_path) if summary_path is not None else Path(run_dir) / SUMMARY_FILE,
    )


def write_verdict(stats: LocustStats, verdict: Verdict, json_path: Path, summary_path: Path) -> None:
    """Write verdict.json and the Markdown summary, each atomically."""
    write_record(json_path, verdict)
    write_atomic(summary_path, render_summary(stats, verdict))


def write_cannot_judge(reason: str, json_path: Path, summary_path: Path) -> None:
    """Record that a run could not be judged: no verdict.json (a stale one is removed, so it
    cannot vouch for this run), and a summary that says why, when its folder exists."""
    json_path.unlink(missing_ok=True)
    if summary_path.parent.is_dir():
        write_atomic(summary_path, render_cannot_judge(reason))


def judge_folder(
    run_dir: Path,
    slo: Slo,
    json_path: Path | None = None,
    summary_path: Path | None = None,
    prefix: str = CSV_PREFIX,
) -> tuple[LocustStats, Verdict]:
    """Read, evaluate, and write verdict.json and summary.md (default: inside `run_dir`).

    Raises GateInputError when the run cannot be judged; nothing is written then.
    """
    stats = read_stats(run_dir, prefix)
    verdict = evaluate(stats, slo)
    write_verdict(stats, verdict, *output_paths(run_dir, json_path, summary_path))
    return stats, verdict
