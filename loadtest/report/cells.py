"""The cell folders a report is made of, read: `run.json`, `verdict.json` and their figures.

A cell folder holds the runner's `run.json`, the gate's `verdict.json` (which carries the figures
it judged) and Locust's CSVs, read only for a cell the gate could not judge.
"""

from __future__ import annotations

from pathlib import Path

from loadtest.gate.reading import GateInputError, read_stats
from loadtest.records import RUN_FILE, VERDICT_FILE, RecordError, RunRecord, Verdict, read_record
from loadtest.results import CannotJudge, CellFailure, CellResult, Interrupted, RunFailed
from loadtest.util.text import first_line


class ReportError(Exception):
    """The report cannot be made from these folders; the message says why."""


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
    """Read a cell folder (one another process ran); raise ReportError if its run.json is missing or invalid."""
    try:
        record = read_record(folder / RUN_FILE, RunRecord)
    except RecordError as error:
        raise ReportError(str(error)) from None
    problem = record.error
    verdict: Verdict | None = None
    verdict_path = folder / VERDICT_FILE
    if verdict_path.is_file():
        try:
            verdict = read_record(verdict_path, Verdict)
        except RecordError as error:
            problem = problem or str(error)
    elif problem is None:
        problem = "no verdict.json: the gate could not judge this cell"
    figures = verdict.figures if verdict is not None else None
    if figures is None:
        try:
            figures = read_stats(folder).aggregated
        except GateInputError as error:
            problem = problem or str(error)
    return CellResult(folder=folder, record=record, verdict=verdict, figures=figures, failure=_failure(record, problem))


def _failure(record: RunRecord, problem: str | None) -> CellFailure | None:
    """What a cell folder says went wrong, as the engine's failure of the same kind."""
    if problem is None:
        return None
    if record.status == "interrupted":
        return Interrupted(problem)
    if record.status == "failed":
        return RunFailed(problem)
    return CannotJudge(problem)


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


def cut_short_reasons(cells: list[CellResult], missing: list[str], interruption: str | None = None) -> list[str]:
    """Why the matrix is incomplete (empty when it is not)."""
    reasons = [interruption] if interruption else []
    for cell in cells:
        if cell.record.status == "interrupted":
            reasons.append(f"cell {cell.record.cell} was interrupted ({cell.record.error or 'signal'})")
        elif cell.record.status == "failed":
            reasons.append(f"cell {cell.record.cell} failed: {first_line(cell.record.error)}")
    if missing:
        reasons.append("not run: " + ", ".join(missing))
    return reasons


# What every cell of one comparison should share; a difference means the cells were not run
# together (e.g. an old cell folder left in a reused --out folder).
SHARED_FIELDS = {
    "git_commit": "commit",
    "backend": "backend",
    "users": "users",
    "spawn_rate": "spawn rate",
    "run_time": "run time",
}


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
            problems.append(
                f"{label} differs: " + "; ".join(f"{value} ({', '.join(names)})" for value, names in by_value.items())
            )
    return problems
