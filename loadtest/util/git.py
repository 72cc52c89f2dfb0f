"""The checkout's git state, recorded with every result: which commit, and whether it was edited."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)


def revision(cwd: Path) -> tuple[str | None, bool | None]:
    """The checkout's commit and whether it has uncommitted changes (None, None outside git)."""
    try:
        commit = _git(cwd, "rev-parse", "HEAD")
        status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if commit.returncode != 0:
        return None, None
    return commit.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None


def branch(cwd: Path) -> str | None:
    """The branch checked out (None: a detached HEAD, or not a git checkout)."""
    return _answer(cwd, "symbolic-ref", "--short", "-q", "HEAD")


def default_branch(cwd: Path) -> str | None:
    """The remote's default branch as this clone knows it (origin/HEAD), None if it does not."""
    name = _answer(cwd, "symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD")
    return name.removeprefix("origin/") if name is not None else None


def _answer(cwd: Path, *arguments: str) -> str | None:
    """What a git command prints, None when it fails or prints nothing."""
    try:
        result = _git(cwd, *arguments)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None
