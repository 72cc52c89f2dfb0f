"""The search's time budget: what a probe is expected to take, and whether the next one still fits.

A probe's time is its replicas' start-up (CPU-bound: a replica limited to 0.1 CPU starts ten times
slower than one with a whole CPU), its load, and Locust's start and stop with the gate. The start-up's
CPU time and the overhead are learnt from the probes that ran; until then they are estimated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import mean

from loadtest.runner.matrix import Cell
from loadtest.search.records import ProbeRecord

START_CPU_SECONDS = 2.0
"""CPU time one replica of a Python service spends starting (imports, model load), until measured."""
OVERHEAD_SECONDS = 8.0
"""Locust's start and stop, the gate and the clean-up of one probe, until measured."""
STOP_MARGIN_SECONDS = 10.0
"""Kept at the end of the budget: a probe still running then is stopped, to leave time to stop it and write."""


class Budget:
    """A deadline, and estimates of what each probe will take."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.started = clock()
        self._start_cpu: list[float] = []
        self._overhead: list[float] = []

    @property
    def used(self) -> float:
        """Seconds since the search started."""
        return self.clock() - self.started

    @property
    def remaining(self) -> float:
        """Seconds left."""
        return self.seconds - self.used

    @property
    def stop_at(self) -> float:
        """When a running probe must be stopped (the clock's time)."""
        return self.started + self.seconds - STOP_MARGIN_SECONDS

    def startup(self, cell: Cell) -> float:
        """Seconds the cell's replicas are expected to take to be ready under their CPU limit."""
        cpu_seconds = mean(self._start_cpu) if self._start_cpu else START_CPU_SECONDS
        return cpu_seconds / cell.cpus

    def estimate(self, cell: Cell, run_seconds: int) -> float:
        """Seconds one probe of `cell` with a load of `run_seconds` is expected to take, start to verdict."""
        overhead = mean(self._overhead) if self._overhead else OVERHEAD_SECONDS
        return self.startup(cell) + run_seconds + overhead

    def allows(self, seconds: float) -> bool:
        """Whether `seconds` more still fit."""
        return self.remaining - STOP_MARGIN_SECONDS >= seconds

    def observe(self, record: ProbeRecord) -> None:
        """Learn from a probe that ran: its replicas' start-up, and what it took beyond start-up and load."""
        if record.ready_seconds is None:
            return
        self._start_cpu.append(record.ready_seconds * record.cpus)
        # A probe that ran its whole window teaches the overhead: a pass or an inconclusive (its looks stop it
        # only once the window's last block was answered), or a breach its looks did not stop early.
        whole = record.outcome in ("pass", "inconclusive") or (record.outcome == "breach" and not record.stopped_early)
        if whole:
            self._overhead.append(max(0.0, record.duration_seconds - record.ready_seconds - record.run_time_seconds))
