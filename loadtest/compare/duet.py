"""How base and head share the machine: a duet (both at once, each on its own cores) or interleaved blocks.

Interleaving (one side's trial, then the other's) cancels what drifts slowly, but a host whose speed
changes from minute to minute gives a block's two trials two different machines. In a **duet** both
sides run at the same time, each side's replicas and its Locust pinned to its own half of the cores
(the replicas through their cpuset cgroup, Locust through its CPU affinity), so whatever the host does
in a second it does to both. A core's own speed (a busier sibling thread, an interrupt that lands on
it) would then favour one side for the whole comparison, so the sides swap halves every block: the
blocks' balanced orders (`orders`) become core assignments, base-first putting the base on the first
half. Reference: docs/compare.md.

A duet needs two halves of at least one core each, sides that can be pinned (the process backend, a
cpuset the machine lets us write, or plain CPU affinity without limits), and a cell whose CPU quota
leaves its side's Locust part of its half. Otherwise the comparison falls back to interleaved blocks
and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtest.compare.orders import Order
from loadtest.records import DesignName, SideRole
from loadtest.runner.linux.cgroup_stats import format_cpu_list
from loadtest.runner.matrix import Cell
from loadtest.thresholds import CompareDesign


class DesignError(ValueError):
    """A duet was asked for (`--design duet`) where the machine cannot run one: says why."""


@dataclass(frozen=True)
class Pinning:
    """What a comparison may pin its sides to on this machine."""

    cores: frozenset[int]
    """The CPUs its replicas and Locust may run on."""
    unavailable: str | None = None
    """Why a side cannot be pinned to some of them (None: it can)."""


@dataclass(frozen=True)
class Design:
    """The design that runs, and why."""

    name: DesignName
    halves: tuple[frozenset[int], frozenset[int]] | None
    """A duet's two core sets (the first is the base's in a base-first block); None when interleaved."""
    why: str
    """A duet's layout, or why there is none (for the terminal, comparison.json and the table)."""

    def cores(self, role: SideRole, order: Order) -> frozenset[int] | None:
        """The cores `role` runs on in a block of `order` (None: not pinned, interleaved)."""
        if self.halves is None:
            return None
        first = "base" if order == "base-first" else "head"
        return self.halves[0] if role == first else self.halves[1]


def halves(cores: frozenset[int]) -> tuple[frozenset[int], frozenset[int]]:
    """The cores in two equal sets, lowest numbers first (an odd one out is left unused: equal halves are
    what makes the duet fair)."""
    ordered = sorted(cores)
    size = len(ordered) // 2
    return frozenset(ordered[:size]), frozenset(ordered[size : 2 * size])


def duet_refusal(pinning: Pinning, cell: Cell) -> str | None:
    """Why this machine cannot run a duet of `cell` (None: it can)."""
    if pinning.unavailable is not None:
        return f"the sides cannot be pinned to cores: {pinning.unavailable}"
    if len(pinning.cores) < 2:
        listed = format_cpu_list(pinning.cores) if pinning.cores else "none"
        return f"the comparison may use {len(pinning.cores)} CPU ({listed}): a duet needs 2 or more, half a side"
    size = len(pinning.cores) // 2
    if cell.total_cpus > size - 0.25:
        # Its Locust runs on the same half: a quota of the whole half (or nearly) leaves it nothing.
        return (
            f"a side's {cell.replicas} replica(s) of {cell.cpus:g} CPU ({cell.total_cpus:g} CPU) would leave its "
            f"Locust less than a quarter of its {size} core(s); a duet needs at most {size - 0.25:g} CPU a side"
        )
    return None


def choose_design(asked: CompareDesign, pinning: Pinning, cell: Cell) -> Design:
    """The design to run: a duet where asked (`auto` or `duet`) and possible, else interleaved blocks.
    DesignError when `duet` was asked and the machine cannot run one."""
    if asked == "interleaved":
        return Design("interleaved", None, "interleaved blocks, as asked (--design interleaved)")
    refusal = duet_refusal(pinning, cell)
    if refusal is not None:
        if asked == "duet":
            raise DesignError(f"--design duet cannot run here: {refusal}")
        return Design("interleaved", None, f"interleaved blocks, not a duet: {refusal}")
    first, second = halves(pinning.cores)
    locust = len(first) - math.ceil(cell.total_cpus - 1e-9)
    why = (
        f"duet: base and head at the same time, one on CPU {format_cpu_list(first)} and the other on CPU "
        f"{format_cpu_list(second)}, swapping every block; each side's {cell.replicas} replica(s) of "
        f"{cell.cpus:g} CPU and its Locust ({max(1, locust)} process) on its own CPU"
    )
    return Design("duet", (first, second), why)
