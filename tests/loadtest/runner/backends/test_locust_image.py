"""The Locust image built from the installed package (loadtest/runner/backends/locust_image.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from loadtest import packaged
from loadtest.runner.backends import locust_image
from loadtest.runner.backends.base import BackendError

ROOT = Path(__file__).resolve().parents[4]


def test_the_context_holds_the_dockerfile_the_exact_pins_and_the_package(tmp_path: Path) -> None:
    context = locust_image.build_context(tmp_path / "context")
    assert sorted(path.name for path in context.iterdir()) == ["Dockerfile", "loadtest", "requirements.txt"]
    assert (context / "Dockerfile").read_text(encoding="utf-8") == locust_image.DOCKERFILE.read_text(encoding="utf-8")
    # The pins the installed distribution states: pyproject's dependencies, exactly.
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert (context / "requirements.txt").read_text(encoding="utf-8").splitlines() == pinned
    assert all("==" in line for line in pinned)
    # The package as installed, what the Dockerfile copies and checks with `locust --list`.
    copied = context / "loadtest"
    assert (copied / "locustfile.py").read_bytes() == packaged.LOCUSTFILE.read_bytes()
    assert (copied / "container" / "locust.Dockerfile").is_file()
    assert not list(copied.rglob("__pycache__"))


def test_the_dockerfile_runs_the_locustfile_the_compose_file_names_as_an_unprivileged_user() -> None:
    text = locust_image.DOCKERFILE.read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["locust"]' in text
    assert "USER 10001:10001" in text
    assert "COPY loadtest/ loadtest/" in text
    assert "RUN locust -f loadtest/locustfile.py --list" in text
    instructions = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert not [line for line in instructions if "--mount" in line]  # the classic builder has no RUN --mount
    compose = packaged.COMPOSE_FILE.read_text(encoding="utf-8")
    assert "--locustfile=${LOCUST_LOCUSTFILE:-loadtest/locustfile.py}" in compose  # the default: the image's


def test_a_missing_distribution_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locust_image, "DISTRIBUTION", "no-such-distribution-here")
    with pytest.raises(BackendError, match="the no-such-distribution-here distribution is not installed here"):
        locust_image.requirements()


@pytest.mark.parametrize(
    ("buildx", "command", "variables"),
    [
        (True, ["docker", "buildx", "build", "--load"], {}),
        (False, ["docker", "build"], {"DOCKER_BUILDKIT": "0"}),
    ],
)
def test_the_build_uses_buildx_when_there_is_one_else_the_classic_builder(
    buildx: bool, command: list[str], variables: dict[str, str]
) -> None:
    argv, environment = locust_image.build_command(Path("/ctx"), "me/locust:1", "python:3.11-slim", buildx)
    assert argv == [*command, "--build-arg", "BASE_IMAGE=python:3.11-slim", "--tag", "me/locust:1", "/ctx"]
    assert environment == variables
