"""How often the SLO's sequential confidence bound errs, and when it stops, on simulated runs.

    .venv/bin/python -m scripts.confidence_simulation [--runs N] [--seed S]

Issue 21's load (200 intended req/s, 5 s blocks, run_time 60 s, max_run_time 120 s, confidence 0.95),
with a true share over the limit of exactly the allowed 5%, so that every "breach" is a false breach and
every "pass" a false pass. The blocks' shares wander as a beta distribution around 5% with an intra-block
correlation rho (0: independent requests; larger: stalls that hit many requests of a block at once). Each
run looks after every block, as the runner does. Then issue 21's three deterministic services (exactly N
of every 100 replies slow) and when each run stops. Pure computation: it reports, it asserts nothing;
docs/measurement.md quotes its table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from loadtest.gate.confidence import BlockCount, Design, Limit, Look, look, share_bound
from loadtest.util.tables import text_table

RATE, BLOCK_SECONDS = 200.0, 5.0
DESIGN = Design.plan(60, 120)
CORRELATIONS = (0.0, 0.001, 0.005, 0.02)


def run(blocks: Sequence[BlockCount]) -> Look:
    """A look after every block until one decides."""
    for count in range(1, DESIGN.max_blocks + 1):
        current = look(DESIGN, [Limit("P95", 0.05, blocks[:count])])
        if current.decision != "continue":
            return current
    raise AssertionError("the last look decides")


def naive(blocks: Sequence[BlockCount]) -> str:
    """The same looks, each at a fixed 5% (no design): what looking repeatedly would do."""
    for count in range(3, DESIGN.max_blocks + 1):
        bound = share_bound(blocks[:count], DESIGN.alpha)
        if bound.lower > 0.05:
            return "breach"
        if count >= DESIGN.run_blocks and bound.upper <= 0.05:
            return "pass"
    return "inconclusive"


def random_blocks(rng: np.random.Generator, correlation: float) -> list[BlockCount]:
    intended = rng.poisson(RATE * BLOCK_SECONDS, DESIGN.max_blocks)
    if correlation == 0:
        shares = np.full(DESIGN.max_blocks, 0.05)
    else:
        spread = 1 / correlation - 1
        shares = rng.beta(0.05 * spread, 0.95 * spread, DESIGN.max_blocks)
    return [BlockCount(int(rng.binomial(n, q)), int(n)) for n, q in zip(intended, shares, strict=True)]


def pattern_blocks(rng: np.random.Generator, slow_per_100: int) -> list[BlockCount]:
    result, served = [], 0
    for intended in rng.poisson(RATE * BLOCK_SECONDS, DESIGN.max_blocks):
        numbers = np.arange(served, served + intended)
        served += int(intended)
        result.append(BlockCount(int(np.sum(numbers % 100 < slow_per_100)), int(intended)))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per row (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="the random seed (default 1)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    for correlation in CORRELATIONS:
        looks = [run(random_blocks(rng, correlation)) for _ in range(args.runs)]
        fixed = [naive(random_blocks(rng, correlation)) for _ in range(args.runs)]
        rows.append(
            [
                f"{correlation:g}",
                f"{np.mean([x.decision == 'breach' for x in looks]):.1%}",
                f"{np.mean([x.decision == 'pass' for x in looks]):.1%}",
                f"{np.mean([x.seconds for x in looks]):.0f} s",
                f"{np.mean([x == 'breach' for x in fixed]):.1%}",
                f"{np.mean([x == 'pass' for x in fixed]):.1%}",
            ]
        )
    print(f"true share 5% = allowed; {args.runs} runs per row; looks after every 5 s block, 60 s run, 120 s max\n")
    header = ["rho", "false breach", "false pass", "mean length", "fixed 5%: breach", "fixed 5%: pass"]
    print(text_table(header, rows, "lrrrrr"))
    rows = []
    for slow in (2, 5, 12):
        decided = [run(pattern_blocks(rng, slow)) for _ in range(20)]
        outcomes = sorted({x.decision for x in decided})
        seconds = sorted({x.seconds for x in decided})
        rows.append([f"{slow} of 100", ", ".join(outcomes), ", ".join(f"{s:g} s" for s in seconds)])
    print("\nexactly N of every 100 replies slow, 20 runs each\n")
    print(text_table(["service", "verdicts", "stopped at"], rows, "lll"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
