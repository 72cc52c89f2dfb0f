"""Synthetic Locust runs for the gate's tests: the four CSVs as Locust 2.47 writes them.

The headers are copied from real output (tests/data/locust/, checked by a test); rows are
built from a few figures, the other columns filled consistently, and written with Python's
csv writer exactly as Locust's StatsCSVFileWriter does (minimal quoting, CRLF).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.gate.reading import HistoryRow

REAL_RUNS = Path(__file__).resolve().parents[1] / "data" / "locust"
"""Locust's own output from real runs (see its README): the headers the synthetic runs copy."""

PERCENTILE_COLUMNS = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_HEADER = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
]
FAILURES_HEADER = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS_HEADER = ["Count", "Message", "Traceback", "Nodes"]
HISTORY_HEADER = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILE_COLUMNS,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
HEADERS = {
    "stats": STATS_HEADER,
    "failures": FAILURES_HEADER,
    "exceptions": EXCEPTIONS_HEADER,
    "stats_history": HISTORY_HEADER,
}


@dataclass
class Entry:
    """One row of locust_stats.csv. `method=""` with name "Aggregated" is the total row."""

    method: str
    name: str
    requests: int
    failures: int = 0
    p50: int | str = 20
    p95: int | str = 100
    p99: int | str = 200
    rps: float = 50.0
    mean_ms: float = 31.25

    def cells(self) -> dict[str, object]:
        """Every column of the real header, percentiles monotone around p50/p95/p99."""
        p50: int | str
        p95: int | str
        p99: int | str
        if self.requests == 0:
            p50 = p95 = p99 = "N/A"
        else:
            p50, p95, p99 = self.p50, self.p95, self.p99
        # 50-80% take P50, 90-95% P95, 98% and above P99.
        by_column = [p50, p50, p50, p50, p95, p95, p99, p99, p99, p99, p99]
        percentiles = dict(zip(PERCENTILE_COLUMNS, by_column, strict=True))
        return {
            "Type": self.method,
            "Name": self.name,
            "Request Count": self.requests,
            "Failure Count": self.failures,
            "Median Response Time": p50 if self.requests else 0,
            "Average Response Time": self.mean_ms if self.requests else 0.0,
            "Min Response Time": 1.5 if self.requests else 0,
            "Max Response Time": 250.75 if self.requests else 0,
            "Average Content Size": 72.0 if self.requests else 0.0,
            "Requests/s": self.rps,
            "Failures/s": self.rps * self.failures / self.requests if self.requests else 0.0,
            **percentiles,
        }


def aggregate(entries: Sequence[Entry]) -> Entry:
    """The Aggregated row Locust would add: sums, and the worst percentiles (an approximation)."""
    requests = sum(entry.requests for entry in entries)
    numeric = [entry for entry in entries if entry.requests]
    return Entry(
        method="",
        name="Aggregated",
        requests=requests,
        failures=sum(entry.failures for entry in entries),
        p50=max((int(entry.p50) for entry in numeric), default=0),
        p95=max((int(entry.p95) for entry in numeric), default=0),
        p99=max((int(entry.p99) for entry in numeric), default=0),
        rps=sum(entry.rps for entry in entries),
    )


@dataclass
class Failure:
    """One row of locust_failures.csv."""

    method: str
    name: str
    error: str
    occurrences: int

    def cells(self) -> dict[str, object]:
        return {
            "Method": self.method,
            "Name": self.name,
            "Error": self.error,
            "Occurrences": self.occurrences,
            "First Seen": "2026-11-28T04:50:27Z",
            "Last Seen": "2026-11-28T04:50:29Z",
        }


@dataclass
class SyntheticRun:
    """What a run folder holds; `write` lays it out as Locust would."""

    entries: list[Entry]
    aggregated: Entry | None = None
    """None: computed from `entries`."""
    failures: list[Failure] = field(default_factory=list)
    exceptions: list[tuple[int, str]] = field(default_factory=list)
    users: int = 100
    seconds: int = 10
    ramp_seconds: int = 0
    """Seconds of ramp before the judged window; with some, the history shows Locust's reset
    (`--reset-stats`): running totals that fall once every user runs."""

    def write(self, run_dir: Path, prefix: str = "locust") -> Path:
        run_dir.mkdir(parents=True, exist_ok=True)
        total = self.aggregated or aggregate(self.entries)
        write_csv(run_dir / f"{prefix}_stats.csv", STATS_HEADER, [e.cells() for e in [*self.entries, total]])
        write_csv(run_dir / f"{prefix}_failures.csv", FAILURES_HEADER, [f.cells() for f in self.failures])
        write_csv(
            run_dir / f"{prefix}_exceptions.csv",
            EXCEPTIONS_HEADER,
            [
                {"Count": count, "Message": message, "Traceback": "Traceback ...", "Nodes": "local"}
                for count, message in self.exceptions
            ],
        )
        write_csv(run_dir / f"{prefix}_stats_history.csv", HISTORY_HEADER, self._history(total))
        return run_dir

    def _history(self, total: Entry) -> list[dict[str, object]]:
        start = 1_795_841_427
        rows: list[dict[str, object]] = [
            {
                **dict.fromkeys(HISTORY_HEADER, "N/A"),
                "Timestamp": start,
                "User Count": 0,
                "Type": "",
                "Name": "Aggregated",
                "Requests/s": "0.000000",
                "Failures/s": "0.000000",
                "Total Request Count": 0,
                "Total Failure Count": 0,
                "Total Median Response Time": 0,
                "Total Average Response Time": 0.0,
                "Total Min Response Time": 0,
                "Total Max Response Time": 0,
                "Total Average Content Size": 0,
            }
        ]
        cells = total.cells()
        for second in range(1, self.ramp_seconds + 1):
            row = {column: cells.get(column, 0) for column in HISTORY_HEADER}
            row.update(
                {
                    "Timestamp": start + second,
                    "User Count": self.users * second // self.ramp_seconds,
                    "Type": "",
                    "Name": "Aggregated",
                    "Total Request Count": total.requests * second,
                    "Total Failure Count": 0,
                }
            )
            rows.append(row)
        start += self.ramp_seconds
        for second in range(1, self.seconds + 1):
            row = {column: cells.get(column, 0) for column in HISTORY_HEADER}
            row.update(
                {
                    "Timestamp": start + second,
                    "User Count": self.users,
                    "Type": "",
                    "Name": "Aggregated",
                    "Total Request Count": total.requests * second // self.seconds,
                    "Total Failure Count": total.failures * second // self.seconds,
                }
            )
            rows.append(row)
        return rows


def aggregated_row(
    second: int,
    users: int,
    requests: int,
    failures: int = 0,
    rps: float = 0.0,
    p95_ms: float | None = None,
    mean_ms: float | None = None,
) -> HistoryRow:
    """The history's Aggregated row at `second` as the readers give it: totals so far, no failures a second."""
    return HistoryRow(
        timestamp=second,
        name="Aggregated",
        aggregated=True,
        users=users,
        rps=rps,
        failures_per_second=0.0,
        requests=requests,
        failures=failures,
        p95_ms=p95_ms,
        mean_ms=mean_ms,
    )


def write_csv(path: Path, header: Sequence[str], rows: Sequence[dict[str, object]]) -> None:
    """Like Locust: csv.writer with its defaults (minimal quoting, CRLF line ends)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[column] for column in header])


def healthy_run(requests: int = 10_000, failures: int = 0, p95: int = 100) -> SyntheticRun:
    """Three endpoints like our locustfile's, all failures on /predict, the given P95 everywhere."""
    predict = Entry("POST", "POST /predict", requests - requests // 5, failures, p95=p95, rps=400.0)
    health = Entry("GET", "GET /health", requests // 5 - requests // 20, 0, p95=p95, rps=75.0)
    root = Entry("GET", "GET /", requests // 20, 0, p95=p95, rps=25.0)
    failure_rows = [Failure("POST", "POST /predict", "ConnectionResetError(104, 'Connection reset by peer')", failures)]
    return SyntheticRun(entries=[root, health, predict], failures=failure_rows if failures else [])


def replace_cell(path: Path, row_name: str, column: str, value: str) -> None:
    """Set one cell of a written CSV (the row found by its Name column)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("Name")] == row_name:
            row[header.index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
