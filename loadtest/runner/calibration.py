"""What this machine's Locust can deliver of the scenario, measured before the cells run.

One Locust process runs the scenario's requests with no waits, against the null target (a server
that costs nothing, `loadtest.runner.null_target`, answering each request as its `expect` wants),
for a few seconds after its ramp. What it
delivers there is its own ceiling: a cell whose users ask more measures Locust, not the service.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loadtest import packaged
from loadtest.gate.reading import GateInputError, read_stats
from loadtest.locust_contract import LOG_FILE, LoadSettings
from loadtest.records import GeneratorCapacity
from loadtest.runner import null_target
from loadtest.runner.backends.local_locust import start_locust
from loadtest.runner.linux import launch, processes
from loadtest.runner.linux.sockets import free_port
from loadtest.scenario import Scenario
from loadtest.util.files import read_tail, write_atomic
from loadtest.util.http import wait_until_ok

HOST = "127.0.0.1"
MEASURED_SECONDS = 8
"""Seconds measured after the ramp: long enough for Locust's per-second figures to settle."""
MIN_USERS, MAX_USERS = 100, 10_000
"""Users of the calibration: as many as a cell gives one Locust process, since each user costs it
(measured on a 2-core VM: 3,900 req/s at 1,000 users, 2,900 at 5,000, 2,100 at 10,000), between
enough to keep it busy and the `ci` profile's 10,000 on one process (about 15 s of calibration)."""
READY_SECONDS = 20.0
READY_PATH = "/null-target/ready"
"""Not a path of any scenario: the null target's default reply (200), whatever the scenario expects."""
REPLIES_FILE = "null_target_replies.json"


class CalibrationError(Exception):
    """The calibration could not be made; the message says why."""


@dataclass(frozen=True)
class Calibration:
    """One Locust process's ceiling on this machine, for this scenario."""

    per_worker_rps: float
    users: int
    seconds: float

    def for_workers(self, workers: int) -> GeneratorCapacity:
        """The ceiling of a cell's `workers` Locust processes (one core each)."""
        return GeneratorCapacity(
            per_worker_rps=self.per_worker_rps,
            workers=workers,
            total_rps=self.per_worker_rps * workers,
            users=self.users,
            seconds=self.seconds,
        )


@dataclass(frozen=True)
class CapacityNote:
    """What one cell's users ask against what its Locust delivers here, said before the cell runs."""

    cell: str
    text: str
    over: bool
    """They ask more than its Locust can deliver: the cell will measure Locust (a banner)."""


def capacity_notes(
    calibration: Calibration, scenario: Scenario, users: int, workers: Mapping[str, int], headroom: float
) -> list[CapacityNote]:
    """A note for each cell (name: its Locust processes) whose users ask more than `headroom` of what
    its Locust delivers. None when some users do not wait: they ask as fast as replies come, so what
    they ask is only known once the service answers (the verdict reads Locust's CPU then)."""
    if scenario.eager_kinds():
        return []
    asked = scenario.asked_rps(users)
    notes = []
    for cell, count in workers.items():
        capacity = calibration.for_workers(count).total_rps
        if asked > capacity:
            text = (
                f"{cell}: the users ask up to ~{asked:,.0f} req/s, but its {count} Locust process(es) deliver "
                f"~{capacity:,.0f} req/s here: expect an inconclusive cell (Locust, not the service, would set "
                "the pace). Ask less (the scenario's rates, or the profile's pace) or give Locust more cores."
            )
            notes.append(CapacityNote(cell=cell, text=text, over=True))
        elif asked > headroom * capacity:
            text = (
                f"{cell}: the users ask up to ~{asked:,.0f} req/s, {asked / capacity:.0%} of what its Locust "
                f"delivers here (~{capacity:,.0f} req/s)"
            )
            notes.append(CapacityNote(cell=cell, text=text, over=False))
    return notes


def calibration_users(users_per_worker: int) -> int:
    """The calibration's users: a cell's users per Locust process, within MIN_USERS and MAX_USERS."""
    return max(MIN_USERS, min(MAX_USERS, users_per_worker))


def calibrate(
    scenario: Scenario, users_per_worker: int, folder: Path, cwd: Path, locustfile: Path | None = None
) -> Calibration:
    """Run the calibration; its CSVs and log stay in `folder`. CalibrationError when it fails."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    users = calibration_users(users_per_worker)
    settings = LoadSettings(
        users=users,
        spawn_rate=float(users),
        run_time_seconds=MEASURED_SECONDS + 2,
        scenario=scenario.without_waits(),
        warmup="spawn",
    )
    port = free_port(HOST)
    # The null target answers each request as its `expect` wants, so Locust's checks pass as in a healthy cell.
    replies = folder / REPLIES_FILE
    write_atomic(replies, json.dumps(null_target.replies_for(scenario), indent=2) + "\n")
    target_command = [
        *(sys.executable, "-m", "loadtest.runner.null_target", "--host", HOST, "--port", str(port)),
        *("--replies", str(replies)),
    ]
    with (folder / "null_target.log").open("ab") as target_log:
        target = processes.start(launch.build_command(target_command, raise_nofile=True), target_log, cwd=cwd)
        try:
            answer = wait_until_ok(HOST, port, READY_PATH, READY_SECONDS, lambda: processes.exit_reason(target))
            if answer != 200:
                raise CalibrationError(f"the null target on port {port} did not answer: {answer}")
            locust = start_locust(
                locustfile or packaged.LOCUSTFILE, f"http://{HOST}:{port}", folder, settings, 1, cwd=cwd
            )
            deadline = locust.deadline
            while locust.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            locust.stop()
        finally:
            processes.stop(target)
    try:
        stats = read_stats(folder)
    except GateInputError as error:
        raise CalibrationError(
            f"Locust left no usable figures ({error}); its log:\n{read_tail(folder / LOG_FILE)}"
        ) from None
    window = stats.judged_window(after_spawn=True)
    if stats.aggregated.requests == 0 or window.seconds <= 0:
        raise CalibrationError(f"Locust sent nothing to the null target; its log:\n{read_tail(folder / LOG_FILE)}")
    return Calibration(per_worker_rps=stats.aggregated.rps, users=users, seconds=window.seconds)
