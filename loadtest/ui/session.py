"""A `ui` session: the cell's replicas, Locust's web UI on them, the view, and a verdict for every test.

The cell starts as a cell of `run` does (same backend, limits enforced and read back, replicas
ready); then Locust runs with its web UI (`locust_web_args`), the start form pre-filled with the
profile's users and spawn rate. While it runs, the terminal shows Locust's state and the live
resource view of every replica (`view`), and `ui.json` lets `python -m loadtest stats` show the
same from another terminal.

Tests are started and stopped from the UI. The session polls Locust's web API (`detection`); when a
test has stopped, its figures are read through that API (Locust's own CSV writers), its rows are cut
out of the session's `--csv-full-history` file (`capture`), and the four CSVs go to `<cell>/test-N/`
with Locust's HTML report, judged by the cell engine (`judging`); the verdict is printed. Nothing of
an earlier test is overwritten. Ctrl-C (or SIGTERM, SIGHUP) stops Locust and every replica and
removes their cgroups (or takes the Compose project down), as for `run`.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from loadtest import exitcodes
from loadtest.gate.reading import stats_totals
from loadtest.locust_contract import csv_paths
from loadtest.records import STATE_FILE, LiveCell
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend, BackendError, Deployment, LoadRun
from loadtest.runner.engine import SAMPLE_SECONDS, CellEngine
from loadtest.runner.linux.processes import describe_exit
from loadtest.runner.linux.sockets import listening_inodes
from loadtest.runner.live_block import LiveBlock
from loadtest.runner.matrix_run import backend_lines, offered_load_line
from loadtest.runner.resources import REFRESH_SECONDS, ResourceView, write_state
from loadtest.runner.web_api import LocustWeb, WebApiError, WebStatus
from loadtest.ui.capture import SessionHistory, span_of_test
from loadtest.ui.detection import SessionTests, next_test_number
from loadtest.ui.judging import DOWNLOADS, REPORT_DOWNLOAD, Capture, TestJudge
from loadtest.ui.ui_options import UiConfig
from loadtest.ui.view import farewell_lines, view_lines
from loadtest.util.git import revision
from loadtest.util.text import first_line
from loadtest.util.units import format_clock

LOOP_SECONDS = 0.25
POLL_SECONDS = 1.0
"""How often Locust's state is asked (its answer may be up to 2 s old: Locust caches it)."""
UI_READY_TIMEOUT = 120.0
"""Seconds Locust gets to serve its UI (its worker processes, or its containers, start first)."""
WORKER_REPORT_SECONDS = 3.0
"""Locust's workers send their figures to the master this often (`locust.runners.WORKER_REPORT_INTERVAL`):
after a stop the master's totals may still grow for that long."""


class Session:
    """One `python -m loadtest ui`: the cell, Locust's web UI, the view, the verdicts."""

    def __init__(self, config: UiConfig, backend: Backend, cwd: Path, out: TextIO | None = None) -> None:
        self.config, self.backend = config, backend
        # Each test is judged as the engine judges a cell of `run`, with the record of its part of the session.
        engine = CellEngine(
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
        self.judge = TestJudge(engine, config, self.cell_dir)
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
                self.block.show(self._view_lines(deployment))
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
                final = stats_totals(files["stats"])
            except (WebApiError, ValueError, KeyError) as error:
                capture.last_problem = first_line(str(error))
                return
            capture.files, capture.final = files, final
        if final[0] == 0:
            self._fail_capture(capture, "the test made no requests")
            return
        lines = self.history.lines()
        span = span_of_test([line.row for line in lines if line.row.aggregated], final)
        if span is None:
            capture.last_problem = (
                f"the session's history {self.history.path} never showed the final {final[0]:,} requests"
            )
            return
        history = self.history.cut(*span)
        self.history.consume(span[1])
        self.capture = None
        self.tests.settled(final)
        with interrupts.shielded():
            line, shown = self.judge.judge(capture, history, self.deployment, self.load)
            self.judged.append(line)
            self.say(shown)

    def _fail_capture(self, capture: Capture, reason: str, settle: bool = True) -> None:
        self.judged.append(self.judge.cannot_judge(capture, reason))
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

    def _view_lines(self, deployment: Deployment) -> list[str]:
        test = self.tests.test.number if self.tests.test is not None else None
        records = deployment.replica_records()
        return view_lines(self.status, self.status_problem, test, self.web.url, self.view, records)

    def _farewell(self, clean: bool) -> None:
        lines = farewell_lines(self.config.cell.name, self.config.backend.name, clean, self.judged, self.cell_dir)
        for line in lines:
            self.say(line)
