"""The gate: read one Locust run's CSVs, judge it against the SLO, explain the verdict.

Pure functions compute (`read_run`, `evaluate`, the `*_rows` tables); separate ones render
(`render_summary`, `render_console`) and write (`write_verdict`, `gate_run_dir`).

A run is judged on Locust's own figures: error rate = Failure Count / Request Count and P95 =
the `95%` column, on the Aggregated row for the SLO's limits and on an endpoint's row for its
own limits. Anything that makes the figures untrustworthy (a missing, empty, truncated or
corrupt CSV, no Aggregated row, N/A where a figure must be, exceptions in the locustfile,
zero requests) raises `GateInputError`: the run cannot be judged, and it never passes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from loadtest.files import write_atomic, write_json_atomic
from loadtest.thresholds import Slo

DEFAULT_PREFIX = "locust"
"""The file part of Locust's `--csv` prefix: `--csv RUN_DIR/locust` writes `RUN_DIR/locust_stats.csv`."""

AGGREGATED = "Aggregated"
"""The Name of the row Locust adds after every endpoint: the whole run."""

VERDICT_FILE = "verdict.json"
SUMMARY_FILE = "summary.md"

# The columns the gate needs; Locust writes more (its own header is in tests/data/locust/).
STATS_COLUMNS = ("Type", "Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%")
FAILURES_COLUMNS = ("Method", "Name", "Error", "Occurrences")
EXCEPTIONS_COLUMNS = ("Count", "Message", "Traceback", "Nodes")
HISTORY_COLUMNS = ("Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                   "Total Request Count", "Total Failure Count")  # fmt: skip

# Columns that may legitimately be empty: the Aggregated row has no Type; a failure's
# timestamps, an exception's traceback and nodes may be blank.
_MAY_BE_EMPTY = {"Type", "Method", "First Seen", "Last Seen", "Traceback", "Nodes"}
_NOT_AVAILABLE = "N/A"


class GateInputError(Exception):
    """The run cannot be judged (exit code 2); the message names the file and the problem."""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Figures:
    """One row of locust_stats.csv: an endpoint, or the Aggregated row (the whole run).

    Percentiles are None only when the row has zero requests (Locust writes N/A then), and so
    is `error_rate`.
    """

    name: str
    requests: int
    failures: int
    error_rate: float | None
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class LocustRun:
    """The four CSVs of one Locust run, read and checked."""

    run_dir: Path
    paths: dict[str, Path]
    """The CSVs read, by kind: stats, failures, exceptions, stats_history."""
    stats: pd.DataFrame
    """locust_stats.csv as Locust wrote it (text cells), Aggregated row included."""
    failures: pd.DataFrame
    """locust_failures.csv; `Occurrences` as integers."""
    exceptions: pd.DataFrame
    """locust_exceptions.csv; `Count` as integers."""
    history: pd.DataFrame
    """locust_stats_history.csv; numeric columns as numbers, N/A as NaN."""
    aggregated: Figures
    endpoints: dict[str, Figures]
    """Endpoint label ("POST /predict") -> its figures, in Locust's order."""

    @property
    def stats_path(self) -> Path:
        """locust_stats.csv, named in the messages about its figures."""
        return self.paths["stats"]

    @property
    def peak_users(self) -> int | None:
        """The most users Locust had running at once, from the history."""
        users = self.history["User Count"].dropna()
        return int(users.max()) if len(users) else None

    @property
    def duration_s(self) -> int | None:
        """Seconds between the first and the last row of the history."""
        stamps = self.history["Timestamp"].dropna()
        return int(stamps.max() - stamps.min()) if len(stamps) else None


def csv_paths(run_dir: Path, prefix: str = DEFAULT_PREFIX) -> dict[str, Path]:
    """The four files Locust writes for `--csv RUN_DIR/PREFIX --csv-full-history`."""
    return {
        kind: Path(run_dir) / f"{prefix}_{kind}.csv"
        for kind in ("stats", "failures", "exceptions", "stats_history")
    }


def read_run(run_dir: Path, prefix: str = DEFAULT_PREFIX) -> LocustRun:
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

    rows = [_figures(row, paths["stats"]) for row in _stats_rows(stats)]
    aggregated_rows = [figures for figures, row in zip(rows, _stats_rows(stats)) if _is_aggregated(row)]
    if not aggregated_rows:
        raise GateInputError(f"{paths['stats']}: no Aggregated row (the file is truncated or not Locust's)")
    if len(aggregated_rows) > 1:
        raise GateInputError(f"{paths['stats']}: {len(aggregated_rows)} Aggregated rows (corrupt file)")
    if not _is_aggregated(stats.iloc[-1]):
        raise GateInputError(f"{paths['stats']}: rows after the Aggregated row (corrupt file)")
    endpoints = {figures.name: figures for figures in rows[:-1]}
    if len(endpoints) != len(rows) - 1:
        raise GateInputError(f"{paths['stats']}: an endpoint appears twice (corrupt file)")

    numeric_history = _numeric_history(history, paths["stats_history"])
    _check_same_moment(numeric_history, aggregated_rows[0], paths)
    return LocustRun(
        run_dir=run_dir,
        paths=paths,
        stats=stats,
        failures=failures.assign(Occurrences=_whole_numbers(failures, "Occurrences", paths["failures"])),
        exceptions=exceptions.assign(Count=_whole_numbers(exceptions, "Count", paths["exceptions"])),
        history=numeric_history,
        aggregated=aggregated_rows[0],
        endpoints=endpoints,
    )


def _check_same_moment(history: pd.DataFrame, total: Figures, paths: dict[str, Path]) -> None:
    """The history must end where the stats stand, or Locust did not shut down cleanly.

    Locust rewrites locust_stats.csv and appends to the history in the same pass, once a
    second, and flushes both at shutdown, so after a clean exit the history's last Aggregated
    totals equal the stats' Aggregated row. A Locust killed mid-run (SIGKILL, out of memory)
    leaves the two at different moments, and figures that look whole but cover only part of
    the run: that run must not pass.
    """
    rows = history[history["Type"].isna() & (history["Name"] == AGGREGATED)]
    last = (int(rows["Total Request Count"].iloc[-1]), int(rows["Total Failure Count"].iloc[-1])) if len(rows) else (0, 0)
    if last != (total.requests, total.failures):
        raise GateInputError(
            f"{paths['stats_history']}: ends at {last[0]:,} requests and {last[1]:,} failures, but "
            f"{paths['stats'].name} counts {total.requests:,} and {total.failures:,}: the files are from "
            "different moments (Locust was killed before it shut down?)"
        )


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A Locust CSV as text cells ("" -> NaN, "N/A" kept); every way it can be broken is an error."""
    if not path.is_file():
        problem = "is not a file" if path.exists() else "missing (did Locust run with --csv?)"
        raise GateInputError(f"{path}: {problem}")
    try:
        with warnings.catch_warnings():
            # pandas only warns when a row has more fields than the header, then drops them.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], index_col=False, encoding="utf-8"
            )
    except pd.errors.EmptyDataError:
        raise GateInputError(f"{path}: empty (Locust writes its header first: the run never started?)") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise GateInputError(f"{path}: corrupt CSV: {_first_line(error)}") from None
    except UnicodeDecodeError:
        raise GateInputError(f"{path}: corrupt: not UTF-8 text") from None
    except OSError as error:
        raise GateInputError(f"{path}: cannot be read: {error.strerror or error}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        listed = ", ".join(repr(column) for column in missing)
        raise GateInputError(f"{path}: not a Locust CSV, or its header is cut short: lacks {listed}")
    for line, row in zip(range(2, len(frame) + 2), frame.itertuples(index=False)):
        values = dict(zip(frame.columns, row))
        for column in columns:
            if column not in _MAY_BE_EMPTY and pd.isna(values[column]):
                raise GateInputError(f"{path}: line {line}: {column!r} is empty (truncated file?)")
    return frame


def _stats_rows(stats: pd.DataFrame) -> list[dict[str, Any]]:
    return stats.to_dict("records")


def _is_aggregated(row: dict[str, Any] | pd.Series) -> bool:
    return pd.isna(row["Type"]) and row["Name"] == AGGREGATED


def endpoint_label(method: object, name: str) -> str:
    """How an endpoint is called in thresholds.yaml and the reports: "POST /predict".

    Our locustfile names its requests that way already; a plain name ("/predict") gets its
    method in front, so both styles of locustfile match the same endpoint keys.
    """
    method = "" if pd.isna(method) else str(method)
    return name if not method or name.startswith(f"{method} ") else f"{method} {name}"


def _figures(row: dict[str, Any], path: Path) -> Figures:
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
    )


def _number(row: dict[str, Any], column: str, where: str, whole: bool = False) -> float:
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


def _whole_numbers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    numbers = pd.to_numeric(frame[column], errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers % 1 != 0)
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2
        raise GateInputError(f"{path}: line {line}: {column!r} is {frame[column].iloc[line - 2]!r}, not a count")
    return numbers.astype("int64")


def _numeric_history(history: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Numbers for every column but Type and Name; N/A (no requests yet) becomes NaN."""
    converted = history.copy()
    for column in history.columns:
        if column in ("Type", "Name"):
            continue
        converted[column] = pd.to_numeric(history[column].replace(_NOT_AVAILABLE, None), errors="coerce")
        unreadable = converted[column].isna() & history[column].notna() & (history[column] != _NOT_AVAILABLE)
        if unreadable.any():
            line = int(unreadable.to_numpy().argmax()) + 2
            value = history[column].iloc[line - 2]
            raise GateInputError(f"{path}: line {line}: {column!r} is {value!r}, not a number")
    return converted


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# --------------------------------------------------------------------------- evaluating


@dataclass(frozen=True)
class Check:
    """One limit of the SLO applied to one scope (the Aggregated row or an endpoint)."""

    name: str
    """The key in thresholds.yaml: max_error_rate, max_p95_ms or min_rps."""
    scope: str
    """`Aggregated` or an endpoint label such as `POST /predict`."""
    value: float
    limit: float
    passed: bool


@dataclass(frozen=True)
class Verdict:
    """The gate's decision on one run, with the figures it was made on."""

    passed: bool
    error_rate: float
    p95_ms: float
    rps: float
    requests: int
    checks: list[Check]

    def to_dict(self) -> dict[str, Any]:
        """The verdict.json document."""
        return asdict(self)

    @property
    def breached(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not check.passed]


def evaluate(run: LocustRun, slo: Slo) -> Verdict:
    """Apply every limit of `slo`; raise GateInputError when the run holds nothing to judge."""
    total = run.aggregated
    if total.requests == 0 or total.error_rate is None or total.p95_ms is None:
        raise GateInputError(
            f"{run.stats_path}: zero requests in the Aggregated row: nothing to judge "
            "(did the API start, and does --host point at it?)"
        )
    if len(run.exceptions):
        first = str(run.exceptions["Message"].iloc[0]).strip().splitlines()[0]
        count = int(run.exceptions["Count"].sum())
        raise GateInputError(
            f"{run.paths['exceptions']}: "
            f"the locustfile raised {count} exception(s), first {first!r}: the load itself is broken"
        )
    checks = _checks(total, slo.max_error_rate, slo.max_p95_ms)
    if slo.min_rps is not None:
        checks.append(Check("min_rps", AGGREGATED, total.rps, slo.min_rps, total.rps >= slo.min_rps))
    for label, limits in slo.endpoints.items():
        figures = run.endpoints.get(label)
        if figures is None or figures.requests == 0:
            known = ", ".join(repr(name) for name in run.endpoints) or "none"
            raise GateInputError(
                f"{run.stats_path}: thresholds set limits for endpoint {label!r}, which the run "
                f"never requested (its endpoints: {known})"
            )
        checks.extend(_checks(figures, limits.max_error_rate, limits.max_p95_ms))
    return Verdict(
        passed=all(check.passed for check in checks),
        error_rate=total.error_rate,
        p95_ms=total.p95_ms,
        rps=total.rps,
        requests=total.requests,
        checks=checks,
    )


def _checks(figures: Figures, max_error_rate: float | None, max_p95_ms: float | None) -> list[Check]:
    """The error-rate and P95 checks of one row; a limit of None is not checked."""
    assert figures.error_rate is not None and figures.p95_ms is not None  # zero requests handled above
    checks = []
    if max_error_rate is not None:
        # Exact rational comparison: 100 failures in 10,000 requests is 1%, and fails at 1%.
        passed = Fraction(figures.failures, figures.requests) < Fraction(repr(max_error_rate))
        checks.append(Check("max_error_rate", figures.name, figures.error_rate, max_error_rate, passed))
    if max_p95_ms is not None:
        checks.append(Check("max_p95_ms", figures.name, figures.p95_ms, max_p95_ms, figures.p95_ms <= max_p95_ms))
    return checks


# --------------------------------------------------------------------------- Locust's buckets


def bucket_step(ms: float) -> int:
    """The rounding Locust's `bucket_response_time` applies to a response time of `ms`."""
    return 1 if ms < 100 else 10 if ms < 1000 else 100 if ms < 10_000 else 1000


def bucket_bounds(reported_ms: float) -> tuple[float, float]:
    """The true response times Locust reports as `reported_ms` (ties round half to even)."""
    below = bucket_step(reported_ms - 0.001) if reported_ms > 0 else 1
    return max(0.0, reported_ms - below / 2), reported_ms + bucket_step(reported_ms) / 2


def reportable_at_most(limit_ms: float) -> int:
    """The largest response time Locust can report that is not over `limit_ms`."""
    step = bucket_step(limit_ms)
    return int(limit_ms // step * step)


def reportable_above(limit_ms: float) -> int:
    """The smallest response time Locust can report that is over `limit_ms`."""
    highest = reportable_at_most(limit_ms)
    return highest + bucket_step(highest)


# --------------------------------------------------------------------------- tables


def format_rate(failures: int, requests: int) -> str:
    """An error rate as a percentage, rounded down so that 0.999% never shows as 1.00%."""
    if requests == 0:
        return "n/a"
    hundredths = failures * 10_000 // requests
    if failures and hundredths == 0:
        return "<0.01%"
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def format_ms(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms:,.0f}"


def endpoint_rows(run: LocustRun) -> list[list[str]]:
    """The workshop's table: endpoint, requests, failures, failure %, req/s, P50, P95, P99."""
    return [
        [
            figures.name,
            f"{figures.requests:,}",
            f"{figures.failures:,}",
            format_rate(figures.failures, figures.requests),
            f"{figures.rps:,.1f}",
            format_ms(figures.p50_ms),
            format_ms(figures.p95_ms),
            format_ms(figures.p99_ms),
        ]
        for figures in [*run.endpoints.values(), run.aggregated]
    ]


ENDPOINT_HEADERS = ["Endpoint", "Requests", "Failures", "Failure %", "req/s", "P50 (ms)", "P95 (ms)", "P99 (ms)"]
ENDPOINT_ALIGN = "lrrrrrrr"
CHECK_HEADERS = ["Check", "Scope", "Value", "Limit", "Result"]
CHECK_ALIGN = "llrrl"
FAILURE_HEADERS = ["Error", "Endpoint", "Occurrences", "% of failures"]
FAILURE_ALIGN = "llrr"

_CHECK_TITLES = {"max_error_rate": "Error rate", "max_p95_ms": "P95", "min_rps": "Throughput"}


def check_rows(run: LocustRun, verdict: Verdict) -> list[list[str]]:
    """One row per check: what was measured, the rule it had to meet, pass or breach."""
    rows = []
    for check in verdict.checks:
        figures = run.aggregated if check.scope == AGGREGATED else run.endpoints[check.scope]
        if check.name == "max_error_rate":
            value = f"{format_rate(figures.failures, figures.requests)} ({figures.failures:,}/{figures.requests:,})"
            rule = f"< {check.limit * 100:g}%"
        elif check.name == "max_p95_ms":
            value, rule = f"{check.value:,.0f} ms", f"≤ {check.limit:,g} ms"
        else:
            value, rule = f"{check.value:,.1f} req/s", f"≥ {check.limit:,g} req/s"
        result = "pass" if check.passed else "BREACHED"
        rows.append([_CHECK_TITLES.get(check.name, check.name), check.scope, value, rule, result])
    return rows


def failure_rows(run: LocustRun) -> list[list[str]]:
    """Failure types from locust_failures.csv, most frequent first, with their share."""
    failures = run.failures.sort_values("Occurrences", ascending=False, kind="stable")
    total = int(failures["Occurrences"].sum())
    return [
        [
            str(row["Error"]),
            endpoint_label(row["Method"], str(row["Name"])),
            f"{int(row['Occurrences']):,}",
            _share(int(row["Occurrences"]), total),
        ]
        for row in failures.to_dict("records")
    ]


def _share(part: int, total: int) -> str:
    """A part of a total as a percentage with one decimal; a non-zero part never shows as 0.0%."""
    if total == 0:
        return "n/a"
    return "<0.1%" if 0 < part * 1000 < total else f"{part / total:.1%}"


# --------------------------------------------------------------------------- rendering


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str, bold_last: bool = False) -> str:
    """A GitHub Markdown table; `align` has one letter a column: l(eft) or r(ight)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if side == "r" else "---" for side in align) + "|",
    ]
    for index, row in enumerate(rows):
        cells = [cell(text) for text in row]
        if bold_last and index == len(rows) - 1:
            cells = [f"**{text}**" for text in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A plain fixed-width table for the terminal; `align` as for `markdown_table`."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if side == "r" else c.ljust(w) for c, w, side in zip(cells, widths, align)]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), "  ".join("-" * width for width in widths), *(line(row) for row in rows)])


def headline(verdict: Verdict) -> str:
    if verdict.passed:
        return f"PASSED: all {len(verdict.checks)} checks hold"
    return f"FAILED: {len(verdict.breached)} of {len(verdict.checks)} checks breached"


def bucketing_note(p95_ms: float, limit_ms: float) -> str:
    """Why a reported P95 is a range, for the reported value and for the limit."""
    low, high = bucket_bounds(p95_ms)
    allowed = reportable_at_most(limit_ms)
    _, allowed_high = bucket_bounds(allowed)
    return (
        "Locust rounds every response time before it counts it (to 1 ms below 100 ms, 10 ms below "
        "1 s, 100 ms below 10 s, 1 s above) and reads percentiles from the rounded values. "
        f"So the reported P95 of {p95_ms:,.0f} ms stands for a true P95 between about "
        f"{low:,g} and {high:,g} ms, and the limit of {limit_ms:,g} ms lets through reported values "
        f"up to {allowed:,} ms, that is true times up to about {allowed_high:,g} ms; the next value "
        f"Locust can report is {reportable_above(limit_ms):,} ms."
    )


def render_summary(run: LocustRun, verdict: Verdict, slo: Slo) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY and PR comments: the verdict first, then the tables."""
    icon = "✅" if verdict.passed else "❌"
    total = run.aggregated
    load = []
    if run.peak_users is not None:
        load.append(f"{run.peak_users:,} users at peak")
    if run.duration_s is not None:
        load.append(f"{run.duration_s:,} s of history")
    parts = [
        f"## {icon} Performance gate {headline(verdict)}",
        "",
        f"**{total.requests:,} requests**, **{format_rate(total.failures, total.requests)} errors**, "
        f"**{total.rps:,.1f} req/s**, **P95 {format_ms(total.p95_ms)} ms**"
        + (f" ({', '.join(load)})" if load else "")
        + f". Run: `{run.run_dir}`",
        "",
        markdown_table(
            CHECK_HEADERS, [[*row[:4], _result_mark(row[4])] for row in check_rows(run, verdict)], CHECK_ALIGN
        ),
        "",
        "### Requests by endpoint",
        "",
        markdown_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN, bold_last=True),
        "",
        "### Failures",
        "",
        markdown_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN) if len(run.failures) else "No failures.",
        "",
        f"<sub>{bucketing_note(verdict.p95_ms, slo.max_p95_ms)}</sub>",
        "",
    ]
    return "\n".join(parts)


def _result_mark(result: str) -> str:
    return "✅ pass" if result == "pass" else "❌ **breached**"


def render_console(run: LocustRun, verdict: Verdict) -> str:
    """The terminal view: the verdict, the checks, the endpoints, the failure types."""
    parts = [
        f"Performance gate {headline(verdict)}  ({run.run_dir})",
        "",
        text_table(CHECK_HEADERS, check_rows(run, verdict), CHECK_ALIGN),
        "",
        text_table(ENDPOINT_HEADERS, endpoint_rows(run), ENDPOINT_ALIGN),
    ]
    if len(run.failures):
        parts += ["", text_table(FAILURE_HEADERS, failure_rows(run), FAILURE_ALIGN)]
    return "\n".join(parts) + "\n"


def render_cannot_judge(reason: str) -> str:
    """The Markdown summary of a run that could not be judged: it fails the build all the same."""
    return f"## ⚠️ Performance gate CANNOT JUDGE: the build fails\n\n{reason}\n"


# --------------------------------------------------------------------------- writing


def output_paths(run_dir: Path, json_path: Path | None, summary_path: Path | None) -> tuple[Path, Path]:
    """Where verdict.json and summary.md go: as given, else inside the run folder."""
    return (
        Path(json_path) if json_path is not None else Path(run_dir) / VERDICT_FILE,
        Path(summary_path) if summary_path is not None else Path(run_dir) / SUMMARY_FILE,
    )


def write_verdict(run: LocustRun, verdict: Verdict, slo: Slo, json_path: Path, summary_path: Path) -> None:
    """Write verdict.json and the Markdown summary, each atomically."""
    write_json_atomic(json_path, verdict.to_dict())
    write_atomic(summary_path, render_summary(run, verdict, slo))


def write_cannot_judge(reason: str, json_path: Path, summary_path: Path) -> None:
    """Record that a run could not be judged: no verdict.json (a stale one is removed, so it
    cannot vouch for this run), and a summary that says why, when its folder exists."""
    json_path.unlink(missing_ok=True)
    if summary_path.parent.is_dir():
        write_atomic(summary_path, render_cannot_judge(reason))


def gate_run_dir(
    run_dir: Path,
    slo: Slo,
    json_path: Path | None = None,
    summary_path: Path | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> Verdict:
    """Read, evaluate and write verdict.json and summary.md (default: inside `run_dir`).

    Raises GateInputError when the run cannot be judged; nothing is written then.
    """
    run = read_run(run_dir, prefix)
    verdict = evaluate(run, slo)
    write_verdict(run, verdict, slo, *output_paths(run_dir, json_path, summary_path))
    return verdict
