"""A stopped test, judged: its figures collected from Locust's web API into `<cell>/test-N/`, its run.json,
and the cell engine's verdict, as for a cell of `run`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loadtest.gate.run_folder import write_cannot_judge
from loadtest.gate.verdict_summary import render_console
from loadtest.locust_contract import HTML_REPORT, csv_paths
from loadtest.records import SUMMARY_FILE, VERDICT_FILE, MatrixInfo, ReplicaRecord, RunRecord
from loadtest.results import result_line
from loadtest.runner.backends import Deployment, LoadRun
from loadtest.runner.engine import CellEngine, cell_record
from loadtest.ui.detection import RunningTest
from loadtest.ui.ui_options import UiConfig
from loadtest.util.files import write_atomic

CAPTURE_TIMEOUT = 30.0
"""After a stop, the session's history file must show the final figures within this long (Locust
flushes it every few seconds)."""
DOWNLOADS = {
    "stats": "/stats/requests/csv",
    "failures": "/stats/failures/csv",
    "exceptions": "/exceptions/csv",
}
"""Locust's web API downloads, by the file name `--csv` would give them."""
REPORT_DOWNLOAD = "/stats/report?download=1"


@dataclass
class Capture:
    """A stopped test whose figures are being collected."""

    test: RunningTest
    fetch_at: float
    """Not before: with workers, their last figures reach the master a few seconds after the stop."""
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration: float = 0.0
    replicas: list[ReplicaRecord] = field(default_factory=list)
    """The replicas' records when it stopped."""
    files: dict[str, str] = field(default_factory=dict)
    """The downloads, by CSV kind (+ "report")."""
    final: tuple[int, int] | None = None
    """(requests, failures) of the downloaded statistics; set with `files`."""
    last_problem: str = ""

    @property
    def deadline(self) -> float:
        """When the capture gives up."""
        return self.fetch_at + CAPTURE_TIMEOUT


class TestJudge:
    """Writes each stopped test's folder and has the engine judge it with the record of its part of the session."""

    def __init__(self, engine: CellEngine, config: UiConfig, cell_dir: Path) -> None:
        self.engine, self.config, self.cell_dir = engine, config, cell_dir

    def folder(self, test: RunningTest) -> Path:
        """`<cell>/test-N/`, made."""
        folder = self.cell_dir / f"test-{test.number}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def judge(
        self, capture: Capture, history: str, deployment: Deployment | None, load: LoadRun | None
    ) -> tuple[str, str]:
        """Write the test's files and judge them: the outcome in a line, and what to print (the line and the
        gate's terminal view)."""
        folder = self.folder(capture.test)
        paths = csv_paths(folder)
        for kind in DOWNLOADS:
            write_atomic(paths[kind], capture.files[kind])
        write_atomic(paths["stats_history"], history)
        write_atomic(folder / HTML_REPORT, capture.files["report"])
        result = self.engine.judge(folder, self.record(capture, deployment, load))
        # Every test of a session is the same cell: the line names the test.
        line = result_line(result, name=f"test {capture.test.number}")
        if result.verdict is None or result.stats is None:
            return line, line
        return line, f"{line}\n{render_console(result.stats, result.verdict)}(verdict.json and summary.md in {folder}/)"

    def cannot_judge(self, capture: Capture, reason: str) -> str:
        """Say in the test's folder that it cannot be judged, and why; the line to print."""
        folder = self.folder(capture.test)
        cause = f"Test {capture.test.number} cannot be judged: {reason}."
        write_cannot_judge(cause, folder / VERDICT_FILE, folder / SUMMARY_FILE)
        return f"test {capture.test.number}: not judged — {reason}"

    def record(self, capture: Capture, deployment: Deployment | None, load: LoadRun | None) -> RunRecord:
        """The test's run.json: what a cell of `run` records, for the part of the session it covers."""
        config, test, web = self.config, capture.test, self.config.web
        users, spawn_rate = test.form if test.form is not None else (test.peak_users, web.spawn_rate)
        seconds = max(1, round(capture.duration))
        warnings = load.cpu_warnings()[test.warnings_before :] if load is not None else []
        # The session's Locust log sits beside the test folders; Locust runs on, so no exit code yet.
        return cell_record(
            config.cell,
            config.backend,
            self.engine.backend,
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
