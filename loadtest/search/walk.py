"""Which configuration to probe next: the pass/fail boundary, walked from the most replicas down.

Pure functions over what the probes found so far (`Findings`). The assumption is monotony: more
replicas, CPU or memory never make a configuration fail that held with less. So a configuration
that fails rules out every configuration it covers, and once one holds only cheaper ones matter.

The walk starts at the most replicas with the least CPU. A failure moves it to the next CPU limit
of the same replica count (and rules out every CPU limit up to it for fewer replicas); a pass moves
it to the next replica count down. Each probe settles a replica count or a CPU limit, so the walk
needs at most (replica counts + CPU limits - 1) probes, and every probe that fails spares the
probes of the configurations it covers. Probing the cheapest configuration first could never skip
anything: a configuration covered by one that failed always costs less, so it comes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from loadtest.runner.matrix import Cell
from loadtest.search.grid import Grid, covers

Finding = Literal["pass", "breach", "inconclusive"]
Findings = Mapping[Cell, Finding]
"""What each probed configuration was found to be, in the order they were first probed."""
State = Literal["pass", "breach", "inconclusive", "ruled out", "not needed", "not tried"]
"""pass, breach, inconclusive: probed; ruled out: covered by a configuration that failed; not needed: costs at
least as much as one that holds; not tried: neither, and the search stopped before it (budget, Ctrl-C)."""


@dataclass(frozen=True)
class Resolution:
    """What the search knows about one configuration, and because of which other one."""

    state: State
    by: Cell | None = None
    """ruled out: the failed configuration that covers it; not needed: the cheapest one that holds."""


def ruled_out_by(cell: Cell, findings: Findings) -> Cell | None:
    """The first failed configuration (in probe order) that covers `cell`, other than itself, if any."""
    return next(
        (other for other, found in findings.items() if found == "breach" and other != cell and covers(other, cell)),
        None,
    )


def cheapest_pass(findings: Findings, grid: Grid) -> Cell | None:
    """The cheapest configuration found to hold."""
    passed = [cell for cell, found in findings.items() if found == "pass"]
    return grid.cheapest_first(passed)[0] if passed else None


def open_cells(cells: Sequence[Cell], findings: Findings, grid: Grid) -> list[Cell]:
    """The configurations still worth a probe: not probed, not ruled out, cheaper than the cheapest pass."""
    best = cheapest_pass(findings, grid)
    return [
        cell
        for cell in cells
        if cell not in findings and ruled_out_by(cell, findings) is None and (best is None or grid.cheaper(cell, best))
    ]


def next_probe(cells: Sequence[Cell], findings: Findings, grid: Grid) -> Cell | None:
    """The configuration to probe next (None: the cheapest that holds is known, or none can)."""
    candidates = open_cells(cells, findings, grid)
    if not candidates:
        return None
    return min(candidates, key=lambda cell: (-cell.replicas, cell.cpus, cell.memory_bytes))


def resolve(cells: Sequence[Cell], findings: Findings, grid: Grid) -> dict[Cell, Resolution]:
    """Every configuration's state, in the order given."""
    best = cheapest_pass(findings, grid)
    resolved: dict[Cell, Resolution] = {}
    for cell in cells:
        if cell in findings:
            resolved[cell] = Resolution(findings[cell])
        elif (failed := ruled_out_by(cell, findings)) is not None:
            resolved[cell] = Resolution("ruled out", failed)
        elif best is not None and not grid.cheaper(cell, best):
            resolved[cell] = Resolution("not needed", best)
        else:
            resolved[cell] = Resolution("not tried")
    return resolved


def probes_to_reach(cell: Cell, grid: Grid) -> int:
    """The fewest probes after which the walk can be at `cell`: one per replica count above it and per
    CPU limit below it, plus its own."""
    above = sum(1 for count in grid.replicas if count > cell.replicas)
    below = sum(1 for limit in grid.cpus if limit < cell.cpus)
    return above + below + 1


def most_probes(grid: Grid) -> int:
    """The longest the walk can be when no probe is inconclusive."""
    return len(grid.replicas) + len(grid.cpus) - 1
