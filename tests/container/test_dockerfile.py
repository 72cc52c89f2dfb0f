"""The Dockerfile and .dockerignore: the promises the images make, checked on the source.

Building and running the images is `make e2e-docker` (it needs a Docker daemon); these checks
need none and catch the regressions that a build would not: a final stage that is not the
API, a root user, a uv pin that drifted from the Makefile's, dependencies copied after the
source, an uncommented instruction, a local artifact leaking into the build context.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined, and the comment right above it."""

    keyword: str
    args: str
    comment: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order; `comment` is the block of `#` lines directly above each one."""
    instructions: list[Instruction] = []
    comment: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        start = index + 1
        index += 1
        if not line:
            comment = []
            continue
        if line.startswith("#"):
            comment.append(line.lstrip("# "))
            continue
        while line.endswith("\\") and index < len(lines):
            line = line[:-1] + " " + lines[index].strip()
            index += 1
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split()), " ".join(comment), start))
        comment = []
    return instructions


def stages(instructions: list[Instruction]) -> dict[str, list[Instruction]]:
    """Stage name -> its instructions (FROM included), in file order."""
    result: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            name = instruction.args.split(" AS ")[-1] if " AS " in instruction.args else str(len(result))
            current = result.setdefault(name, [])
        current.append(instruction)
    return result


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def by_stage(instructions: list[Instruction]) -> dict[str, list[Instruction]]:
    return stages(instructions)


def runs(stage: list[Instruction]) -> str:
    """Every RUN of a stage, as one string."""
    return "\n".join(instruction.args for instruction in stage if instruction.keyword == "RUN")


def test_parser_joins_continuations_and_keeps_the_comment_above() -> None:
    parsed = parse_dockerfile("# why\nRUN a \\\n    b\n\nCOPY x y\n")
    assert parsed == [Instruction("RUN", "a b", "why", 2), Instruction("COPY", "x y", "", 5)]


def test_base_image_is_an_argument_defaulting_to_python_slim(instructions: list[Instruction]) -> None:
    assert (instructions[0].keyword, instructions[0].args) == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert instructions[1].keyword == "FROM"
    assert instructions[1].args.startswith("${BASE_IMAGE} AS ")


def test_uv_pin_matches_the_makefile(instructions: list[Instruction]) -> None:
    makefile = re.search(r"^UV_VERSION\s*=\s*(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert makefile, "Makefile has no UV_VERSION"
    assert f"UV_VERSION={makefile.group(1)}" in [i.args for i in instructions if i.keyword == "ARG"]
    assert any("pip install" in i.args and '"uv==${UV_VERSION}"' in i.args for i in instructions)


def test_every_instruction_says_why(instructions: list[Instruction]) -> None:
    silent = [f"line {i.line}: {i.keyword} {i.args[:40]}" for i in instructions if not i.comment]
    assert silent == []


def test_final_stage_is_the_unprivileged_api(by_stage: dict[str, list[Instruction]]) -> None:
    name, final = list(by_stage.items())[-1]
    assert name == "api"
    keywords = {i.keyword: i.args for i in final}
    assert keywords["ENTRYPOINT"] == '["python", "-m", "api"]'
    user = keywords["USER"].split(":")[0]
    assert user not in {"0", "root"}
    copies = [i.args for i in final if i.keyword == "COPY"]
    assert "--from=runtime-deps /opt/venv /opt/venv" in copies
    assert "--from=train /artifacts/ model/" in copies
    # The runtime image installs nothing: no package manager, no compiler, no uv.
    assert not re.search(r"apt-get|apk |pip install|uv sync|gcc|build-essential", runs(final))


def test_dependencies_are_installed_before_the_source(by_stage: dict[str, list[Instruction]]) -> None:
    uv_stage = by_stage["uv"]
    assert [i.args for i in uv_stage if i.keyword == "COPY"] == ["pyproject.toml uv.lock ./"]
    syncs = {name: runs(stage) for name, stage in by_stage.items() if "uv sync" in runs(stage)}
    assert set(syncs) == {"runtime-deps", "train", "loadtest-deps"}
    for name, command in syncs.items():
        assert "--frozen" in command and "--no-install-project" in command, name
        assert not [i for i in by_stage[name] if i.keyword == "COPY" and i.args.split()[0] in {"api/", "loadtest/"}]
    assert "--no-default-groups" in syncs["runtime-deps"]
    assert "--group" not in syncs["runtime-deps"]
    assert "--group train" in syncs["train"]
    assert "--only-group loadtest" in syncs["loadtest-deps"]


def test_the_model_is_trained_and_verified_in_the_build(by_stage: dict[str, list[Instruction]]) -> None:
    command = runs(by_stage["train"])
    assert "python -m model.train --out /artifacts" in command
    assert "load_predictor(Path('/artifacts'))" in command


def test_loadtest_stage_holds_locust_the_scenario_and_thresholds(by_stage: dict[str, list[Instruction]]) -> None:
    stage = by_stage["loadtest"]
    copies = [i.args for i in stage if i.keyword == "COPY"]
    assert copies == ["--from=loadtest-deps /opt/venv /opt/venv", "loadtest/ loadtest/", "thresholds.yaml ./"]
    keywords = {i.keyword: i.args for i in stage}
    assert keywords["ENTRYPOINT"] == '["locust"]'
    assert keywords["USER"].split(":")[0] not in {"0", "root"}


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
