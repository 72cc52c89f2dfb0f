"""`inference-gate locust-image`: build the Locust image the compose backend runs, from this package.

The compose backend runs Locust in containers of an image (`--loadtest-image`, default
inference-gate-loadtest:local). In this project's checkout `make build` builds it from the
Dockerfile; an installed command builds it with this command instead, from the installed package
and its pinned dependencies (loadtest/container/locust.Dockerfile). Exit 0 when the image is
built, 2 when Docker cannot build it (the message says why).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, ClassVar

from loadtest import exitcodes
from loadtest.options import CommandOptions, Flag, OptionsError
from loadtest.runner.backends.base import BackendError
from loadtest.runner.backends.compose import DEFAULT_LOADTEST_IMAGE
from loadtest.runner.backends.docker import run_command
from loadtest.runner.backends.locust_image import BUILD_TIMEOUT, DEFAULT_BASE_IMAGE, build_command, build_context


class LocustImageOptions(CommandOptions):
    """The options of `inference-gate locust-image`."""

    GROUPS: ClassVar[dict[str, tuple[str, str | None]]] = {"image": ("image", None)}

    # `--tag` reads the variable `run --loadtest-image` reads: the image built is the image run.
    locust_image: Annotated[
        str,
        Flag(
            f"the image's name, what `run --loadtest-image` takes (default {DEFAULT_LOADTEST_IMAGE})",
            "image",
            metavar="REF",
            flag="--tag",
        ),
    ] = DEFAULT_LOADTEST_IMAGE
    base_image: Annotated[
        str, Flag(f"the Python image it starts from (default {DEFAULT_BASE_IMAGE})", "image", metavar="REF")
    ] = DEFAULT_BASE_IMAGE


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `locust-image` to the top-level parser."""
    parser = subparsers.add_parser(
        "locust-image",
        help="build the compose backend's Locust image from the installed package",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    LocustImageOptions.add_to(parser)
    parser.set_defaults(handler=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Assemble the context in a temporary folder and build it; 0, or 2 with the reason."""
    try:
        options = LocustImageOptions.resolve(args, os.environ)
    except OptionsError as error:
        print(f"loadtest locust-image: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    tag, base_image = options.locust_image, options.base_image
    try:
        if run_command(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30).returncode != 0:
            raise BackendError("the Docker daemon does not answer (`docker info` failed): start it")
        buildx = run_command(["docker", "buildx", "version"], timeout=30).returncode == 0
        with tempfile.TemporaryDirectory(prefix="locust-image-") as folder:
            context = build_context(Path(folder))
            command, variables = build_command(context, tag, base_image, buildx)
            print(f"building {tag} from {base_image}: {' '.join(command)}", flush=True)
            # The build's own output goes straight to the terminal: it is long and shows progress.
            done = subprocess.run(command, env={**os.environ, **variables}, timeout=BUILD_TIMEOUT, check=False)
    except BackendError as error:
        print(f"loadtest locust-image: {error}", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    except subprocess.TimeoutExpired:
        print(f"loadtest locust-image: the build did not finish within {BUILD_TIMEOUT:g} s", file=sys.stderr)
        return exitcodes.CANNOT_JUDGE
    if done.returncode != 0:
        print(
            f"loadtest locust-image: docker build exited {done.returncode} (its output above says why)", file=sys.stderr
        )
        return exitcodes.CANNOT_JUDGE
    print(f"built {tag}: `inference-gate run --backend compose --loadtest-image {tag} --image YOUR-API-IMAGE`")
    return exitcodes.PASSED
