"""A run folder judged: Locust's CSVs and the cell's run.json read, evaluated, and verdict.json,
timeline.png and summary.md written beside them (what `python -m loadtest gate` does; the cell
engine, which has the record of what ran in hand, calls the same steps itself)."""

from __future__ import annotations

from pathlib import Path

from loadtest.gate.latency import read_cell_recording
from loadtest.gate.reading import GateInputError, LocustStats, read_stats
from loadtest.gate.timeline import TIMELINE_FILE, render_timeline
from loadtest.gate.verdict import evaluate
from loadtest.gate.verdict_summary import render_cannot_judge, render_summary
from loadtest.locust_contract import CSV_PREFIX
from loadtest.records import (
    RUN_FILE,
    SUMMARY_FILE,
    VERDICT_FILE,
    RecordError,
    RunRecord,
    Verdict,
    read_record,
    write_record,
)
from loadtest.thresholds import Slo
from loadtest.util.files import write_atomic


def output_paths(run_dir: Path, json_path: Path | None, summary_path: Path | None) -> tuple[Path, Path]:
    """Where verdict.json and summary.md go: as given, else inside the run folder."""
    return (
        Path(json_path) if json_path is not None else Path(run_dir) / VERDICT_FILE,
        Path(summary_path) if summary_path is not None else Path(run_dir) / SUMMARY_FILE,
    )


def write_verdict(
    stats: LocustStats, verdict: Verdict, json_path: Path, summary_path: Path, record: RunRecord | None = None
) -> None:
    """Write verdict.json, timeline.png (in the run folder) and the Markdown summary, each atomically.

    The summary shows the timeline when it sits beside it, in the run folder.
    """
    write_record(json_path, verdict)
    recording = read_cell_recording(stats.run_dir) if verdict.source == "histograms" else None
    picture = render_timeline(stats, verdict.window, verdict.slo, record, recording)
    embedded = None
    if picture is not None:
        write_atomic(stats.run_dir / TIMELINE_FILE, picture)
        if summary_path.resolve().parent == stats.run_dir.resolve():
            embedded = TIMELINE_FILE
    write_atomic(summary_path, render_summary(stats, verdict, embedded))


def read_run_record(run_dir: Path) -> RunRecord | None:
    """The cell's run.json, when the folder has one (RecordError when it is not valid)."""
    path = Path(run_dir) / RUN_FILE
    return read_record(path, RunRecord) if path.is_file() else None


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
    """Read (with the cell's run.json when there is one), evaluate, and write verdict.json,
    timeline.png and summary.md (default: inside `run_dir`).

    Raises GateInputError when the run cannot be judged (an invalid run.json included); nothing is
    written then.
    """
    stats = read_stats(run_dir, prefix)
    try:
        record = read_run_record(run_dir)
    except RecordError as error:
        raise GateInputError(str(error)) from None
    verdict = evaluate(stats, slo, record)
    write_verdict(stats, verdict, *output_paths(run_dir, json_path, summary_path), record)
    return stats, verdict
