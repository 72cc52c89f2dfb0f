"""The live resource view of a running cell: per replica, what it uses against its limits.

This replaces watching `docker stats` by eye. Every figure comes from the replica records the
runner keeps (`ReplicaRecord`: limits read back, usage, restarts), read twice:
- CPU: CPU seconds used between two reads over the wall time between them, against the CPU limit;
- throttled: the share of the CFS periods between the reads in which the quota ran out;
- memory: in use now (as `docker stats` counts it) against the memory limit, and the peak so far;
- restarts and OOM kills since the cell started.

`python -m loadtest ui` shows it from its own deployment and writes `ui.json` into the cell folder;
`python -m loadtest stats` finds that file and reads the same cgroups (process backend) or
containers (compose backend) from another terminal.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from loadtest import exitcodes
from loadtest.records import STATE_FILE, LiveCell, RecordError, ReplicaRecord, read_record, write_record
from loadtest.runner import interrupts
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import ApiContainer
from loadtest.runner.backends.docker import inspect
from loadtest.runner.backends.process import cgroup_record
from loadtest.runner.linux.cgroups import ReplicaCgroup
from loadtest.runner.live_block import LiveBlock
from loadtest.util.tables import text_table
from loadtest.util.units import format_size

HEADERS = ["Replica", "CPU used / limit", "Throttled", "Memory / limit", "Peak", "Restarts", "OOM kills"]
ALIGN = "lrrrrrr"
MISSING = "–"
REFRESH_SECONDS = 2.0


@dataclass(frozen=True)
class Sample:
    """One read of a replica: when (monotonic seconds) and what."""

    at: float
    record: ReplicaRecord


def cpu_used(before: Sample, after: Sample) -> float | None:
    """CPUs used on average between two reads (None: not measurable, e.g. the counter restarted)."""
    old = before.record.usage.cpu_seconds if before.record.usage is not None else None
    new = after.record.usage.cpu_seconds if after.record.usage is not None else None
    elapsed = after.at - before.at
    if old is None or new is None or elapsed <= 0 or new < old:
        return None
    return (new - old) / elapsed


def throttled_share(before: Sample, after: Sample) -> float | None:
    """The share of the CFS periods between two reads in which the replica was throttled."""
    old, new = before.record.usage, after.record.usage
    if old is None or new is None:
        return None
    periods = _delta(old.cpu_periods, new.cpu_periods)
    throttled = _delta(old.cpu_throttled_periods, new.cpu_throttled_periods)
    if periods is None or throttled is None:
        return None
    return throttled / periods if periods else 0.0


def _delta(old: int | None, new: int | None) -> int | None:
    return new - old if old is not None and new is not None and new >= old else None


def _share(part: float, whole: float | None) -> str:
    return f" ({part / whole:.0%})" if whole else ""


def replica_row(before: Sample | None, after: Sample) -> list[str]:
    """One replica's row of the view; before is None on the first read (no rates yet)."""
    record = after.record
    limits, usage = record.limits, record.usage
    cpu_limit = limits.cpus if limits is not None else None
    memory_limit = limits.memory_bytes if limits is not None else None
    used = cpu_used(before, after) if before is not None else None
    throttled = throttled_share(before, after) if before is not None else None
    limit_text = f"{cpu_limit:g}" if cpu_limit is not None else "none"
    cpu = f"{used:.2f} / {limit_text}{_share(used, cpu_limit)}" if used is not None else f"{MISSING} / {limit_text}"
    current = usage.memory_current_bytes if usage is not None else None
    memory_text = format_size(memory_limit) if memory_limit is not None else "none"
    memory = (
        f"{format_size(current)} / {memory_text}{_share(current, memory_limit)}"
        if current is not None
        else f"{MISSING} / {memory_text}"
    )
    oom = usage.oom_kills if usage is not None else None
    return [
        record.name,
        cpu,
        f"{throttled:.0%}" if throttled is not None else MISSING,
        memory,
        format_size(usage.memory_peak_bytes) if usage is not None else MISSING,
        f"{record.restarts:,}",
        f"{oom:,}" if oom is not None else MISSING,
    ]


def render(before: Sequence[Sample | None], after: Sequence[Sample]) -> list[str]:
    """The view's lines: a header and one row per replica (`before[i]` is replica i's previous read)."""
    rows = [replica_row(old, new) for old, new in zip(before, after, strict=True)]
    return text_table(HEADERS, rows, ALIGN).splitlines()


class ResourceView:
    """Keeps the previous read of every replica and renders the view from the next one."""

    def __init__(self) -> None:
        self._previous: dict[str, Sample] = {}

    def lines(self, records: Sequence[ReplicaRecord], at: float | None = None) -> list[str]:
        """The view from a new read of `records` (taken at `at`, monotonic; default now)."""
        now = time.monotonic() if at is None else at
        after = [Sample(now, record) for record in records]
        before = [self._previous.get(sample.record.name) for sample in after]
        self._previous = {sample.record.name: sample for sample in after}
        return render(before, after)


# --------------------------------------------------------------------------- ui.json, for `stats`


def write_state(cell_dir: Path, state: LiveCell) -> Path:
    """Write (or rewrite) the cell's ui.json."""
    path = cell_dir / STATE_FILE
    write_record(path, state)
    return path


def find_states(folder: Path) -> list[Path]:
    """The ui.json files in `folder` (a cell folder) or in its cell folders (a results folder)."""
    if (folder / STATE_FILE).is_file():
        return [folder / STATE_FILE]
    return sorted(folder.glob(f"*/{STATE_FILE}"))


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (and is not a zombie)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return status != "Z"


class CellReader:
    """Reads a running cell's replicas as its ui.json describes them, from another process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.view = ResourceView()
        self._containers: dict[str, ApiContainer] = {}

    def state(self) -> LiveCell | None:
        """The cell's ui.json, None once the cell has ended (file gone, or its ui process gone)."""
        try:
            state = read_record(self.path, LiveCell)
        except RecordError:
            if self.path.exists():
                raise
            return None
        return state if process_alive(state.pid) else None

    def records(self, state: LiveCell) -> list[ReplicaRecord]:
        """Every replica's limits and usage, read now."""
        if state.backend == "process":
            return [
                cgroup_record(
                    replica.index,
                    replica.name,
                    ReplicaCgroup(
                        replica.name, replica.cgroup_version, {k: Path(v) for k, v in replica.cgroup_dirs.items()}
                    )
                    if replica.cgroup_version is not None
                    else None,
                    pids=[],
                    restarts=replica.restarts,
                    exit_codes=[],
                )
                for replica in state.replicas
            ]
        containers = [
            self._containers.setdefault(
                replica.container_id, ApiContainer(index=replica.index, id=replica.container_id)
            )
            for replica in state.replicas
            if replica.container_id
        ]
        for document in inspect([container.id for container in containers]):
            match = next((c for c in containers if str(document.get("Id", "")).startswith(c.id)), None)
            if match is not None:
                match.observe(document)
        return [container.record() for container in containers]


def watch_cells(paths: Sequence[Path], stream: TextIO, interval: float, count: int | None) -> int:
    """Show the view of the cells in `paths` every `interval` s until they end, after `count` frames,
    or on Ctrl-C. The first frame comes one interval after the first read, so it has rates already.

    Returns 0, or 2 when no cell was running to begin with.
    """
    readers = [CellReader(path) for path in paths]
    block = LiveBlock(stream, interval=0)
    reads = 0
    with interrupts.catch_signals(), contextlib.suppress(interrupts.RunInterrupted):
        while True:
            lines, running = _frame(readers)
            if reads or not running:
                block.show(lines)
            if not running:
                return 0 if reads else exitcodes.CANNOT_JUDGE
            reads += 1
            if count is not None and reads > count:
                return 0
            time.sleep(interval)
    block.end()
    return 0


def _frame(readers: Sequence[CellReader]) -> tuple[list[str], int]:
    """The lines of every cell, and how many are running."""
    lines: list[str] = []
    running = 0
    for reader in readers:
        name = reader.path.parent.name
        try:
            state = reader.state()
            if state is None:
                lines.append(f"{name}: not running (its `python -m loadtest ui` has ended)")
                continue
            table = reader.view.lines(reader.records(state))
        except (RecordError, BackendError) as error:
            lines.append(f"{name}: cannot be read: {error}")
            continue
        running += 1
        lines += [f"{state.cell}: {state.backend} backend, Locust's UI at {state.web_url} (ui pid {state.pid})", *table]
    return lines, running
