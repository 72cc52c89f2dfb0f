"""How base and head share the machine: a duet (both at once, on the same cores) or interleaved blocks.

Interleaving (one side's trial, then the other's) cancels what drifts slowly, but a host whose speed
changes from minute to minute gives a block's two trials two different machines. In a **duet** both
sides run at the same time, so whatever the host does in a second it does to both.

**The layout: both sides' replicas on the same cores, both Locusts on the others.** Each replica keeps
its own cgroup and the cell's CPU quota; the two sides' replicas share one cpuset (the last cores, as
many as the two sides' quotas fill) and the two sides' Locusts share the remaining cores. Two sides on
the same cores see the same core: its speed from second to second (on a VM, the host thread behind that
vCPU), its interrupts, the neighbour on it. The scheduler shares the core between the two replica
cgroups by equal weights, each capped by its quota, so a side that needs more CPU per request gets the
same CPU time and serves fewer requests: the change being measured. Pinning each side to a core of its
own instead (tried first, and measured: docs/measurements/2026-12-05-duet-layout.md) left each block's
two sides on two vCPUs whose speeds differ from second to second: with the noisy neighbour, the
per-block spread of capacity was ~9% and of CPU per request ~7%; on shared cores both fell to ~1%.

The blocks' balanced orders (`orders`) still say which side's trial starts first (its threads, its port),
so that nothing about starting first can favour one side. Reference: docs/compare.md.

A duet needs the two sides' quotas to fit their cores with at least one core left for the Locusts, and
sides that can be pinned (the process backend with a cpuset the machine lets us write, or plain CPU
affinity without limits). Otherwise the comparison falls back to interleaved blocks and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtest.records import DesignName
from loadtest.runner.generator import whole_cores
from loadtest.runner.linux.cgroup_stats import format_cpu_list
from loadtest.runner.matrix import Cell
from loadtest.runner.placement import Placement
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
    placement: Placement | None
    """A duet's: where both sides run (the same placement for both); None when interleaved."""
    why: str
    """A duet's layout, or why there is none (for the terminal, comparison.json and the table)."""


def duet_placement(cores: frozenset[int], cell: Cell) -> Placement | None:
    """Both sides' replicas on the last cores their two quotas fill, both Locusts on the rest (the first:
    CPU 0 takes most of a machine's interrupts and housekeeping, which Locust tolerates best). None: the
    quotas leave no core for the Locusts."""
    ordered = sorted(cores)
    needed = whole_cores(2 * cell.total_cpus)
    if needed >= len(ordered):
        return None
    return Placement(frozenset(ordered[len(ordered) - needed :]), frozenset(ordered[:-needed]), sharing=2)


def duet_refusal(pinning: Pinning, cell: Cell) -> str | None:
    """Why this machine cannot run a duet of `cell` (None: it can)."""
    if pinning.unavailable is not None:
        return f"the sides cannot be pinned to cores: {pinning.unavailable}"
    if duet_placement(pinning.cores, cell) is None:
        listed = format_cpu_list(pinning.cores) if pinning.cores else "none"
        needed = whole_cores(2 * cell.total_cpus)
        return (
            f"both sides' {cell.replicas} replica(s) of {cell.cpus:g} CPU ({2 * cell.total_cpus:g} CPU together) fill "
            f"{needed} core(s) and their Locusts need one more, but the comparison may use {len(pinning.cores)} "
            f"CPU ({listed})"
        )
    return None


def choose_design(asked: CompareDesign, pinning: Pinning, cell: Cell) -> Design:
    """The design to run: a duet where asked (`auto` or `duet`) and possible, else interleaved blocks.
    DesignError when `duet` was asked and the machine cannot run one."""
    if asked == "interleaved":
        return Design("interleaved", None, "interleaved blocks, as asked (--design interleaved)")
    refusal = duet_refusal(pinning, cell)
    placement = duet_placement(pinning.cores, cell) if refusal is None else None
    if placement is None:
        if asked == "duet":
            raise DesignError(f"--design duet cannot run here: {refusal}")
        return Design("interleaved", None, f"interleaved blocks, not a duet: {refusal}")
    why = (
        f"duet: base and head at the same time on the same cores: both sides' {cell.replicas} replica(s) of "
        f"{cell.cpus:g} CPU on CPU {format_cpu_list(placement.replicas)}, each side under its own quota, and both "
        f"Locusts on CPU {format_cpu_list(placement.locust)}"
    )
    return Design("duet", placement, why)
