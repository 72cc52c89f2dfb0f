"""`python -m loadtest verdict`: the perf workflow's required check, decided from its artifacts.

The gate job downloads every cell's artifact (`perf-r<N>-attempt-<A>`, each in its own folder) and
the comparison's (`comparison-attempt-<A>`), and gives the jobs' results as `toJSON(needs)`. This
command keeps each cell's newest attempt, merges those cells into one report (matrix.json,
summary.md and matrix.png in --out, as `python -m loadtest report` writes them), and decides:
a build, plan or cell job that did not succeed, a planned cell without results, a breach, a cell
that could not be judged, or a comparison that regressed or could not be judged fails the check;
an inconclusive cell or comparison follows `slo.on_inconclusive`. Each reason is printed as a
GitHub annotation (`::error::`, `::notice::`) and, with --markdown, written with the tables for
the job summary and the pull request's comment.

A separate command, not a mode of `report`: `report DIR...` judges cell folders, wherever they
come from, by the SLO alone; this one judges one workflow run, its jobs and its comparison too.
Exit 0 when the check passes, 1 when it fails, 2 when the jobs' results cannot be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from loadtest.commands.lazy import Deferred
from loadtest.options import CommandOptions, Flag, choice, output_flag

DEFAULT_CELLS, DEFAULT_COMPARISON, DEFAULT_OUT = Path("cells"), Path("comparison"), Path("report")


class VerdictOptions(CommandOptions):
    """The options of `python -m loadtest verdict`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {
        "run": ("the workflow run", None),
        "output": ("output", None),
    }

    needs: Annotated[
        str | None,
        Flag(
            "the gate job's ${{ toJSON(needs) }}: each upstream job's result and outputs (required)",
            "run",
            metavar="JSON",
        ),
    ] = None
    mode: Annotated[
        Literal["matrix", "compare"],
        Flag(
            "the dispatch's mode: matrix (pushes, pull requests) or compare (default matrix)",
            "run",
            parse=choice("matrix", "compare"),
            metavar="MODE",
        ),
    ] = "matrix"
    cells: Annotated[
        Path,
        Flag(
            f"the folder the cells' artifacts were downloaded into, each in its own folder (default {DEFAULT_CELLS})",
            "run",
            parse=Path,
            metavar="DIR",
        ),
    ] = DEFAULT_CELLS
    comparison: Annotated[
        Path,
        Flag(
            f"the folder the comparison's artifacts were downloaded into (default {DEFAULT_COMPARISON})",
            "run",
            parse=Path,
            metavar="DIR",
        ),
    ] = DEFAULT_COMPARISON
    verdict_out: Annotated[
        Path,
        output_flag(
            f"where the merged report of the cells goes: matrix.json, summary.md, matrix.png (default {DEFAULT_OUT})",
            flag="--out",
        ),
    ] = DEFAULT_OUT
    markdown: Annotated[
        Path | None,
        output_flag(
            "also write the check and its tables in Markdown to this file (the job summary, the PR comment)",
            metavar="PATH",
        ),
    ] = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `verdict` to the top-level parser."""
    parser = subparsers.add_parser(
        "verdict",
        help="decide the perf workflow's required check from its jobs' results and artifacts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    VerdictOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.verdict"))
    return parser
