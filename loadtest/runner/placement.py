"""Where a pinned cell runs: the CPUs of its replicas and the CPUs of its Locust (a comparison's duet)."""

from __future__ import annotations

from dataclasses import dataclass

from loadtest.runner.generator import whole_cores
from loadtest.runner.linux.cgroup_stats import format_cpu_list


@dataclass(frozen=True)
class Placement:
    """A cell's replicas on `replicas` (their cpuset, or CPU affinity without cgroups) and its Locust on
    `locust` (its CPU affinity); the two sets may be the same."""

    replicas: frozenset[int]
    locust: frozenset[int]
    sharing: int = 1
    """How many cells run on it at the same time (a duet's two sides): their Locusts share `locust`."""

    def __post_init__(self) -> None:
        for name, cores in (("replicas", self.replicas), ("locust", self.locust)):
            if not cores or any(core < 0 for core in cores):
                raise ValueError(f"placement {name}: {sorted(cores)} is not a set of CPUs (CPU numbers, at least one)")
        if self.sharing < 1:
            raise ValueError(f"placement sharing: {self.sharing} cells; at least 1")

    def locust_processes(self, replica_cpus: float) -> int:
        """Locust processes for one of its cells whose replicas have `replica_cpus` CPU in all: its share of the
        Locust cores that no replica's quota takes, at least one."""
        taken = whole_cores(replica_cpus * self.sharing) if self.locust & self.replicas else 0
        return max(1, (len(self.locust) - taken) // self.sharing)

    def describe(self) -> str:
        """`replicas on CPU 1, Locust on CPU 0`, as a duet block's line on the terminal says it."""
        return f"replicas on CPU {format_cpu_list(self.replicas)}, Locust on CPU {format_cpu_list(self.locust)}"
