"""The live resource view: rows from two reads of a replica, ui.json, and reading a cell from outside."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadtest.records import STATE_FILE, LiveCell, LiveReplica, ReplicaLimits, ReplicaRecord, ReplicaUsage, read_record
from loadtest.runner.resources import (
    HEADERS,
    CellReader,
    ResourceView,
    Sample,
    find_states,
    process_alive,
    replica_row,
    watch_cells,
    write_state,
)

MIB = 2**20
LIMITS = ReplicaLimits(
    source="cgroup v2", cpus=0.5, cpu_quota_us=50_000, cpu_period_us=100_000, memory_bytes=256 * MIB, swap_bytes=0
)


def usage(cpu: float | None, periods: int | None, throttled: int | None, memory: int | None) -> ReplicaUsage:
    return ReplicaUsage(
        cpu_seconds=cpu,
        cpu_periods=periods,
        cpu_throttled_periods=throttled,
        cpu_throttled_seconds=None,
        memory_peak_bytes=90 * MIB,
        oom_kills=0,
        memory_current_bytes=memory,
    )


def sample(at: float, used: ReplicaUsage | None, limits: ReplicaLimits | None = LIMITS, restarts: int = 0) -> Sample:
    return Sample(at, ReplicaRecord(index=0, name="replica-0", restarts=restarts, limits=limits, usage=used))


@pytest.mark.parametrize(
    ("before", "after", "row"),
    [
        pytest.param(
            sample(10.0, usage(3.0, 100, 10, 80 * MIB)),
            sample(12.0, usage(3.96, 120, 22, 64 * MIB), restarts=1),
            ["replica-0", "0.48 / 0.5 (96%)", "60%", "64 MiB / 256 MiB (25%)", "90 MiB", "1", "0"],
            id="0.96 CPU seconds in 2 s against 0.5 CPU, 12 of 20 periods throttled",
        ),
        pytest.param(
            None,
            sample(12.0, usage(3.96, 120, 22, 64 * MIB)),
            ["replica-0", "– / 0.5", "–", "64 MiB / 256 MiB (25%)", "90 MiB", "0", "0"],
            id="the first read has no rates yet",
        ),
        pytest.param(
            sample(10.0, usage(1.0, 100, 10, MIB)),
            sample(11.0, usage(1.0, 100, 10, MIB)),
            ["replica-0", "0.00 / 0.5 (0%)", "0%", "1 MiB / 256 MiB (0%)", "90 MiB", "0", "0"],
            id="idle: no period elapsed",
        ),
        pytest.param(
            sample(10.0, usage(50.0, 900, 300, MIB)),
            sample(11.0, usage(0.2, 10, 1, MIB)),
            ["replica-0", "– / 0.5", "–", "1 MiB / 256 MiB (0%)", "90 MiB", "0", "0"],
            id="the counters started again (a container restarted): no rate",
        ),
        pytest.param(
            sample(10.0, usage(1.0, None, None, None), limits=None),
            sample(11.0, usage(1.25, None, None, None), limits=None),
            ["replica-0", "0.25 / none", "–", "– / none", "90 MiB", "0", "0"],
            id="no limits and no CFS statistics",
        ),
        pytest.param(
            sample(10.0, None),
            sample(11.0, None),
            ["replica-0", "– / 0.5", "–", "– / 256 MiB", "–", "0", "–"],
            id="usage unreadable",
        ),
    ],
)
def test_a_replica_row_from_two_reads(before: Sample | None, after: Sample, row: list[str]) -> None:
    assert replica_row(before, after) == row


def test_the_view_keeps_each_replicas_previous_read() -> None:
    view = ResourceView()
    first = view.lines([sample(0.0, usage(1.0, 10, 0, 10 * MIB)).record], at=0.0)
    assert [column.strip() for column in first[0].split("  ") if column.strip()] == HEADERS
    assert "– / 0.5" in first[2]
    second = view.lines([sample(0.0, usage(1.5, 20, 5, 10 * MIB)).record], at=1.0)
    assert "0.50 / 0.5 (100%)" in second[2]
    assert "50%" in second[2]


def live_cell(pid: int, replicas: list[LiveReplica]) -> LiveCell:
    return LiveCell(
        pid=pid,
        backend="process",
        cell="r1-cpu0.5-mem256m",
        web_url="http://127.0.0.1:8089",
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        replicas=replicas,
    )


def fake_cgroup(folder: Path, cpu_usec: int) -> Path:
    """A cgroup v2 folder as the kernel shows it (the files `ReplicaCgroup` reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "cpu.max": "50000 100000\n",
        "memory.max": str(256 * MIB) + "\n",
        "cpu.stat": f"usage_usec {cpu_usec}\nnr_periods 40\nnr_throttled 10\nthrottled_usec 1000\n",
        "memory.current": str(70 * MIB) + "\n",
        "memory.stat": f"inactive_file {6 * MIB}\n",
        "memory.peak": str(80 * MIB) + "\n",
        "memory.events": "oom_kill 2\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_ui_json_round_trip(tmp_path: Path) -> None:
    replicas = [
        LiveReplica(index=0, name="replica-0", cgroup_version=1, cgroup_dirs={"cpu": "/c/0", "memory": "/m/0"}),
        LiveReplica(index=1, name="replica-1", container_id="0123456789ab"),
    ]
    state = live_cell(4242, replicas)
    path = write_state(tmp_path, state)
    assert path == tmp_path / STATE_FILE
    assert read_record(path, LiveCell) == state


def test_states_are_found_in_a_cell_folder_or_its_results_folder(tmp_path: Path) -> None:
    assert find_states(tmp_path) == []
    for cell in ("r2-cpu1.0-mem512m", "r1-cpu0.5-mem256m"):
        write_state(tmp_path / cell, live_cell(1, []))
    (tmp_path / "r1-cpu0.5-mem1g").mkdir()
    assert find_states(tmp_path) == [
        tmp_path / "r1-cpu0.5-mem256m" / STATE_FILE,
        tmp_path / "r2-cpu1.0-mem512m" / STATE_FILE,
    ]
    assert find_states(tmp_path / "r1-cpu0.5-mem256m") == [tmp_path / "r1-cpu0.5-mem256m" / STATE_FILE]


def ended_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(process.stdout)


def test_a_cell_is_running_while_its_ui_process_is(tmp_path: Path) -> None:
    assert process_alive(os.getpid())
    assert not process_alive(ended_pid())
    write_state(tmp_path, live_cell(ended_pid(), []))
    assert CellReader(tmp_path / STATE_FILE).state() is None
    assert CellReader(tmp_path / "gone" / STATE_FILE).state() is None


def test_another_process_reads_the_replicas_cgroups(tmp_path: Path) -> None:
    folder = fake_cgroup(tmp_path / "cgroup" / "replica-0", cpu_usec=2_500_000)
    replica = LiveReplica(index=0, name="replica-0", cgroup_version=2, cgroup_dirs={"unified": str(folder)}, restarts=3)
    write_state(tmp_path / "cell", live_cell(os.getpid(), [replica]))
    reader = CellReader(tmp_path / "cell" / STATE_FILE)
    state = reader.state()
    assert state is not None
    [record] = reader.records(state)
    assert (record.name, record.restarts, record.oom_killed) == ("replica-0", 3, True)
    assert record.limits is not None
    assert (record.limits.cpus, record.limits.memory_bytes) == (0.5, 256 * MIB)
    assert record.usage is not None
    assert record.usage.cpu_seconds == pytest.approx(2.5)
    assert (record.usage.memory_current_bytes, record.usage.oom_kills) == (64 * MIB, 2)


def test_watching_shows_frames_with_rates_then_stops(tmp_path: Path) -> None:
    folder = fake_cgroup(tmp_path / "cgroup", cpu_usec=1_000_000)
    replica = LiveReplica(index=0, name="replica-0", cgroup_version=2, cgroup_dirs={"unified": str(folder)})
    write_state(tmp_path / "cell", live_cell(os.getpid(), [replica]))
    out = io.StringIO()
    assert watch_cells([tmp_path / "cell" / STATE_FILE], out, interval=0.01, count=2) == 0
    frames = out.getvalue().split("r1-cpu0.5-mem256m: process backend")
    assert len(frames) == 3  # two frames, each after a read with a previous one
    assert "0.00 / 0.5 (0%)" in frames[1]
    assert "64 MiB / 256 MiB (25%)" in frames[1]


def test_watching_a_cell_that_has_ended_exits_2(tmp_path: Path) -> None:
    write_state(tmp_path / "cell", live_cell(ended_pid(), []))
    out = io.StringIO()
    assert watch_cells([tmp_path / "cell" / STATE_FILE], out, interval=0.01, count=None) == 2
    assert out.getvalue() == "cell: not running (its `python -m loadtest ui` has ended)\n"
