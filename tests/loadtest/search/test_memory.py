"""Memory from the peak: the recommended limit, OOM kills and peaks read from run.json."""

from __future__ import annotations

import pytest

from loadtest.records import ReplicaRecord, ReplicaUsage
from loadtest.runner.matrix import Cell
from loadtest.search.memory import docker_size, ladder_mib, largest_peaks, oom_kills, recommended_limit, replica_peaks
from loadtest.util.units import parse_memory
from tests.loadtest.cell_folders import run_record

MIB = 1024**2


def usage(peak: int | None, kills: int | None = 0) -> ReplicaUsage:
    return ReplicaUsage(
        cpu_seconds=1.0,
        cpu_periods=10,
        cpu_throttled_periods=0,
        cpu_throttled_seconds=0.0,
        memory_peak_bytes=peak,
        oom_kills=kills,
    )


@pytest.mark.parametrize(
    ("peak_mib", "limit"),
    [
        pytest.param(62, "96m", id="62-times-1.25-is-77.5"),
        pytest.param(76.8, "96m", id="exactly-96"),
        pytest.param(77, "128m", id="just-over-96"),
        pytest.param(410, "768m", id="512-too-small"),
        pytest.param(800, "1g", id="a-gibibyte"),
        pytest.param(1, "8m", id="never-below-dockers-6m"),
        pytest.param(1200, "1536m", id="one-and-a-half-gibibytes"),
    ],
)
def test_recommended_limit_is_the_peak_with_headroom_rounded_up(peak_mib: float, limit: str) -> None:
    text, size = recommended_limit(int(peak_mib * MIB))
    assert text == limit
    assert parse_memory(text) == size
    assert size >= peak_mib * MIB * 1.25


def test_the_ladder_and_docker_sizes() -> None:
    assert ladder_mib()[:10] == [8, 12, 16, 24, 32, 48, 64, 96, 128, 192]
    assert docker_size(2 * 1024 * MIB) == "2g"
    assert docker_size(1536 * MIB) == "1536m"
    assert docker_size(100 * MIB + 1) == "101m"


def test_peaks_and_oom_kills_from_the_replica_records() -> None:
    record = run_record(
        Cell(3, 0.5, "512m"),
        replica_records=[
            ReplicaRecord(index=0, name="replica-0", usage=usage(80 * MIB, kills=2)),
            ReplicaRecord(index=1, name="replica-1", usage=usage(None, kills=None), oom_killed=True),
            ReplicaRecord(index=2, name="replica-2", usage=None),
        ],
    )
    assert replica_peaks(record) == [80 * MIB, None, None]
    assert oom_kills(record) == 3
    assert oom_kills(run_record(Cell(2, 0.5, "512m"))) == 0


def test_largest_peaks_per_replica_over_runs() -> None:
    assert largest_peaks([[60, 70], [65, None], [None, 90, 40]]) == [65, 90, 40]
    assert largest_peaks([[None]]) == []
