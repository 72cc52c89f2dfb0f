"""Git for the tool: the checkout's state recorded with every result, and the worktrees a comparison runs in."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(Exception):
    """A git command failed; the message holds git's own words."""


def _git(cwd: Path, *arguments: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


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


def _checked(cwd: Path, *arguments: str, timeout: float = 60) -> str:
    """Run git; its output, or GitError with its message."""
    try:
        done = _git(cwd, *arguments, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"`git {' '.join(arguments)}` could not run: {error}") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit {done.returncode}"
        raise GitError(f"`git {' '.join(arguments)}`: {message}")
    return done.stdout.strip()


def resolve_commit(cwd: Path, spec: str) -> str:
    """The full commit id `spec` (a branch, tag, sha, `HEAD~1`...) names in the repository at `cwd`."""
    if not spec.strip() or spec.startswith("-"):
        raise GitError(f"{spec!r} is not a revision")
    try:
        return _checked(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}")
    except GitError:
        raise GitError(f"{spec!r} is not a commit of the repository at {cwd}") from None


def add_worktree(cwd: Path, path: Path, commit: str) -> None:
    """Check `commit` out at `path`, detached (no branch is created or moved)."""
    _checked(cwd, "worktree", "add", "--detach", "--quiet", str(path), commit, timeout=300)


def remove_worktree(cwd: Path, path: Path) -> None:
    """Remove the worktree at `path`, whatever it holds (`--force`), and forget it."""
    _checked(cwd, "worktree", "remove", "--force", str(path), timeout=300)
    _checked(cwd, "worktree", "prune")


def object_id(cwd: Path, commit: str, path: str) -> str | None:
    """The id of the tree or file at `path` in `commit` (None when the commit has no such path)."""
    try:
        return _checked(cwd, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
    except GitError:
        return None


def ignored_files(cwd: Path, folder: str) -> list[str]:
    """Files under `folder` that git ignores (generated ones: trained artifacts), relative to `cwd`."""
    listed = _checked(cwd, "ls-files", "--others", "--ignored", "--exclude-standard", "--", folder)
    return [line for line in listed.splitlines() if line and "__pycache__" not in line.split("/")]


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
