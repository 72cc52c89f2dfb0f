"""Memory: not searched by latency. A replica's memory does not make it faster until it is short of
it, and then it is killed rather than slowed; so the limit comes from the peak its replicas reached
(read back from their cgroups or containers), with headroom, and a limit in the grid that gets a
replica OOM-killed is a failure with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from loadtest.records import RunRecord
from loadtest.util.units import MIN_MEMORY_BYTES

HEADROOM = 1.25
"""The recommended limit is the peak times this, rounded up to the next size of `ladder_mib`."""
_MIB = 1024**2


def ladder_mib(largest_mib: int = 1024**2) -> list[int]:
    """Container sizes, in MiB: 8, 12, 16, 24, 32, 48, 64, 96, 128, ... (powers of two and 1.5 times them)."""
    sizes: list[int] = []
    power = 8
    while power <= largest_mib:
        sizes += [power, power * 3 // 2]
        power *= 2
    return sizes


def docker_size(size_bytes: int) -> str:
    """Bytes as Docker writes a limit: `1536m`, `2g` (whole gibibytes in g, else mebibytes)."""
    mib = math.ceil(size_bytes / _MIB)
    return f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m"


def recommended_limit(peak_bytes: int, headroom: float = HEADROOM) -> tuple[str, int]:
    """The limit for a replica whose peak was `peak_bytes`: peak x headroom, rounded up to a container size."""
    wanted = max(MIN_MEMORY_BYTES, peak_bytes * headroom)
    mib = next(size for size in ladder_mib() if size * _MIB >= wanted)
    return docker_size(mib * _MIB), mib * _MIB


def replica_peaks(record: RunRecord) -> list[int | None]:
    """Each replica's peak memory over the cell (None where it was not read)."""
    return [replica.usage.memory_peak_bytes if replica.usage else None for replica in record.replica_records]


def oom_kills(record: RunRecord) -> int:
    """How many times the kernel killed a replica of the cell for want of memory."""
    kills = 0
    for replica in record.replica_records:
        if replica.usage is not None and replica.usage.oom_kills:
            kills += replica.usage.oom_kills
        elif replica.oom_killed:
            kills += 1
    return kills


def largest_peaks(runs: Iterable[Sequence[int | None]]) -> list[int]:
    """Per replica, the largest peak over several runs of one configuration (replicas read in none are left out)."""
    peaks: dict[int, int] = {}
    for run in runs:
        for index, peak in enumerate(run):
            if peak is not None:
                peaks[index] = max(peaks.get(index, 0), peak)
    return [peaks[index] for index in sorted(peaks)]
