"""The checkout's git state recorded with every result (loadtest/util/git.py), on real repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from loadtest.util.git import revision


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
