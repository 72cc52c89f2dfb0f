"""The compose backend's Locust image, built from the installed package (`inference-gate locust-image`).

Outside this project's checkout there is no Dockerfile to build the Locust image from: the
package carries one (`loadtest/container/locust.Dockerfile`), and the build context is assembled
from what is installed: the `loadtest` package itself and the gate's dependencies pinned exactly
as the installed distribution pins them, so the image's Locust runs the same gate, at the same
versions, as the command that starts it.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

from loadtest import packaged
from loadtest.runner.backends.base import BackendError

DISTRIBUTION = "inference-perf-gate"
"""The distribution that installed the `loadtest` package (pyproject.toml's name)."""
DOCKERFILE = packaged.PACKAGE_DIR / "container" / "locust.Dockerfile"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
BUILD_TIMEOUT = 1800.0
"""Seconds a build may take: pip downloads the dependencies on a cold cache."""


def requirements() -> list[str]:
    """The gate's runtime dependencies as the installed distribution states them (exact pins)."""
    try:
        required = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise BackendError(
            f"the {DISTRIBUTION} distribution is not installed here, so its pins are unknown: install it "
            "(`pip install .` or `make install` in a checkout; the checkout's `make build` builds this image too)"
        ) from None
    # Extras' requirements carry a marker ("extra == ..."): not the gate's own.
    return [line for line in required if "extra ==" not in line]


def build_context(folder: Path) -> Path:
    """Lay out the build context in `folder` (Dockerfile, requirements.txt, loadtest/); `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DOCKERFILE, folder / "Dockerfile")
    (folder / "requirements.txt").write_text("\n".join(requirements()) + "\n", encoding="utf-8")
    shutil.copytree(
        packaged.PACKAGE_DIR, folder / "loadtest", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    )
    return folder


def build_command(context: Path, tag: str, base_image: str, buildx: bool) -> tuple[list[str], dict[str, str]]:
    """The docker command that builds `context` as `tag`, and the variables it needs.

    buildx when the client has it; otherwise the classic builder (DOCKER_BUILDKIT=0), which every
    client has: a client whose default is BuildKit refuses to build without its buildx component.
    """
    arguments = ["--build-arg", f"BASE_IMAGE={base_image}", "--tag", tag, str(context)]
    if buildx:
        return ["docker", "buildx", "build", "--load", *arguments], {}
    return ["docker", "build", *arguments], {"DOCKER_BUILDKIT": "0"}
