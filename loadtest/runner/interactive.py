"""`python -m loadtest ui`: one cell under limits, Locust's web UI on it, and the gate after every test.

The cell starts as a cell of `run` does (same backend, limits enforced and read back, replicas
ready); then Locust runs with its web UI (`locust_web_args`), the start form pre-filled with the
profile's users and spawn rate. While it runs, the terminal shows Locust's state and the live
resource view of every replica (`resources`), and `ui.json` lets `python -m loadtest stats` show
the same from another terminal.

Tests are started and stopped from the UI. The session polls Locust's web API; when a test has
stopped, its figures are read through that API (Locust's own CSV writers), its rows are cut out
of the session's `--csv-full-history` file, and the four CSVs go to `<cell>/test-N/` with
Locust's HTML report; the gate judges that folder (verdict.json, summary.md) and the verdict is
printed. Nothing of an earlier test is overwritten. Ctrl-C (or SIGTERM, SIGHUP) stops Locust
and every replica and removes their cgroups (or takes the Compose project down), as for `run`.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loadtest import exitcodes
from loadtest.gate import render_console, write_cannot_judge
from loadtest.locust_contract import (
    DEFAULT_WEB_HOST,
    DEFAULT_WEB_PORT,
    HTML_REPORT,
    WebSettings,
    csv_paths,
)
from loadtest.records import (
    STATE_FILE,
    SUMMARY_FILE,
    VERDICT_FILE,
    LiveCell,
    MatrixInfo,
    ReplicaRecord,
    ResourceSample,
    RunRecord,
)
from loadtest.results import result_line
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend, BackendError, Deployment, LoadRun
from loadtest.runner.config import DEFAULT_PROFILE, BackendSettings, merge_config
from loadtest.runner.engine import SAMPLE_SECONDS, CellEngine, cell_record
from loadtest.runner.linux.processes import describe_exit
from loadtest.runner.linux.sockets import listening_inodes
from loadtest.runner.matrix import Cell
from loadtest.runner.matrix_run import backend_lines, offered_load_line
from loadtest.runner.progress import LiveBlock
from loadtest.runner.resources import REFRESH_SECONDS, ResourceView, write_state
from loadtest.runner.web_api import LocustWeb, WebApiError, WebStatus
from loadtest.thresholds import Slo, Thresholds
from loadtest.util.files import write_atomic
from loadtest.util.git import revision
from loadtest.util.text import first_line
from loadtest.util.units import format_clock, format_rate

LOOP_SECONDS = 0.25
POLL_SECONDS = 1.0
"""How often Locust's state is asked (its answer may be up to 2 s old: Locust caches it)."""
UI_READY_TIMEOUT = 120.0
"""Seconds Locust gets to serve its UI (its worker processes, or its containers, start first)."""
WORKER_REPORT_SECONDS = 3.0
"""Locust's workers send their figures to the master this often (`locust.runners.WORKER_REPORT_INTERVAL`):
after a stop the master's totals may still grow for that long."""
CAPTURE_TIMEOUT = 30.0
"""After a stop, the session's history file must show the final figures within this long (Locust
flushes it every 5 s)."""
TEST_DIR = re.compile(r"test-(\d+)")

# Locust's web API downloads, by the file name `--csv` would give them.
DOWNLOADS = {
    "stats": "/stats/requests/csv",
    "failures": "/stats/failures/csv",
    "exceptions": "/exceptions/csv",
}
REPORT_DOWNLOAD = "/stats/report?download=1"
DEFAULT_UI_OUT = Path("results/ui")
CELL_KEYS = ("replicas", "cpus", "memory")
"""The flags that take one value here and a list in `run`."""


@dataclass(frozen=True)
class UiConfig:
    """Everything a session needs: profile and flags merged."""

    profile: str
    cell: Cell
    web: WebSettings
    thresholds: Path
    slo: Slo
    out: Path
    backend: BackendSettings


def merge_ui_config(args: argparse.Namespace, thresholds: Thresholds, thresholds_path: Path) -> UiConfig:
    """The profile's values with the flags on top, as for `run`, for one cell.

    Without --replicas, --cpus or --memory the cell takes the profile's first value of each; the
    profile's users and spawn rate pre-fill the UI's start form, and its run time is left out
    unless --run-time is given (a test runs until it is stopped from the UI).
    """
    one_cell = {key: [getattr(args, key)] if getattr(args, key) is not None else None for key in CELL_KEYS}
    run = merge_config(argparse.Namespace(**{**vars(args), **one_cell}), thresholds, thresholds_path)
    return UiConfig(
        profile=run.profile or DEFAULT_PROFILE,
        cell=run.cells[0],
        web=WebSettings(
            users=run.load.users,
            spawn_rate=run.load.spawn_rate,
            run_time_seconds=run.load.run_time_seconds if args.run_time is not None else None,
            host=args.web_host if args.web_host is not None else DEFAULT_WEB_HOST,
            port=args.web_port if args.web_port is not None else DEFAULT_WEB_PORT,
            scenario=run.load.scenario,
            warmup=run.load.warmup,
        ),
        thresholds=run.thresholds,
        slo=run.slo,
        out=args.out if args.out is not None else DEFAULT_UI_OUT,
        backend=run.backend,
    )


# --------------------------------------------------------------------------- the session's history file


@dataclass(frozen=True)
class Totals:
    """One Aggregated row of the stats history: the moment, the users, the counts so far."""

    timestamp: int
    users: int
    requests: int
    failures: int


@dataclass(frozen=True)
class HistoryLine:
    """One complete line of the history file as Locust wrote it, and where it ends in the file."""

    timestamp: int
    text: str
    end: int
    totals: Totals | None
    """Set on Aggregated rows (the others are per endpoint)."""


def span_of_test(rows: Sequence[Totals], final: tuple[int, int]) -> tuple[int, int] | None:
    """The first and last timestamps of the test that ended with `final` (requests, failures).

    `rows` are the Aggregated rows since the previous test. The test ends at the first row
    with no users left that shows the final counts, after the counts or the users were
    something else; it starts after the last drop of the request count before that (Locust
    clears its figures when a test starts), or else after the idle rows that precede it.
    None while the history does not show the end yet.
    """
    end = None
    moved = False
    for index, row in enumerate(rows):
        counts = (row.requests, row.failures)
        if moved and row.users == 0 and counts == final:
            end = index
            break
        moved = moved or row.users > 0 or counts != final
    if end is None:
        return None
    drops = [index for index in range(1, end + 1) if rows[index].requests < rows[index - 1].requests]
    if drops:
        return rows[drops[-1]].timestamp, rows[end].timestamp
    start, idle = 0, (rows[0].requests, rows[0].failures)
    while start < end and rows[start].users == 0 and (rows[start].requests, rows[start].failures) == idle:
        start += 1
    return rows[start].timestamp, rows[end].timestamp


def cut_history(header: str, lines: Sequence[HistoryLine], first: int, last: int) -> str:
    """The history file of one test: the header and every line from `first` to `last` (timestamps)."""
    return header + "".join(line.text for line in lines if first <= line.timestamp <= last)


def final_counts(stats_csv: str) -> tuple[int, int]:
    """(requests, failures) of the Aggregated row of a locust_stats.csv; ValueError if it has none."""
    for row in csv.DictReader(io.StringIO(stats_csv)):
        if row.get("Name") == "Aggregated" and not row.get("Type"):
            return int(row["Request Count"]), int(row["Failure Count"])
    raise ValueError("no Aggregated row in Locust's statistics")


class SessionHistory:
    """Locust's `--csv-full-history` file of the session, read from where the previous test ended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header = ""
        self.offset = 0
        self._columns: dict[str, int] = {}

    def lines(self) -> list[HistoryLine]:
        """The complete lines after the previous test (a line still being written is left out)."""
        try:
            with self.path.open("rb") as handle:
                if not self.header:
                    first = handle.readline()
                    if not first.endswith(b"\n"):
                        return []
                    self.header = first.decode("utf-8")
                    self._columns = {name: i for i, name in enumerate(next(csv.reader([self.header])))}
                    self.offset = len(first)
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        lines: list[HistoryLine] = []
        position = self.offset
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break
            position += len(raw)
            line = self._parse(raw.decode("utf-8"), position)
            if line is not None:
                lines.append(line)
        return lines

    def consume(self, lines: Sequence[HistoryLine], through: int) -> None:
        """The next test starts after the last line of timestamp `through`."""
        ends = [line.end for line in lines if line.timestamp <= through]
        if ends:
            self.offset = max(ends)

    def _parse(self, text: str, end: int) -> HistoryLine | None:
        columns = self._columns
        try:
            cells = next(csv.reader([text]))
            timestamp = int(cells[columns["Timestamp"]])
            totals = None
            if cells[columns["Name"]] == "Aggregated" and not cells[columns["Type"]]:
                totals = Totals(
                    timestamp=timestamp,
                    users=int(cells[columns["User Count"]]),
                    requests=int(cells[columns["Total Request Count"]]),
                    failures=int(cells[columns["Total Failure Count"]]),
                )
        except (KeyError, IndexError, ValueError, StopIteration):
            return None
        return HistoryLine(timestamp, text, end, totals)


def next_test_number(cell_dir: Path) -> int:
    """1 + the highest test-N already in the cell folder (tests of earlier sessions are kept)."""
    numbers = [int(match[1]) for entry in cell_dir.glob("test-*") if (match := TEST_DIR.fullmatch(entry.name))]
    return max(numbers, default=0) + 1


# --------------------------------------------------------------------------- tests started from the UI


@dataclass
class RunningTest:
    """A test started from the UI."""

    number: int
    started: float = field(default_factory=time.monotonic)
    peak_users: int = 0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    form: tuple[int, float] | None = None
    """The users and spawn rate it was started with (Locust's start form)."""
    samples: list[ResourceSample] = field(default_factory=list)
    """The API's and Locust's CPU and memory about once a second while it ran, for its run.json."""
    warnings_before: int = 0
    """Locust's CPU warnings of the session before it started."""


@dataclass
class Capture:
    """A stopped test whose figures are being collected."""

    test: RunningTest
    fetch_at: float
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration: float = 0.0
    replicas: list[ReplicaRecord] = field(default_factory=list)
    """The replicas' records when it stopped."""
    """Not before: with workers, their last figures reach the master a few seconds after the stop."""
    files: dict[str, str] = field(default_factory=dict)
    """The downloads, by CSV kind (+ "report")."""
    final: tuple[int, int] | None = None
    """(requests, failures) of the downloaded statistics; set with `files`."""
    last_problem: str = ""

    @property
    def deadline(self) -> float:
        """When the capture gives up."""
        return self.fetch_at + CAPTURE_TIMEOUT


class SessionTests:
    """The tests of a session: which one Locust is in, from its answers to `GET /stats/requests`.

    Those answers may be up to 2 s old (Locust caches them), so a test can start and stop
    between two of them: its figures are still there afterwards, until the next test starts,
    and a stopped Locust showing counts no handled test ended with means such a test.
    """

    def __init__(self, next_number: int = 1) -> None:
        self.next_number = next_number
        self.test: RunningTest | None = None
        self.idle_counts: tuple[int, int] = (0, 0)
        """The (requests, failures) a stopped Locust shows for the tests already handled."""
        self.pending = False
        """A stopped test is being handled: what Locust shows is its figures."""
        self._adopt = False

    def observe(self, status: WebStatus, now: float) -> tuple[RunningTest | None, RunningTest | None]:
        """The test that started and the test that stopped with this answer (either may be None)."""
        counts = (status.requests, status.failures)
        if self._adopt and not status.running:
            self.idle_counts, self._adopt = counts, False
        unseen = not status.running and status.requests > 0 and not self.pending and counts != self.idle_counts
        started = stopped = None
        if self.test is None and (status.running or unseen):
            self.test = started = RunningTest(self.next_number, started=now)
            self.next_number += 1
        if self.test is not None:
            self.test.peak_users = max(self.test.peak_users, status.users)
            if not status.running:
                stopped, self.test, self.pending = self.test, None, True
        return started, stopped

    def settled(self, counts: tuple[int, int] | None) -> None:
        """The stopped test is handled, and it ended with `counts` (None: whatever Locust shows next)."""
        self.pending = False
        if counts is None:
            self._adopt = True
        else:
            self.idle_counts = counts


class Session:
    """One `python -m loadtest ui`: the cell, Locust's web UI, the view, the verdicts."""

    def __init__(self, config: UiConfig, backend: Backend, cwd: Path, out: TextIO | None = None) -> None:
        self.config, self.backend = config, backend
        # Each test is judged as the engine judges a cell of `run`, with the record of its part of the session.
        self.engine = CellEngine(
            backend=backend,
            settings=config.backend,
            slo=config.slo,
            thresholds=config.thresholds,
            profile=config.profile,
            served=revision(cwd),
        )
        self.deployment: Deployment | None = None
        self.load: LoadRun | None = None
        self.next_sample = 0.0
        self.block = LiveBlock(out if out is not None else sys.stdout)
        self.cell_dir = config.out / config.cell.name
        self.web = LocustWeb(config.web.host, config.web.port)
        self.view = ResourceView()
        self.history = SessionHistory(csv_paths(self.cell_dir)["stats_history"])
        self.tests = SessionTests()
        self.capture: Capture | None = None
        self.status: WebStatus | None = None
        self.status_problem = ""
        self.judged: list[str] = []
        self.workers = 1

    def say(self, text: str) -> None:
        """A line above the live view."""
        self.block.message(text)

    def run(self) -> int:
        """The session, until Ctrl-C (exit 0) or until the cell breaks (exit 2)."""
        cell, config = self.config.cell, self.config
        self.say(
            f"{cell.name}: starting {cell.replicas} replica(s), {cell.cpus:g} CPU and {cell.memory} each "
            f"({config.profile} profile; {self.cell_dir}/)"
        )
        for line in backend_lines(self.backend):
            self.say(line)
        code = exitcodes.PASSED
        deployment: Deployment | None = None
        with interrupts.catch_signals():
            try:
                self._check_port()
                self.cell_dir.mkdir(parents=True, exist_ok=True)
                self.tests.next_number = next_test_number(self.cell_dir)
                deployment = self.backend.deployment(cell, self.cell_dir)
                with deployment:
                    self.serve(deployment)
            except interrupts.RunInterrupted:
                pass
            except (BackendError, OSError) as error:
                self.say(f"ERROR: {error}")
                code = exitcodes.CANNOT_JUDGE
            finally:
                with interrupts.shielded():
                    self.block.end()
                    problems = (deployment.problems if deployment is not None else []) + self.backend.close()
                    for problem in problems:
                        self.say(f"cleanup problem: {problem}")
                    if deployment is not None:
                        self._farewell(clean=not problems)
        return code

    def _check_port(self) -> None:
        web = self.config.web
        if listening_inodes(web.port):
            raise BackendError(
                f"port {web.port} is already in use on this machine (another `python -m loadtest ui`?); "
                "pick another with --web-port"
            )

    def serve(self, deployment: Deployment) -> None:
        """Locust's UI on the ready cell, until a signal (RunInterrupted) or a failure (BackendError)."""
        web = self.config.web
        load = deployment.start_web_ui(web)
        self.deployment, self.load, self.workers = deployment, load, load.workers
        self._wait_for_ui(load)
        state_path = self.cell_dir / STATE_FILE
        write_state(self.cell_dir, self._live_cell(deployment))
        try:
            self.say(offered_load_line(web.as_load(), self.config.slo))
            self.say(
                f"Locust's web UI: {self.web.url}  (start form: {web.users:,} users, {web.spawn_rate:g}/s"
                + (f", {web.run_time_seconds} s" if web.run_time_seconds is not None else "")
                + f"; {load.workers} Locust process(es)). Each test is judged when it stops. Ctrl-C ends the session."
            )
            self._loop(deployment, load)
        except interrupts.RunInterrupted as signal:
            self.block.end()
            self.say(f"{signal.signal_name}: stopping Locust and the replicas...")
            self._abandon("the session ended")
            raise
        except BackendError:
            self._abandon("the cell broke")
            raise
        finally:
            with interrupts.shielded():
                state_path.unlink(missing_ok=True)

    def _loop(self, deployment: Deployment, load: LoadRun) -> None:
        next_poll = next_view = 0.0
        while True:
            code = load.poll()
            if code is not None:
                raise BackendError(
                    f"Locust exited with {describe_exit(code)}; its log {load.log_path}:\n{load.log_tail()}"
                )
            events = deployment.supervise()
            for event in events:
                self.say(event)
            if events:
                write_state(self.cell_dir, self._live_cell(deployment))
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + POLL_SECONDS
                self._poll_locust(now)
            if self.tests.test is not None and now >= self.next_sample:
                self.next_sample = now + SAMPLE_SECONDS
                self.tests.test.samples.append(deployment.sample())
            if self.capture is not None:
                self._advance_capture(now)
            if now >= next_view:
                next_view = now + REFRESH_SECONDS
                self.block.show(self._view_lines(deployment.replica_records()))
            time.sleep(LOOP_SECONDS)

    def _wait_for_ui(self, load: LoadRun) -> None:
        deadline = time.monotonic() + UI_READY_TIMEOUT
        while not self.web.serving():
            code = load.poll()
            if code is not None:
                raise BackendError(
                    f"Locust exited with {describe_exit(code)} before its web UI answered; "
                    f"its log {load.log_path}:\n{load.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise BackendError(
                    f"Locust's web UI did not answer at {self.web.url} within {UI_READY_TIMEOUT:g} s; "
                    f"its log {load.log_path}:\n{load.log_tail()}"
                )
            time.sleep(LOOP_SECONDS)

    def _live_cell(self, deployment: Deployment) -> LiveCell:
        return LiveCell(
            pid=os.getpid(),
            backend=self.config.backend.name,
            cell=self.config.cell.name,
            web_url=self.web.url,
            started_at=datetime.now(UTC),
            replicas=deployment.live_replicas(),
        )

    # -- tests -----------------------------------------------------------------------------

    def _poll_locust(self, now: float) -> None:
        try:
            status = self.web.status()
        except WebApiError as error:
            self.status, self.status_problem = None, first_line(str(error))
            return
        self.status, self.status_problem = status, ""
        started, stopped = self.tests.observe(status, now)
        if started is not None:
            started.warnings_before = len(self.load.cpu_warnings()) if self.load is not None else 0
            try:
                started.form = self.web.form()
            except WebApiError:
                started.form = None
            self.say(
                f"test {started.number} started ({status.users:,} users so far)"
                if status.running
                else f"test {started.number} started and stopped between two looks at Locust"
            )
        if stopped is not None:
            if self.capture is not None:
                reason = "the next test stopped before its figures were complete"
                self._fail_capture(self.capture, reason, settle=False)
            settle = WORKER_REPORT_SECONDS + 1 if self.workers > 1 else 0.0
            records = self.deployment.replica_records() if self.deployment is not None else []
            self.capture = Capture(stopped, fetch_at=now + settle, duration=now - stopped.started, replicas=records)
            self.say(
                f"test {stopped.number} stopped after {format_clock(now - stopped.started)} "
                f"({stopped.peak_users:,} users at peak); judging it..."
            )

    def _advance_capture(self, now: float) -> None:
        capture = self.capture
        if capture is None or now < capture.fetch_at:
            return
        if now > capture.deadline:
            self._fail_capture(capture, capture.last_problem or "Locust's figures were not complete in time")
            return
        final = capture.final
        if final is None:
            try:
                files = {kind: self.web.text(path) for kind, path in DOWNLOADS.items()}
                files["report"] = self.web.text(REPORT_DOWNLOAD)
                final = final_counts(files["stats"])
            except (WebApiError, ValueError, KeyError) as error:
                capture.last_problem = first_line(str(error))
                return
            capture.files, capture.final = files, final
        if final[0] == 0:
            self._fail_capture(capture, "the test made no requests")
            return
        lines = self.history.lines()
        span = span_of_test([line.totals for line in lines if line.totals is not None], final)
        if span is None:
            capture.last_problem = (
                f"the session's history {self.history.path} never showed the final {final[0]:,} requests"
            )
            return
        history = cut_history(self.history.header, lines, *span)
        self.history.consume(lines, span[1])
        self.capture = None
        self.tests.settled(final)
        with interrupts.shielded():
            self._judge(capture, history)

    def _test_dir(self, test: RunningTest) -> Path:
        folder = self.cell_dir / f"test-{test.number}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _judge(self, capture: Capture, history: str) -> None:
        folder = self._test_dir(capture.test)
        paths = csv_paths(folder)
        files = capture.files
        for kind in DOWNLOADS:
            write_atomic(paths[kind], files[kind])
        write_atomic(paths["stats_history"], history)
        write_atomic(folder / HTML_REPORT, files["report"])
        result = self.engine.judge(folder, self._record(capture))
        # The test's name in place of the cell's: every test of a session is the same cell.
        # Every test of a session is the same cell: the line names the test.
        self.judged.append(result_line(result, name=f"test {capture.test.number}"))
        if result.verdict is None or result.stats is None:
            self.say(self.judged[-1])
            return
        console = render_console(result.stats, result.verdict)
        self.say(f"{self.judged[-1]}\n{console}(verdict.json and summary.md in {folder}/)")

    def _record(self, capture: Capture) -> RunRecord:
        """The test's run.json: what a cell of `run` records, for the part of the session it covers."""
        config, cell, test, web = self.config, self.config.cell, capture.test, self.config.web
        deployment, load = self.deployment, self.load
        users, spawn_rate = test.form if test.form is not None else (test.peak_users, web.spawn_rate)
        seconds = max(1, round(capture.duration))
        warnings = load.cpu_warnings()[test.warnings_before :] if load is not None else []
        # The session's Locust log sits beside the test folders; Locust runs on, so no exit code yet.
        return cell_record(
            cell,
            config.backend,
            self.backend,
            deployment,
            load,
            (None, f"../{load.log_path.name}" if load is not None else ""),
            web.scenario,
            self.engine.served,
            status="completed",
            profile=config.profile,
            users=users,
            spawn_rate=spawn_rate,
            run_time=f"{seconds}s",
            run_time_seconds=seconds,
            thresholds=str(config.thresholds),
            started_at=test.started_at,
            ended_at=capture.ended_at,
            duration_seconds=round(capture.duration, 3),
            locust_cpu_warnings=warnings,
            replica_records=capture.replicas,
            matrix=MatrixInfo(run_id=self.engine.run_id, position=test.number, planned=[f"test-{test.number}"]),
            warmup=web.warmup,
            samples=test.samples,
        )

    def _fail_capture(self, capture: Capture, reason: str, settle: bool = True) -> None:
        folder = self._test_dir(capture.test)
        cause = f"Test {capture.test.number} cannot be judged: {reason}."
        write_cannot_judge(cause, folder / VERDICT_FILE, folder / SUMMARY_FILE)
        self.judged.append(f"test {capture.test.number}: not judged — {reason}")
        self.say(self.judged[-1])
        if self.capture is capture:
            self.capture = None
        if settle:
            self.tests.settled(capture.final)

    def _abandon(self, reason: str) -> None:
        """Say what happens to a test that is running or being judged when the session ends."""
        test = self.tests.test
        if test is not None:
            self.judged.append(f"test {test.number}: cut short, not judged — {reason} while it ran")
            self.say(self.judged[-1])
            self.tests.test = None
        if self.capture is not None:
            self._fail_capture(self.capture, f"{reason} before its figures were complete")

    # -- the terminal ----------------------------------------------------------------------

    def _view_lines(self, records: list[ReplicaRecord]) -> list[str]:
        status = self.status
        if status is None:
            head = f"Locust: {self.status_problem or 'starting'}"
        else:
            test = f"test {self.tests.test.number} " if self.tests.test is not None else ""
            rate = f"{status.rps:,.1f} req/s, " if status.running else ""
            head = (
                f"Locust: {test}{status.state}, {status.users:,} users, {rate}"
                f"{status.requests:,} requests, {status.failures:,} failures "
                f"({format_rate(status.failures, status.requests)})"
            )
            if status.workers is not None:
                head += f", {status.workers} worker(s)"
        return [f"{head}  — {self.web.url}", *self.view.lines(records)]

    def _farewell(self, clean: bool) -> None:
        gone = "took its Compose project down" if self.config.backend.name == "compose" else "removed their cgroups"
        self.say(f"{self.config.cell.name}: stopped Locust and every replica" + (f", {gone}." if clean else "."))
        for line in self.judged:
            self.say(f"  {line}")
        self.say(f"Results: {self.cell_dir}/")
