"""The Dockerfile and .dockerignore: the promises the images make, checked on the source.

Building and running the images is `make e2e-docker` and the compose backend's integration
tests (they need a Docker daemon); these checks need none and catch what a build would not: a
final stage that is not the API, a root user, a dev or load-test venv in the API image,
dependencies installed after the source, pins that drifted apart, a local artifact leaking into
the build context.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order, comments and blank lines left out."""
    instructions: list[Instruction] = []
    lines = iter(text.splitlines())
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines, "").strip()
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split())))
    return instructions


@dataclass(frozen=True)
class Stage:
    name: str
    parent: str
    instructions: list[Instruction]

    def runs(self) -> str:
        return "\n".join(i.args for i in self.instructions if i.keyword == "RUN")

    def copies(self) -> list[list[str]]:
        return [shlex.split(i.args) for i in self.instructions if i.keyword == "COPY"]

    def last(self, keyword: str) -> str | None:
        values = [i.args for i in self.instructions if i.keyword == keyword]
        return values[-1] if values else None


def stages(instructions: list[Instruction]) -> dict[str, Stage]:
    """Stage name -> the stage, in file order."""
    result: dict[str, Stage] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            parent, _, name = instruction.args.partition(" AS ")
            result[name or str(len(result))] = Stage(name, parent, [])
        elif result:
            list(result.values())[-1].instructions.append(instruction)
    return result


def lineage(by_stage: dict[str, Stage], name: str) -> list[Stage]:
    """A stage and the stages it is built FROM, base first."""
    chain = []
    while name in by_stage:
        chain.append(by_stage[name])
        name = by_stage[name].parent
    return chain[::-1]


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def by_stage(instructions: list[Instruction]) -> dict[str, Stage]:
    return stages(instructions)


def test_the_parser_joins_continuations_and_skips_comments() -> None:
    parsed = parse_dockerfile("# why\nRUN a \\\n    b\n\nCOPY x y\n")
    assert parsed == [Instruction("RUN", "a b"), Instruction("COPY", "x y")]


def test_the_base_images_python_is_the_one_the_project_and_ci_use(instructions: list[Instruction]) -> None:
    base = next(i.args for i in instructions if i.keyword == "ARG" and i.args.startswith("BASE_IMAGE="))
    version = re.fullmatch(r"BASE_IMAGE=python:(\d+\.\d+)-slim", base)
    assert version, base
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert version.group(1) + ".0" in SpecifierSet(requires)
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job.get("steps", []):  # a job that calls a reusable workflow has none
                if step.get("uses", "").startswith("actions/setup-python@"):
                    assert step["with"]["python-version"] == version.group(1), workflow.name


def test_uv_pin_matches_the_makefile(instructions: list[Instruction]) -> None:
    makefile = re.search(r"^UV_VERSION\s*=\s*(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert makefile, "Makefile has no UV_VERSION"
    assert f"UV_VERSION={makefile.group(1)}" in [i.args for i in instructions if i.keyword == "ARG"]


def test_the_default_target_is_the_unprivileged_api_with_the_runtime_venv_only(by_stage: dict[str, Stage]) -> None:
    final = list(by_stage.values())[-1]
    assert final.name == "api"
    assert json.loads(final.last("ENTRYPOINT") or "[]")[:3] == ["python", "-m", "api"]
    assert (final.last("USER") or "root").split(":")[0] not in {"0", "root"}
    # What the API image is made of: the runtime venv and the trained artifacts, nothing of
    # the dev, train or load-test environments; and it installs nothing itself.
    sources = {copy[0].removeprefix("--from=") for copy in final.copies() if copy[0].startswith("--from=")}
    assert sources == {"runtime-deps", "train"}
    assert not re.search(r"apt-get|apk |pip install|uv sync|gcc|build-essential", final.runs())


def test_the_api_venv_is_the_service_group_alone_and_the_locust_venv_the_gate_alone(
    by_stage: dict[str, Stage],
) -> None:
    # --only-group leaves out the project's dependencies (the gate's); --no-default-groups with
    # no group is the project's dependencies alone (no dev, no service, no train).
    api = shlex.split(by_stage["runtime-deps"].runs())
    assert "sync" in api
    assert [api[i + 1] for i, word in enumerate(api) if word in ("--only-group", "--group")] == ["service"]
    assert "--only-group" in api
    locust = shlex.split(by_stage["loadtest-deps"].runs())
    assert "sync" in locust
    assert "--no-default-groups" in locust
    assert not {"--group", "--only-group", "--all-groups"} & set(locust)


def test_dependencies_are_locked_and_installed_before_any_source(by_stage: dict[str, Stage]) -> None:
    synced = [name for name, stage in by_stage.items() if "uv sync" in stage.runs()]
    assert synced
    for name in synced:
        copied: list[str] = []
        for stage in lineage(by_stage, name):
            for instruction in stage.instructions:
                if instruction.keyword == "RUN" and "uv sync" in instruction.args:
                    assert "--frozen" in instruction.args, name
                    assert "--no-install-project" in instruction.args, name
                    # Only the lock files before a sync: a source change then reuses the layer.
                    assert set(copied) <= {"pyproject.toml", "uv.lock", "./"}, (name, copied)
                if instruction.keyword == "COPY" and not instruction.args.startswith("--from"):
                    copied += shlex.split(instruction.args)


def test_the_locust_services_commands_are_flags_for_the_loadtest_images_entrypoint(
    by_stage: dict[str, Stage],
) -> None:
    loadtest = by_stage["loadtest"]
    assert json.loads(loadtest.last("ENTRYPOINT") or "[]") == ["locust"]
    assert (loadtest.last("USER") or "root").split(":")[0] not in {"0", "root"}
    compose = yaml.safe_load((ROOT / "loadtest" / "container" / "docker-compose.ci.yaml").read_text())
    for name in ("locust-master", "locust-worker"):
        command = compose["services"][name]["command"]
        assert all(argument.startswith("--") for argument in command), name


def dockerignore_allows(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    allowed = True
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if (
            fnmatch.fnmatch(path, pattern)
            or fnmatch.fnmatch(path, pattern.replace("**/", ""))
            or path.startswith(pattern + "/")
        ):
            allowed = negate
    return allowed


def test_context_sources_exist_and_pass_the_dockerignore(instructions: list[Instruction]) -> None:
    sources = [
        source.rstrip("/")
        for i in instructions
        if i.keyword == "COPY" and not i.args.startswith("--from")
        for source in shlex.split(i.args)[:-1]
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert dockerignore_allows(source), f"{source} is copied but excluded by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        ".venv",
        ".git",
        ".tools",
        "results",
        "tests",
        "model/model.joblib",
        "model/model.onnx",
        "model/metadata.json",
        "api/__pycache__",
        ".env",
    ],
)
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert not dockerignore_allows(path)
