"""The grid a search walks: its configurations, what each costs, and which configuration covers another.

A configuration is a `Cell` (replicas x CPU limit x memory limit per replica). Its cost is
`cpu` x replicas x cpus + `memory_gib` x replicas x memory (thresholds.yaml `search.cost`; by default
CPUs only). Configurations are ranked by cost, then by the memory they hold in all (less first), then
by replica count (fewer first): at equal CPU cost one replica of 0.5 ranks before two of 0.25.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loadtest.runner.matrix import Cell, plan_cells
from loadtest.thresholds import CostWeights
from loadtest.util.units import parse_memory

GIB = 1024**3


@dataclass(frozen=True)
class Grid:
    """Every replica count x CPU limit x memory limit, each list sorted from least to most."""

    replicas: tuple[int, ...]
    cpus: tuple[float, ...]
    memory: tuple[str, ...]
    weights: CostWeights = field(default_factory=CostWeights)

    @classmethod
    def of(
        cls, replicas: Sequence[int], cpus: Sequence[float], memory: Sequence[str], weights: CostWeights | None = None
    ) -> Grid:
        """The grid of these lists in any order; ValueError names a value listed twice or an empty list."""
        plan_cells(replicas, cpus, memory)  # refuses duplicates and empty lists, naming them
        return cls(
            replicas=tuple(sorted(replicas)),
            cpus=tuple(sorted(cpus)),
            memory=tuple(sorted((size.strip().lower() for size in memory), key=parse_memory)),
            weights=weights or CostWeights(),
        )

    @property
    def size(self) -> int:
        """How many configurations the grid has."""
        return len(self.replicas) * len(self.cpus) * len(self.memory)

    @property
    def largest_memory(self) -> str:
        """The memory limit the CPU configurations are probed at (the one that constrains them least)."""
        return self.memory[-1]

    def configurations(self, memory: str | None = None) -> list[Cell]:
        """Every replica count x CPU limit at `memory` (default: the largest), cheapest first."""
        size = memory or self.largest_memory
        return self.cheapest_first(plan_cells(self.replicas, self.cpus, [size]))

    def memory_variants(self, cell: Cell) -> list[Cell]:
        """`cell`'s replicas and CPU limit at every memory limit of the grid, least memory first."""
        return [Cell(cell.replicas, cell.cpus, size) for size in self.memory]

    def cost(self, cell: Cell) -> float:
        """What the configuration costs, in the weights' units (by default CPUs)."""
        return round(
            self.weights.cpu * cell.replicas * cell.cpus
            + self.weights.memory_gib * cell.replicas * cell.memory_bytes / GIB,
            9,
        )

    def rank(self, cell: Cell) -> tuple[float, int, int, float]:
        """The sort key: cost, then memory in all, then replicas, then the CPU limit."""
        return self.cost(cell), cell.replicas * cell.memory_bytes, cell.replicas, cell.cpus

    def cheapest_first(self, cells: Iterable[Cell]) -> list[Cell]:
        """`cells` by rank."""
        return sorted(cells, key=self.rank)

    def cheaper(self, first: Cell, second: Cell) -> bool:
        """Whether `first` ranks before `second`."""
        return self.rank(first) < self.rank(second)

    def next_cheaper(self, cell: Cell) -> Cell | None:
        """The configuration ranked just below `cell`, at its memory limit (None: it is the cheapest)."""
        below = [other for other in self.configurations(cell.memory) if self.cheaper(other, cell)]
        return below[-1] if below else None


def covers(big: Cell, small: Cell) -> bool:
    """Whether `big` has at least every resource of `small`: replicas, CPU limit and memory limit.

    A configuration that fails rules out every configuration it covers (they have less of everything),
    and one that holds makes every configuration that covers it hold too.
    """
    return big.replicas >= small.replicas and big.cpus >= small.cpus and big.memory_bytes >= small.memory_bytes


def cost_unit(weights: CostWeights) -> str:
    """What a cost is counted in: CPUs with the default weights, else the weights' own units."""
    return "CPU" if weights.cpu == 1 and weights.memory_gib == 0 else "cost units"
