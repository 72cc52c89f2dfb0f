"""`make push`: the tags are the perf workflow's, and a checkout that is not a commit is not pushed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.push_image import REPOSITORY, image_tags, main, sanitize_tag

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("branch", "tag"),
    [("main", "main"), ("feature/ui", "feature-ui"), ("a//b c", "a-b-c"), ("fix_1.2-rc", "fix_1.2-rc"), ("é/x", "-x")],
)
def test_branch_names_become_tags_as_metadata_action_makes_them(branch: str, tag: str) -> None:
    assert sanitize_tag(branch) == tag


@pytest.mark.parametrize(
    ("branch", "tags"),
    [
        ("main", [SHA, "main", "latest"]),
        ("feature/ui", [SHA, "feature-ui"]),
        (None, [SHA]),
    ],
)
def test_the_full_sha_the_branch_and_latest_on_the_default_branch(branch: str | None, tags: list[str]) -> None:
    assert image_tags("Some.User", SHA, branch, "main") == [f"docker.io/some.user/{REPOSITORY}:{tag}" for tag in tags]


def test_the_workflow_pushes_to_the_same_repository() -> None:
    # The tag rules themselves are checked against image_tags in tests/workflows/test_workflows.py.
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "perf.yml").read_text())
    assert workflow["env"]["DOCKERHUB_REPOSITORY"] == REPOSITORY


def git(cwd: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "file").write_text("one\n")
    git(tmp_path, "add", "file")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_a_dry_run_prints_every_tag_and_push(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit = git(checkout, "rev-parse", "HEAD")
    assert main(["--user", "me", "--checkout", str(checkout), "--docker", "docker", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    references = [f"docker.io/me/{REPOSITORY}:{tag}" for tag in (commit, "main", "latest")]
    expected = [[f"$ docker tag inference-gate-api:local {ref}", f"$ docker push {ref}"] for ref in references]
    assert lines == [line for pair in expected for line in pair]


@pytest.mark.parametrize(
    ("argv", "change", "message"),
    [
        (["--user", ""], False, "no DockerHub user: make push DOCKER_USER=<your DockerHub user>"),
        (["--user", "me"], True, "the checkout has uncommitted changes: the image would not be commit"),
    ],
)
def test_what_cannot_be_pushed_is_not(
    checkout: Path, argv: list[str], change: bool, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if change:
        (checkout / "file").write_text("two\n")
    assert main([*argv, "--checkout", str(checkout), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.rstrip().endswith("nothing was pushed")
