"""The sides of a comparison: the working tree as it is, a revision in a worktree, an image; and cleanup."""

from __future__ import annotations

import io
import shlex
import subprocess
from pathlib import Path

import pytest

from loadtest.compare.sides import (
    WORKING_TREE,
    Side,
    SideError,
    Workspace,
    api_command_with,
    image_side,
    revision_side,
    sync_arguments,
)
from loadtest.util.git import resolve_commit, revision

REPO = Path(__file__).resolve().parents[3]
UV = REPO / ".tools" / "bin" / "uv"


def git(cwd: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@localhost"]
    return subprocess.run(["git", *identity, *arguments], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository of one commit with a pyproject.toml but no uv.lock: `uv sync --frozen` refuses it."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "--quiet")
    (folder / "pyproject.toml").write_text('[project]\nname = "side"\nversion = "0"\n')
    git(folder, "add", "pyproject.toml")
    git(folder, "commit", "--quiet", "--message", "one")
    return folder


def worktrees(repo: Path) -> list[str]:
    return [line for line in git(repo, "worktree", "list", "--porcelain").splitlines() if line.startswith("worktree ")]


def test_the_working_tree_is_this_checkout_as_it_is_with_a_venv_synced_as_a_revisions(
    trainable: Path, tmp_path: Path
) -> None:
    (trainable / "model" / "artifact.bin").write_text("the working tree's own model")
    say = io.StringIO()
    workspace = Workspace(trainable, tmp_path / "logs", say, UV, tmp_path / "cache")
    side = revision_side("head", None, trainable, workspace, None)
    assert (side.spec, side.checkout) == (WORKING_TREE, trainable)
    assert (side.commit, side.dirty) == revision(trainable)
    # Not this process's interpreter (the checkout's .venv, every group): a venv of the side's groups only.
    assert side.venv is not None
    assert workspace.root is not None
    assert side.venv.parent == workspace.root
    assert (side.venv / "bin" / "python").is_file()
    assert side.command_template == api_command_with(side.venv)
    assert "a venv of its own" in say.getvalue()
    log = (tmp_path / "logs" / "prepare-working-tree.log").read_text()
    assert "--only-group service --only-group train" in log
    # Nothing of the working tree is touched: no worktree, no training, its model as it was.
    assert workspace.trees == {}
    assert (trainable / "model" / "artifact.bin").read_text() == "the working tree's own model"
    assert not (trainable / ".venv").exists()
    # Asked again (both sides the working tree's): the same venv, synced once.
    assert workspace.venv_of_working_tree("base") == side.venv
    assert log.count("$ ") == 1
    assert workspace.close() == []
    assert not side.venv.exists()


def test_the_working_tree_with_a_command_of_its_own_prepares_nothing(tmp_path: Path) -> None:
    workspace = Workspace(REPO, tmp_path / "logs", io.StringIO(), UV)
    side = revision_side("head", None, REPO, workspace, "./serve {port}")
    assert (side.checkout, side.venv, side.command_template) == (REPO, None, "./serve {port}")
    assert workspace.root is None


def test_the_working_tree_without_uv_says_how_to_get_it(tmp_path: Path) -> None:
    workspace = Workspace(REPO, tmp_path / "logs", io.StringIO(), UV)
    workspace.uv = None
    with pytest.raises(SideError, match=r"^head \(working tree\): preparing a side needs uv; `make install`"):
        revision_side("head", None, REPO, workspace, None)


def test_a_side_runs_its_own_venv_unless_given_a_command() -> None:
    worktree = Path("/tmp/a folder/wt")
    side = Side("base", "main", "c" * 40, False, checkout=worktree, venv=worktree / ".venv")
    assert side.command_template == api_command_with(worktree / ".venv")
    assert shlex.split(side.command_template)[:3] == ["/tmp/a folder/wt/.venv/bin/python", "-m", "api"]
    assert "--port {port}" in side.command_template
    own = Side("base", "main", "c" * 40, False, checkout=worktree, api_command="./serve {port}", venv=worktree)
    assert own.command_template == "./serve {port}"
    assert Side("head", WORKING_TREE, "c" * 40, False, checkout=worktree).command_template is None


@pytest.mark.parametrize(
    ("side", "label"),
    [
        pytest.param(Side("base", "main", "0123456789abcdef0123"), "base (main, 0123456789ab)", id="revision"),
        pytest.param(
            Side("head", WORKING_TREE, "f" * 40, True), f"head (working tree, {'f' * 12}, uncommitted changes)"
        ),
        pytest.param(image_side("base", "me/api:1.0"), "base (me/api:1.0)", id="image"),
        pytest.param(Side("head", "0123456789ab", "0123456789abcdef0123"), "head (0123456789ab)", id="a-sha"),
    ],
)
def test_a_side_is_named_in_messages(side: Side, label: str) -> None:
    assert side.label == label


def test_an_unknown_revision_is_named(tmp_path: Path) -> None:
    workspace = Workspace(REPO, tmp_path / "logs", io.StringIO(), UV)
    with pytest.raises(SideError, match=r"^base: 'no-such-branch-x' is not a commit of the repository at "):
        revision_side("base", "no-such-branch-x", REPO, workspace, None)


def test_an_empty_image_is_refused() -> None:
    with pytest.raises(SideError, match="head: an empty image reference"):
        image_side("head", " ")


def test_a_revision_that_cannot_be_prepared_names_the_side_and_leaves_no_worktree(repo: Path, tmp_path: Path) -> None:
    commit = resolve_commit(repo, "HEAD")
    workspace = Workspace(repo, tmp_path / "logs", io.StringIO(), UV)
    with pytest.raises(SideError) as failed:
        revision_side("base", "HEAD", repo, workspace, None)
    message = str(failed.value)
    assert message.startswith(f"base (HEAD, {commit[:12]}): `{UV} sync --frozen` exited ")
    assert "uv.lock" in message  # uv's own words, from the log's tail
    assert (tmp_path / "logs" / f"prepare-{commit[:12]}.log").is_file()
    assert len(worktrees(repo)) == 2
    root = workspace.root
    assert workspace.close() == []
    assert len(worktrees(repo)) == 1
    assert root is not None
    assert not root.exists()


TRAIN = """\
import pathlib, uuid
pathlib.Path("model/artifact.bin").write_text(uuid.uuid4().hex)
print("trained")
"""


@pytest.fixture
def trainable(tmp_path: Path) -> Path:
    """A repository of a project without dependencies (locked; its groups are ours, empty) whose
    `python -m model.train` writes an ignored artifact that differs on every training."""
    folder = tmp_path / "trainable"
    (folder / "model").mkdir(parents=True)
    git(folder, "init", "--quiet")
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "side"\nversion = "0"\nrequires-python = ">=3.11"\ndependencies = []\n\n'
        "[tool.uv]\npackage = false\n\n[dependency-groups]\nservice = []\ntrain = []\n"
    )
    (folder / "model" / "__init__.py").write_text("")
    (folder / "model" / "train.py").write_text(TRAIN)
    (folder / ".gitignore").write_text("model/artifact.bin\n.venv/\n")
    subprocess.run([str(UV), "lock", "--offline", "--quiet"], cwd=folder, check=True)
    git(folder, "add", ".")
    git(folder, "commit", "--quiet", "--message", "trainable")
    return folder


GROUPS = '[dependency-groups]\nservice = ["fastapi"]\ntrain = ["scikit-learn"]\ndev = ["pytest"]\n'


@pytest.mark.parametrize(
    ("pyproject", "arguments"),
    [
        pytest.param(
            GROUPS,
            ["sync", "--frozen", "--no-install-project", "--only-group", "service", "--only-group", "train"],
            id="the-groups-it-runs",
        ),
        pytest.param('[dependency-groups]\ndev = ["pytest"]\n', ["sync", "--frozen", "--all-groups"], id="older"),
        pytest.param('[project]\nname = "side"\n', ["sync", "--frozen", "--all-groups"], id="no-groups"),
        pytest.param("[project\n", ["sync", "--frozen", "--all-groups"], id="unreadable-uv-says-why"),
    ],
)
def test_a_side_syncs_only_the_groups_it_runs(pyproject: str, arguments: list[str]) -> None:
    assert sync_arguments(pyproject) == arguments


def test_a_revision_is_checked_out_synced_and_trained_and_its_model_reused(trainable: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Workspace(trainable, tmp_path / "logs-1", io.StringIO(), UV, cache)
    side = revision_side("base", "HEAD", trainable, first, None)
    assert side.checkout is not None
    assert side.checkout in first.trees.values()  # a worktree of the workspace's, not the repository itself
    assert side.venv == side.checkout / ".venv"
    assert (side.checkout / ".venv" / "bin" / "python").is_file()
    trained = (side.checkout / "model" / "artifact.bin").read_text()
    # The same commit again (an A/A comparison) shares the worktree.
    assert revision_side("head", "HEAD", trainable, first, None).checkout == side.checkout
    assert first.close() == []
    # A later comparison of a revision with the same model/, uv.lock and pyproject.toml: no training.
    (trainable / "README").write_text("docs only\n")
    git(trainable, "add", "README")
    git(trainable, "commit", "--quiet", "--message", "docs")
    second = Workspace(trainable, tmp_path / "logs-2", io.StringIO(), UV, cache)
    again = revision_side("head", "HEAD", trainable, second, None)
    assert again.checkout is not None
    assert (again.checkout / "model" / "artifact.bin").read_text() == trained
    (log,) = (tmp_path / "logs-2").iterdir()
    assert "trained for these inputs before" in log.read_text()
    assert "trained\n" not in log.read_text()
    assert second.close() == []
    assert len(worktrees(trainable)) == 1
