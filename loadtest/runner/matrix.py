"""The replica matrix: which cells a run is made of, and what each cell is called."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from loadtest.util.units import format_cpus, normalize_memory, parse_memory


@dataclass(frozen=True)
class Cell:
    """One run of the matrix: `replicas` API replicas, each limited to `cpus` and `memory`."""

    replicas: int
    cpus: float
    memory: str
    """Docker syntax, lower case: "512m", "1g"."""

    @property
    def name(self) -> str:
        """The cell's folder name, e.g. `r1-cpu0.5-mem512m`."""
        return f"r{self.replicas}-cpu{format_cpus(self.cpus)}-mem{self.memory}"

    @property
    def memory_bytes(self) -> int:
        """The memory limit of one replica in bytes."""
        return parse_memory(self.memory)

    @property
    def total_cpus(self) -> float:
        """CPUs the API gets in this cell, all replicas together (the "per CPU" divisor)."""
        return self.replicas * self.cpus


def plan_cells(replicas: Sequence[int], cpus: Sequence[float], memory: Sequence[str]) -> list[Cell]:
    """Every combination, CPU limit outermost and replica count innermost, in the order given.

    Raises ValueError when a value is listed twice or a list is empty.
    """
    for label, values in (("replica count", replicas), ("CPU limit", cpus), ("memory limit", memory)):
        if not values:
            raise ValueError(f"no {label} given")
    memory = [normalize_memory(text) for text in memory]
    reject_duplicates("replica count", list(replicas))
    reject_duplicates("CPU limit", [format_cpus(value) for value in cpus])
    reject_duplicates("memory limit", [str(parse_memory(text)) for text in memory], shown=memory)
    return [
        Cell(replicas=count, cpus=limit, memory=size)
        for limit, size, count in itertools.product(cpus, memory, replicas)
    ]


def reshape_cells(
    specs: Sequence[Cell], replicas: Sequence[int] | None, cpus: Sequence[float] | None, memory: Sequence[str] | None
) -> list[Cell]:
    """A list of cells with the given dimensions replaced in each (every combination), repeats dropped.

    This is how flags apply to a profile that lists its cells: `--cpus 0.25` sets every cell's CPU limit.
    """
    reshaped: dict[str, Cell] = {}
    for spec in specs:
        given = plan_cells(replicas or [spec.replicas], cpus or [spec.cpus], memory or [spec.memory])
        for cell in given:
            reshaped.setdefault(cell.name, cell)
    return list(reshaped.values())


def reject_duplicates(label: str, keys: Sequence[object], shown: Sequence[str] | None = None) -> None:
    """ValueError naming the first value of `keys` listed twice (`shown`: how to write each key)."""
    seen: dict[object, int] = {}
    for position, key in enumerate(keys):
        if key in seen:
            first = (shown or keys)[seen[key]]
            again = (shown or keys)[position]
            if first == again:
                raise ValueError(f"{label} {first} is listed twice")
            raise ValueError(f"{label}s {first} and {again} are the same")
        seen[key] = position
