"""The one reader of Locust's files: its four CSVs, as typed rows.

`read_stats` reads a finished run for the gate, checked, as `LocustStats`: anything that makes the
figures untrustworthy (a missing, empty, truncated or corrupt CSV, no Aggregated row, N/A where a
figure must be, more failures than requests, a history that ends somewhere else than the stats)
raises `GateInputError`: the run cannot be judged. `HistoryFollower` reads the history of a run
while Locust writes it (the engine's progress and stop check, `ui`'s tests), passing over what is
not complete yet. Both parse a history row with `history_row`, find the Aggregated row with
`is_aggregated` and a reset of Locust's statistics with `is_reset`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loadtest.locust_contract import CSV_PREFIX, csv_paths
from loadtest.records import Figures, Window
from loadtest.util.text import first_line

AGGREGATED = "Aggregated"
"""The Name of the row Locust adds after every endpoint: the whole run."""

# The columns the gate needs; Locust writes more (its own header is in tests/data/locust/).
STATS_COLUMNS = (
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Average Response Time",
    "Requests/s",
    "50%",
    "95%",
    "99%",
)
FAILURES_COLUMNS = ("Method", "Name", "Error", "Occurrences")
EXCEPTIONS_COLUMNS = ("Count", "Message", "Traceback", "Nodes")
HISTORY_COLUMNS = (
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    "Total Request Count",
    "Total Failure Count",
)

# Columns that may legitimately be empty: the Aggregated row has no Type; a failure's
# timestamps, an exception's traceback and nodes may be blank.
_MAY_BE_EMPTY = {"Type", "Method", "First Seen", "Last Seen", "Traceback", "Nodes"}
_NOT_AVAILABLE = "N/A"


@dataclass(frozen=True)
class HistoryRow:
    """One row of Locust's locust_stats_history.csv: an endpoint or the Aggregated row, at one second."""

    timestamp: int
    """Unix time of the row, whole seconds (Locust writes one a second)."""
    name: str
    """The endpoint's label ("POST /predict"), or `Aggregated`."""
    aggregated: bool
    users: int
    rps: float
    """Requests per second over about the last 10 seconds (Locust's "current" rate)."""
    failures_per_second: float
    requests: int
    """Requests since Locust's statistics started (or were last reset)."""
    failures: int
    p95_ms: float | None = None
    """P95 of about the last 10 seconds (Locust's "current" percentiles); None before any reply."""
    mean_ms: float | None = None
    """Mean reply time since Locust's statistics started (or were reset); None before any reply."""


def history_row(cells: Mapping[str, str]) -> HistoryRow | None:
    """A row of the history from its cells by column name; None when a figure is missing or not a number
    (a line Locust has not finished writing, or not Locust's)."""
    try:
        kind, name = cells["Type"], cells["Name"]
        requests = int(cells["Total Request Count"])
        return HistoryRow(
            timestamp=int(cells["Timestamp"]),
            name=AGGREGATED if is_aggregated(kind, name) else endpoint_label(kind, name),
            aggregated=is_aggregated(kind, name),
            users=int(cells["User Count"]),
            rps=float(cells["Requests/s"]),
            failures_per_second=float(cells["Failures/s"]),
            requests=requests,
            failures=int(cells["Total Failure Count"]),
            p95_ms=_optional(cells["95%"]),
            mean_ms=_optional(cells["Total Average Response Time"]) if requests else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class HistoryLine:
    """One complete line of the history as Locust wrote it (line end included), and its row."""

    text: str
    row: HistoryRow


def _optional(text: str) -> float | None:
    """A figure Locust may not have yet (N/A before any reply)."""
    return None if text in (_NOT_AVAILABLE, "") else float(text)


class HistoryFollower:
    """Locust's growing locust_stats_history.csv, read as it grows: each call gives the rows written since
    the last one. A line still being written waits for the next call; the file may not exist yet; a line
    that is not a row of Locust's history is passed over."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header = ""
        """The header line as Locust wrote it, once it has been read ("" before)."""
        self._offset = 0
        self._columns: list[str] = []

    def new_rows(self) -> list[HistoryRow]:
        """The complete rows added since the last call, oldest first."""
        return [line.row for line in self.new_lines()]

    def new_lines(self) -> list[HistoryLine]:
        """The complete lines added since the last call, oldest first, each with its text."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        lines: list[HistoryLine] = []
        for text in complete.decode("utf-8", errors="replace").splitlines(keepends=True):
            cells = next(csv.reader([text]), [])
            if not self.header:
                self.header, self._columns = text, cells
                continue
            row = history_row(dict(zip(self._columns, cells, strict=False)))
            if row is not None:
                lines.append(HistoryLine(text, row))
        return lines


def stats_totals(stats_csv: str) -> tuple[int, int]:
    """(requests, failures) of the Aggregated row of a locust_stats.csv's text (`ui` downloads it from
    Locust's web API); ValueError when it has none."""
    for row in csv.DictReader(io.StringIO(stats_csv, newline="")):
        if is_aggregated(row.get("Type"), row.get("Name")):
            return int(row["Request Count"]), int(row["Failure Count"])
    raise ValueError("no Aggregated row in Locust's statistics")


def is_aggregated(kind: object, name: object) -> bool:
    """Whether a row of Locust's stats or history is its Aggregated row: that Name, and no Type (an
    endpoint of a locustfile's own could be called "Aggregated": it has its method as Type)."""
    return (kind is None or kind == "" or (isinstance(kind, float) and math.isnan(kind))) and name == AGGREGATED


class GateInputError(Exception):
    """The run cannot be judged (exit code 2); the message names the file and the problem."""


@dataclass(frozen=True)
class FailureRow:
    """One row of locust_failures.csv: a kind of failure of one endpoint, and how often it happened."""

    endpoint: str
    """The endpoint's label, as in the stats ("POST /predict")."""
    error: str
    occurrences: int


@dataclass(frozen=True)
class ExceptionRow:
    """One row of locust_exceptions.csv: an exception the locustfile itself raised."""

    count: int
    message: str


@dataclass(frozen=True)
class LocustStats:
    """The four CSVs of one Locust run, read and checked."""

    run_dir: Path
    paths: dict[str, Path]
    """The CSVs read, by kind: stats, failures, exceptions, stats_history."""
    aggregated: Figures
    endpoints: dict[str, Figures]
    """Endpoint label ("POST /predict") -> its figures, in Locust's order."""
    failures: tuple[FailureRow, ...]
    exceptions: tuple[ExceptionRow, ...]
    history: tuple[HistoryRow, ...]
    """Every row of locust_stats_history.csv (endpoints and Aggregated), in the file's order."""

    @property
    def stats_path(self) -> Path:
        """locust_stats.csv, named in the messages about its figures."""
        return self.paths["stats"]

    @property
    def peak_users(self) -> int | None:
        """The most users Locust had running at once, from the history."""
        return max((row.users for row in self.history), default=None)

    @property
    def duration_s(self) -> int | None:
        """Seconds between the first and the last row of the history."""
        stamps = [row.timestamp for row in self.history]
        return max(stamps) - min(stamps) if stamps else None

    @property
    def aggregated_history(self) -> list[HistoryRow]:
        """The history's Aggregated rows, one a second, in order."""
        return sorted((row for row in self.history if row.aggregated), key=lambda row: row.timestamp)

    @property
    def window(self) -> Window:
        """The part of the run its statistics cover: see `judged_window`."""
        return self.judged_window(after_spawn=False)

    def judged_window(self, after_spawn: bool) -> Window:
        """The part of the run the statistics cover: after Locust reset them (`--reset-stats`, once
        every user ran), which shows in the history as running totals that fall (`is_reset`), else the
        whole run.

        With `after_spawn` (the run was told to reset), a reset that shows no fall (nothing was
        counted before it) is found where the users first reach their peak, when spawning ends.
        """
        rows = self.aggregated_history
        if not rows:
            return Window(kind="whole run", start=None, end=None, seconds=0.0)
        resets = [index for index in range(1, len(rows)) if is_reset(rows[index - 1], rows[index])]
        first: int | None
        if resets:
            first = resets[-1]
        elif after_spawn:
            peak = max(row.users for row in rows)
            first = next(index for index, row in enumerate(rows) if row.users == peak)
        else:
            first = None
        kind: Literal["after spawn", "whole run"] = "whole run" if first is None else "after spawn"
        start, end = float(rows[first or 0].timestamp), float(rows[-1].timestamp)
        return Window(kind=kind, start=start, end=end, seconds=end - start)

    def users_in(self, window: Window) -> float | None:
        """Users running on average over `window` (None without history), leaving out the last rows
        Locust writes while it stops its users."""
        if window.start is None or window.end is None:
            return None
        inside = [row.users for row in self.aggregated_history if window.start <= row.timestamp <= window.end]
        if not inside:
            return None
        peak = max(inside)
        running = inside[: max(index for index, users in enumerate(inside) if users >= peak) + 1]
        return sum(running) / len(running)


def is_reset(before: HistoryRow, after: HistoryRow) -> bool:
    """Whether Locust reset its statistics between two Aggregated rows: its running totals fell (with
    `--reset-stats` once every user runs, and in `ui` when a test starts)."""
    return after.requests < before.requests


def read_stats(run_dir: Path, prefix: str = CSV_PREFIX) -> LocustStats:
    """Read and check a run's CSVs; raise GateInputError naming the file and the problem."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        problem = "is not a folder" if run_dir.exists() else "no such folder"
        raise GateInputError(f"{run_dir}: {problem} (expected Locust's CSVs in it)")
    paths = csv_paths(run_dir, prefix)
    stats = _read_csv(paths["stats"], STATS_COLUMNS)
    failures = _read_csv(paths["failures"], FAILURES_COLUMNS)
    exceptions = _read_csv(paths["exceptions"], EXCEPTIONS_COLUMNS)
    history = _read_csv(paths["stats_history"], HISTORY_COLUMNS)

    rows = [_figures(row, paths["stats"]) for _, row in stats]
    aggregated_rows = [figures for figures, (_, row) in zip(rows, stats, strict=True) if _is_aggregated(row)]
    if not aggregated_rows:
        raise GateInputError(f"{paths['stats']}: no Aggregated row (the file is truncated or not Locust's)")
    if len(aggregated_rows) > 1:
        raise GateInputError(f"{paths['stats']}: {len(aggregated_rows)} Aggregated rows (corrupt file)")
    if not _is_aggregated(stats[-1][1]):
        raise GateInputError(f"{paths['stats']}: rows after the Aggregated row (corrupt file)")
    endpoints = {figures.name: figures for figures in rows[:-1]}
    if len(endpoints) != len(rows) - 1:
        raise GateInputError(f"{paths['stats']}: an endpoint appears twice (corrupt file)")

    history_rows = tuple(_checked_history_row(line, row, paths["stats_history"]) for line, row in history)
    _check_same_moment(history_rows, aggregated_rows[0], paths)
    return LocustStats(
        run_dir=run_dir,
        paths=paths,
        aggregated=aggregated_rows[0],
        endpoints=endpoints,
        failures=tuple(
            FailureRow(
                endpoint=endpoint_label(row["Method"], row["Name"]),
                error=row["Error"],
                occurrences=_count(line, row, "Occurrences", paths["failures"]),
            )
            for line, row in failures
        ),
        exceptions=tuple(
            ExceptionRow(count=_count(line, row, "Count", paths["exceptions"]), message=row["Message"])
            for line, row in exceptions
        ),
        history=history_rows,
    )


def _check_same_moment(history: Sequence[HistoryRow], total: Figures, paths: dict[str, Path]) -> None:
    """The history must end where the stats stand, or Locust did not shut down cleanly.

    Locust rewrites locust_stats.csv and appends to the history in the same pass, once a
    second, and flushes both at shutdown, so after a clean exit the history's last Aggregated
    totals equal the stats' Aggregated row. A Locust killed mid-run (SIGKILL, out of memory)
    leaves the two at different moments, and figures that look whole but cover only part of
    the run: that run must not pass.
    """
    rows = [row for row in history if row.aggregated]
    last = (rows[-1].requests, rows[-1].failures) if rows else (0, 0)
    if last != (total.requests, total.failures):
        raise GateInputError(
            f"{paths['stats_history']}: ends at {last[0]:,} requests and {last[1]:,} failures, but "
            f"{paths['stats'].name} counts {total.requests:,} and {total.failures:,}: the files are from "
            "different moments (Locust was killed before it shut down?)"
        )


Row = dict[str, str]
"""A CSV row by column name; a column the row lacks (a line cut short) holds ""."""


def _read_csv(path: Path, columns: Sequence[str]) -> list[tuple[int, Row]]:
    """A Locust CSV's rows with their line numbers; every way it can be broken is an error."""
    if not path.is_file():
        problem = "is not a file" if path.exists() else "missing (did Locust run with --csv?)"
        raise GateInputError(f"{path}: {problem}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise GateInputError(f"{path}: corrupt: not UTF-8 text") from None
    except OSError as error:
        raise GateInputError(f"{path}: cannot be read: {error.strerror or error}") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise GateInputError(f"{path}: empty (Locust writes its header first: the run never started?)")
        missing = [column for column in columns if column not in header]
        if missing:
            listed = ", ".join(repr(column) for column in missing)
            raise GateInputError(f"{path}: not a Locust CSV, or its header is cut short: lacks {listed}")
        rows: list[tuple[int, Row]] = []
        for cells in reader:
            if not cells:
                continue  # a blank line
            if len(cells) > len(header):
                raise GateInputError(
                    f"{path}: corrupt CSV: line {reader.line_num} has {len(cells)} fields, its header {len(header)}"
                )
            row = dict(zip(header, cells, strict=False))
            for column in columns:
                if column not in _MAY_BE_EMPTY and not row.get(column):
                    raise GateInputError(f"{path}: line {reader.line_num}: {column!r} is empty (truncated file?)")
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise GateInputError(f"{path}: corrupt CSV: line {reader.line_num}: {first_line(error)}") from None
    return rows


def endpoint_label(method: object, name: str) -> str:
    """How an endpoint is called in thresholds.yaml and the reports: its request's name.

    A scenario file's names are kept as they are ("POST /predict" by default, or "classify"); a
    locustfile's bare path ("/predict", Locust's default name) gets its method in front, so both
    styles of locustfile match the same endpoint keys, and so does an endpoint named like the
    Aggregated row, to keep the two apart.
    """
    method = "" if method is None or (isinstance(method, float) and math.isnan(method)) else str(method)
    return f"{method} {name}" if method and (name.startswith("/") or name == AGGREGATED) else name


def _is_aggregated(row: Row) -> bool:
    return is_aggregated(row.get("Type", ""), row["Name"])


def _figures(row: Row, path: Path) -> Figures:
    label = AGGREGATED if _is_aggregated(row) else endpoint_label(row["Type"], row["Name"])
    where = f"{path}: row {label!r}"
    requests = int(_number(row, "Request Count", where, whole=True))
    failures = int(_number(row, "Failure Count", where, whole=True))
    if failures > requests:
        raise GateInputError(f"{where}: Failure Count {failures} is more than Request Count {requests}")
    percentiles = [
        None if requests == 0 and row[column] == _NOT_AVAILABLE else _number(row, column, where)
        for column in ("50%", "95%", "99%")
    ]
    return Figures(
        name=label,
        requests=requests,
        failures=failures,
        error_rate=failures / requests if requests else None,
        rps=_number(row, "Requests/s", where),
        p50_ms=percentiles[0],
        p95_ms=percentiles[1],
        p99_ms=percentiles[2],
        mean_ms=_number(row, "Average Response Time", where) if requests else None,
    )


def _number(row: Row, column: str, where: str, whole: bool = False) -> float:
    """A non-negative finite number from a text cell, or GateInputError naming the cell."""
    text = row[column]
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if text == _NOT_AVAILABLE:
        raise GateInputError(f"{where}: {column!r} is N/A where a figure must be")
    if not math.isfinite(value) or value < 0 or (whole and not value.is_integer()):
        kind = "a whole number ≥ 0" if whole else "a number ≥ 0"
        raise GateInputError(f"{where}: {column!r} is {text!r}, not {kind}")
    return int(value) if value.is_integer() else value


def _count(line: int, row: Row, column: str, path: Path) -> int:
    """A whole number ≥ 0 from a cell of locust_failures.csv or locust_exceptions.csv."""
    text = row[column]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or not value.is_integer():
        raise GateInputError(f"{path}: line {line}: {column!r} is {text!r}, not a count")
    return int(value)


def _checked_history_row(line: int, row: Row, path: Path) -> HistoryRow:
    """A row of the history whose every figure is a number (or N/A where Locust has none yet)."""
    for column, text in row.items():
        if column in ("Type", "Name") or text == _NOT_AVAILABLE:
            continue
        try:
            float(text)
        except ValueError:
            raise GateInputError(f"{path}: line {line}: {column!r} is {text!r}, not a number") from None
    parsed = history_row(row)
    if parsed is None:
        raise GateInputError(f"{path}: line {line}: not a row of Locust's history (a figure it always writes is N/A)")
    return parsed
