"""`inference-gate init`: a commented starter thresholds.yaml and scenario.yaml in the current folder.

The first step of gating your own service (docs/own-service.md): edit the two files to your API
(its paths, bodies, replies, and the SLO it must hold), then `inference-gate run`. Existing files
are never overwritten: if either is there, nothing is written and the command exits 2, naming it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest import exitcodes, packaged
from loadtest.options import CommandOptions, OptionsError, output_flag
from loadtest.util.files import write_atomic


class InitOptions(CommandOptions):
    """The options of `inference-gate init`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"output": ("output", None)}

    init_dir: Annotated[
        Path | None,
        output_flag("the folder to write them in (default: the current folder)", flag="--dir"),
    ] = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `init` to the top-level parser."""
    parser = subparsers.add_parser(
        "init",
        help="write a commented starter thresholds.yaml and scenario.yaml (never over existing files)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    InitOptions.add_to(parser)
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Write the starter files; 0, or 2 when one exists or the folder cannot be written."""
    try:
        folder = InitOptions.resolve(args, os.environ).init_dir or Path.cwd()
    except OptionsError as error:
        print(f"loadtest init: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    targets = [folder / name for name in packaged.STARTER_FILES]
    present = [path for path in targets if path.exists()]
    if present:
        names = " and ".join(path.name for path in present)
        print(
            f"loadtest init: {names} already {'exist' if len(present) > 1 else 'exists'} in {folder}: init never "
            "overwrites a file, so nothing was written (move it away, or run init in another folder)",
            file=sys.stderr,
        )
        return exitcodes.CANNOT_JUDGE
    try:
        for path in targets:
            write_atomic(path, (packaged.STARTER_DIR / path.name).read_bytes())
    except OSError as error:
        print(f"loadtest init: cannot write the starter files in {folder}: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    print(f"wrote {', '.join(path.name for path in targets)} in {folder}")
    print("next: edit both to your service, then run one replica per cell of it under load:")
    print("  inference-gate run --scenario scenario.yaml --api-command 'your-server --port {port}'")
    print("the whole path to a green check: docs/own-service.md")
    return exitcodes.PASSED
