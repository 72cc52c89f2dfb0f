"""`python -m loadtest report DIR [DIR...]`: rebuild the matrix summary from cell folders.

Each DIR is a cell folder (it holds run.json) or a folder of cell folders, e.g. the runner's
`--out` or the CI fan-in job's downloaded artifacts, one folder per cell from separate jobs.
Writes matrix.json, summary.md and matrix.png into --out (default: the only DIR given).
Exit 0 when every cell passed, 1 when any breached the SLO, 2 when anything could not be judged
(a cell that failed, was cut short, has no verdict, or a planned cell that is missing), 3 when the
rest passed but a cell was inconclusive (its measurement was not valid: see its reasons).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest.commands.lazy import Deferred
from loadtest.options import CommandOptions, output_flag


class ReportOptions(CommandOptions):
    """The options of `python -m loadtest report`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"output": ("output", None)}

    report_out: Annotated[
        Path | None,
        output_flag(
            "where matrix.json, summary.md and matrix.png go (default: DIR when only one is given)", flag="--out"
        ),
    ] = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `report` to the top-level parser."""
    parser = subparsers.add_parser(
        "report",
        help="rebuild matrix.json and summary.md from cell folders (e.g. cells run in separate CI jobs)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs = parser.add_argument_group("input")
    inputs.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="a cell folder, or a folder of cell folders")
    ReportOptions.add_to(parser)
    parser.set_defaults(handler=Deferred("loadtest.commands.handlers.report"))
    return parser
