"""`python -m loadtest run`: for every cell of the matrix the cell engine, then the matrix report.

Whatever happens (a breach, a broken cell, Ctrl-C, SIGTERM), every process the run started is
stopped and every cgroup removed before it returns, the results so far stay on disk, and the
summary says when the run was cut short.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from loadtest.gate.sequential import cell_stop
from loadtest.locust_contract import LoadSettings
from loadtest.records import SUMMARY_FILE
from loadtest.report import write_report
from loadtest.results import CellResult
from loadtest.runner import interrupts
from loadtest.runner.backends import Backend
from loadtest.runner.calibration import Calibration, CalibrationError, calibrate, capacity_notes
from loadtest.runner.engine import CellEngine, CellRequest
from loadtest.runner.generator import cell_workers
from loadtest.runner.progress import ProgressLine
from loadtest.runner.run_options import RunConfig
from loadtest.thresholds import Slo
from loadtest.util.git import revision
from loadtest.util.text import first_line

GENERATOR_HEADROOM = 0.6
"""Cells whose users ask more than this share of what Locust can deliver get a note at start."""
CALIBRATION_DIR = "calibration"


def run_engine(
    config: RunConfig, backend: Backend, cwd: Path, served: tuple[str | None, bool | None] | None = None
) -> CellEngine:
    """The engine for `config`'s cells; `served`: the commit (and dirty flag) of the code the replicas run,
    when it is not `cwd`'s."""
    return CellEngine(
        backend=backend,
        settings=config.backend,
        slo=config.slo,
        thresholds=config.thresholds,
        profile=config.profile,
        served=served if served is not None else revision(cwd),
    )


class MatrixRun:
    """Runs the matrix of one `python -m loadtest run`."""

    def __init__(
        self, config: RunConfig, backend: Backend, cwd: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr
    ) -> None:
        self.config, self.backend, self.cwd, self.out = config, backend, cwd, out
        self.progress = ProgressLine(err, len(config.cells))
        self.engine = run_engine(config, backend, cwd)

    def say(self, text: str) -> None:
        """A line on the terminal (stderr: stdout carries the results)."""
        self.progress.message(text)

    def run(self) -> int:
        """Every cell, then the matrix report; the exit code."""
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        self.say(
            f"{len(config.cells)} cell(s): {', '.join(cell.name for cell in config.cells)}; "
            f"{config.load.users:,} users spawning {config.load.spawn_rate:g}/s for {config.run_time} each"
        )
        self.say(offered_load_line(config.load, config.slo))
        for line in backend_lines(self.backend):
            self.say(line)
        results: list[CellResult] = []
        interruption: str | None = None
        with interrupts.catch_signals():
            try:
                if config.backend.calibrate:
                    self.engine.calibration = measure_generator(config, self.cwd, self.say)
                for position, cell in enumerate(config.cells, start=1):
                    folder = config.out / cell.name
                    looks = cell_stop(folder, config.slo, config.load) if config.backend.locustfile is None else None
                    request = CellRequest(
                        cell=cell,
                        load=config.load,
                        folder=folder,
                        label=f"[{position}/{len(config.cells)}]",
                        position=position,
                        planned=tuple(c.name for c in config.cells),
                        run_time=config.run_time.text,
                        # Our locustfile records histograms: the cell stops once its looks decided (a breach
                        # beyond doubt before run_time), and Locust runs past run_time just long enough for
                        # run_time's last requests to be answered and looked at.
                        stop=looks[0] if looks is not None else None,
                        locust_seconds=looks[1] if looks is not None else None,
                    )
                    results.append(self.engine.run_cell(request, self.progress))
                    if interrupts.received():
                        break
            except interrupts.RunInterrupted:
                pass
            finally:
                with interrupts.shielded():
                    problems = self.backend.close()
                for problem in problems:
                    self.say(f"cleanup problem: {problem}")
            if interrupts.received():
                interruption = (
                    f"the run was cut short by {interrupts.received()} during cell {len(results)} of "
                    f"{len(config.cells)}"
                )
            with interrupts.shielded():
                return self.report(results, interruption)

    def report(self, results: list[CellResult], interruption: str | None) -> int:
        """Write the matrix summary and print it; the exit code."""
        report = write_report(results, self.config.out, interruption)
        self.progress.end_line()
        self.out.write("\n" + report.console)
        self.out.write(f"\nResults: {self.config.out}/ (summary: {self.config.out / SUMMARY_FILE})\n")
        self.out.flush()
        return report.code


def measure_generator(config: RunConfig, cwd: Path, say: Callable[[str], None]) -> Calibration | None:
    """Measure what one Locust process delivers here, and warn about cells that ask for more (None: the
    calibration failed, and said why)."""
    say("calibrating the load generator: one Locust process against a server that costs nothing...")
    workers = {cell.name: cell_workers(cell, config.backend.locust_workers) for cell in config.cells}
    users = max(1, config.load.users // max(workers.values()))
    try:
        calibration = calibrate(
            config.load.scenario, users, config.out / CALIBRATION_DIR, cwd, config.backend.locustfile
        )
    except CalibrationError as error:
        say(f"calibration failed, so no cell can say whether Locust was the limit: {first_line(error)}")
        return None
    per_worker = calibration.per_worker_rps
    say(f"one Locust process delivers ~{per_worker:,.0f} req/s of this scenario here (no waits, null target)")
    for note in capacity_notes(calibration, config.load.scenario, config.load.users, workers, GENERATOR_HEADROOM):
        say(_banner(note.text) if note.over else f"note: {note.text}")
    return calibration


def offered_load_line(load: LoadSettings, slo: Slo) -> str:
    """What the scenario's users ask of a cell, and what keeping up with them takes."""
    return load.scenario.asked_line(load.users, slo.max_p95_ms)


def backend_lines(backend: Backend) -> list[str]:
    """Where the replicas run and how they are limited; a loud banner when they are not."""
    lines = [backend.describe()]
    if not backend.limits_enforced:
        lines.append(
            _banner(
                "limits_enforced: false — the replicas will run WITHOUT CPU/memory limits: "
                f"{backend.limits_not_enforced_reason}"
            )
        )
    return lines


def _banner(text: str) -> str:
    line = "!" * min(100, max(40, len(text) // 2))
    return f"{line}\n!!! {text}\n{line}"
