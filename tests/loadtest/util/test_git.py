"""The checkout's git state recorded with every result (loadtest/util/git.py), on real repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from loadtest.util.git import (
    GitError,
    add_worktree,
    ignored_files,
    object_id,
    remove_worktree,
    resolve_commit,
    revision,
)


def git(folder: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A repository with one commit of one file."""
    git(tmp_path, "init", "--quiet")
    (tmp_path / "thresholds.yaml").write_text("slo: {}\n", encoding="utf-8")
    git(tmp_path, "add", "thresholds.yaml")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    return tmp_path


def test_a_clean_checkout(checkout: Path) -> None:
    assert revision(checkout) == (git(checkout, "rev-parse", "HEAD"), False)


def test_an_edited_tracked_file_makes_it_dirty(checkout: Path) -> None:
    (checkout / "thresholds.yaml").write_text("slo: {max_p95_ms: 1}\n", encoding="utf-8")
    assert revision(checkout)[1] is True


def test_an_untracked_file_does_not(checkout: Path) -> None:
    (checkout / "results").mkdir()
    (checkout / "results" / "run.json").write_text("{}", encoding="utf-8")
    assert revision(checkout)[1] is False


def test_outside_git_nothing_is_known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # do not find a repository above tmp_path
    assert revision(tmp_path) == (None, None)


# ---------------------------------------------------------------- the worktrees of a comparison


def test_a_revision_is_resolved_to_its_full_commit(checkout: Path) -> None:
    head = git(checkout, "rev-parse", "HEAD")
    git(checkout, "tag", "v1")
    assert (
        resolve_commit(checkout, "HEAD") == resolve_commit(checkout, "v1") == resolve_commit(checkout, head[:7]) == head
    )


@pytest.mark.parametrize("spec", ["no-such-branch", "HEAD~5", "", "--all"])
def test_what_is_not_a_commit_is_named(checkout: Path, spec: str) -> None:
    with pytest.raises(GitError, match=f"{spec!r} is not a"):
        resolve_commit(checkout, spec)


def test_a_worktree_is_added_detached_and_removed_whatever_it_holds(
    checkout: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    head = git(checkout, "rev-parse", "HEAD")
    tree = tmp_path_factory.mktemp("trees") / "side"
    add_worktree(checkout, tree, head)
    assert (tree / "thresholds.yaml").is_file()
    assert git(tree, "rev-parse", "HEAD") == head
    assert git(checkout, "branch", "--list") == "* " + git(checkout, "branch", "--show-current")  # no branch made
    (tree / "model").mkdir()
    (tree / "model" / "artifact.bin").write_text("trained")
    remove_worktree(checkout, tree)
    assert not tree.exists()
    assert git(checkout, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_object_ids_and_ignored_files(checkout: Path) -> None:
    (checkout / ".gitignore").write_text("model/*.bin\n")
    (checkout / "model").mkdir()
    (checkout / "model" / "train.py").write_text("")
    git(checkout, "add", ".gitignore", "model/train.py")
    git(checkout, "commit", "--quiet", "-m", "model")
    head = git(checkout, "rev-parse", "HEAD")
    assert object_id(checkout, head, "model") == git(checkout, "rev-parse", "HEAD:model")
    assert object_id(checkout, head, "uv.lock") is None
    (checkout / "model" / "weights.bin").write_text("trained")
    (checkout / "model" / "__pycache__").mkdir()
    (checkout / "model" / "__pycache__" / "x.bin").write_text("")
    (checkout / "model" / "notes.txt").write_text("untracked, not ignored")
    assert ignored_files(checkout, "model") == ["model/weights.bin"]
