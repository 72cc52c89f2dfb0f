"""The two sides of a comparison, and getting each ready to serve.

Process backend: a side is a git revision, checked out in a temporary worktree of its own, with its
own `.venv` synced from its own `uv.lock` (`uv sync --frozen` of the `service` and `train` groups only: uv's
cache makes it quick) and its own model trained (`python -m model.train`); its replicas run there with that
venv's Python. Training is deterministic, so its artifacts are kept per `model/` tree, `uv.lock` and
`pyproject.toml` (in ~/.cache/inference-gate/models) and a revision with the same three reuses them. The head
defaults to the working tree as it is: this checkout and its model, no worktree, but a venv of its own synced
as a revision's is (not the checkout's `.venv`, which has every group: the two sides' replicas must differ in
their code and locked packages only; docs/compare.md, "Both sides prepared alike"). Two sides on the same commit
(an A/A comparison) share one worktree. Of a revision only `python -m api`
and `python -m model.train` are used, which every revision of this repository has.

Compose backend: a side is an image reference; nothing is prepared.

`Workspace.close()` removes every worktree it made (`git worktree remove --force`), whatever happened.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from loadtest.records import SideInfo, SideRole
from loadtest.util.files import read_tail
from loadtest.util.git import (
    GitError,
    add_worktree,
    ignored_files,
    object_id,
    remove_worktree,
    resolve_commit,
    revision,
)

WORKING_TREE = "working tree"
"""The head's spec when `--head` is not given (process backend)."""
UV = Path(".tools/bin/uv")
"""The pinned uv that `make install` puts in the checkout."""
PREPARE_TIMEOUT = 900.0
"""Seconds one preparation step (uv sync, training) may take."""
MODEL_INPUTS = ("model", "uv.lock", "pyproject.toml")
"""What a revision's trained model depends on: its code and its locked packages."""
CACHE_COMPLETE = ".complete"
SIDE_GROUPS = ("service", "train")
"""The dependency groups a side runs: its API (`python -m api`) and its training (`python -m model.train`)."""


def sync_arguments(pyproject: str) -> list[str]:
    """`uv`'s arguments that sync a side's venv: only the groups it runs (no linters, test tools or the gate's own
    packages) when its pyproject.toml has them, else every group (a revision from before the groups)."""
    try:
        groups = tomllib.loads(pyproject).get("dependency-groups", {})
    except tomllib.TOMLDecodeError:
        groups = {}  # `uv sync` says what is wrong with it, in the side's log
    if isinstance(groups, dict) and all(name in groups for name in SIDE_GROUPS):
        only = [argument for name in SIDE_GROUPS for argument in ("--only-group", name)]
        return ["sync", "--frozen", "--no-install-project", *only]
    return ["sync", "--frozen", "--all-groups"]


def model_cache() -> Path:
    """Where trained models are kept between comparisons."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inference-gate" / "models"


def model_key(repo: Path, commit: str) -> str | None:
    """The cache key of `commit`'s model: its model/ tree, uv.lock and pyproject.toml (None: one is missing)."""
    ids = [object_id(repo, commit, path) for path in MODEL_INPUTS]
    if any(found is None for found in ids):
        return None
    return hashlib.sha256(" ".join(str(found) for found in ids).encode()).hexdigest()[:32]


class SideError(Exception):
    """A side cannot be prepared; the message names the side and the reason."""


@dataclass(frozen=True)
class Side:
    """One side, ready to serve."""

    role: SideRole
    spec: str
    commit: str | None = None
    dirty: bool | None = None
    checkout: Path | None = None
    """Process backend: where its replicas run (their working directory)."""
    image: str | None = None
    """Compose backend: its API image."""
    api_command: str | None = None
    """A server command of your own with `{port}`, run in `checkout` (None: its `python -m api`)."""
    venv: Path | None = None
    """The venv its `python -m api` runs with (None: this process's interpreter)."""

    @property
    def command_template(self) -> str | None:
        """What its replicas run: the command of your own, else `python -m api` with its own venv's
        interpreter (None: with this process's interpreter, for this checkout)."""
        if self.api_command is None and self.venv is not None:
            return api_command_with(self.venv)
        return self.api_command

    @property
    def label(self) -> str:
        """The side in messages (`SideInfo.label`)."""
        return self.info().label

    def info(self) -> SideInfo:
        """Its entry in comparison.json."""
        return SideInfo(
            role=self.role,
            spec=self.spec,
            commit=self.commit,
            dirty=self.dirty,
            image=self.image,
            checkout=str(self.checkout) if self.checkout is not None else None,
            api_command=self.api_command,
        )


def api_command_with(venv: Path) -> str:
    """The API exactly as the process backend runs it, with the interpreter of `venv`."""
    python = shlex.quote(str(venv / "bin" / "python"))
    return f"{python} -m api --host 127.0.0.1 --port {{port}} --workers 1 --reuse-port --log-level warning"


class Workspace:
    """The comparison's worktrees, under one temporary folder; `close()` removes them all."""

    def __init__(self, repo: Path, logs: Path, say: TextIO, uv: Path | None = None, cache: Path | None = None) -> None:
        """`uv`: the uv to sync with (default: the checkout's pinned one, else the one on PATH);
        `cache`: where trained models are kept (default `model_cache()`)."""
        self.repo, self.logs, self.say = repo, logs, say
        self.cache = cache or model_cache()
        found = repo / UV if (repo / UV).is_file() else shutil.which("uv")
        self.uv = uv or (Path(found) if found is not None else None)
        self.root: Path | None = None
        self.trees: dict[str, Path] = {}
        """Commit -> its worktree."""
        self.working_tree_venv: Path | None = None

    def _folder(self) -> Path:
        """The comparison's temporary folder, made on first use."""
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="loadtest-compare-"))
        return self.root

    def _uv(self, where: str) -> Path:
        if self.uv is None:
            raise SideError(f"{where}: preparing a side needs uv; `make install` puts it in {UV}")
        return self.uv

    def venv_of_working_tree(self, role: SideRole) -> Path:
        """A venv for the working tree's replicas, synced from its `uv.lock` as a revision's is (made once)."""
        if self.working_tree_venv is not None:
            return self.working_tree_venv
        where = f"{role} ({WORKING_TREE})"
        uv = self._uv(where)
        venv = self._folder() / "working-tree-venv"
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / "prepare-working-tree.log"
        self.say.write(f"preparing {where}: a venv of its own in {venv}, uv sync --frozen as the base's...\n")
        self.say.flush()
        self._sync(where, uv, self.repo, venv, log)
        self.working_tree_venv = venv
        return venv

    def _sync(self, where: str, uv: Path, project: Path, venv: Path, log: Path) -> dict[str, str]:
        """`project`'s locked packages into `venv` (the groups a side runs: `sync_arguments`); the side's
        environment it used, which its training runs with too: no venv of ours, no MODEL_* setting of the
        caller's."""
        environment = {
            key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV" and not key.startswith("MODEL_")
        }
        environment["UV_PROJECT_ENVIRONMENT"] = str(venv)
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
        self._step(where, [str(uv), *sync_arguments(text)], project, log, environment)
        return environment

    def checkout(self, role: SideRole, spec: str, commit: str) -> Path:
        """`commit` in a worktree with its venv and its model (made once per commit)."""
        if commit in self.trees:
            return self.trees[commit]
        uv = self._uv(f"{role} ({spec})")
        path = self._folder() / commit[:12]
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"prepare-{commit[:12]}.log"
        where = f"{role} ({spec}, {commit[:12]})"
        self.say.write(f"preparing {where} in {path}: worktree, uv sync --frozen, python -m model.train...\n")
        self.say.flush()
        try:
            add_worktree(self.repo, path, commit)
        except GitError as error:
            raise SideError(f"{where}: cannot check it out: {error}") from None
        self.trees[commit] = path
        environment = self._sync(where, uv, path, path / ".venv", log)
        self._train(where, commit, path, log, environment)
        return path

    def _train(self, where: str, commit: str, path: Path, log: Path, environment: dict[str, str]) -> None:
        """The side's model: from the cache when the same model/, uv.lock and pyproject.toml trained one."""
        key = model_key(self.repo, commit)
        cached = self.cache / key if key is not None else None
        if cached is not None and (cached / CACHE_COMPLETE).is_file():
            for file in cached.rglob("*"):
                if file.is_file() and file.name != CACHE_COMPLETE:
                    target = path / file.relative_to(cached)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target)
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"model: the artifacts trained for these inputs before, from {cached}\n")
            return
        self._step(where, [str(path / ".venv" / "bin" / "python"), "-m", "model.train"], path, log, environment)
        if cached is not None:
            self._keep(path, cached)

    def _keep(self, path: Path, cached: Path) -> None:
        """Copy the artifacts just trained into the cache, whole or not at all (a failure only costs a
        later comparison its training)."""
        try:
            artifacts = ignored_files(path, "model")
            self.cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.cache))
        except (OSError, GitError):
            return
        try:
            for name in artifacts:
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path / name, staging / name)
            (staging / CACHE_COMPLETE).write_text("")
            os.replace(staging, cached)
        except OSError:
            pass  # another comparison filled it first, or the disk is full: nothing is lost
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _step(self, where: str, argv: list[str], cwd: Path, log: Path, environment: dict[str, str]) -> None:
        """Run one preparation command, its output appended to `log`; SideError naming the side if it fails."""
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ {shlex.join(argv)}  (in {cwd})\n")
            handle.flush()
            try:
                done = subprocess.run(
                    argv,
                    cwd=cwd,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=PREPARE_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise SideError(f"{where}: `{shlex.join(argv[:3])}` could not run: {error}") from None
        if done.returncode != 0:
            raise SideError(
                f"{where}: `{shlex.join(argv[:3])}` exited {done.returncode}; its log {log}:\n{read_tail(log)}"
            )

    def close(self) -> list[str]:
        """Remove every worktree made (and the temporary folder); the problems, if any."""
        problems = []
        for path in self.trees.values():
            try:
                remove_worktree(self.repo, path)
            except GitError as error:
                problems.append(str(error))
        self.trees = {}
        self.working_tree_venv = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.root.exists():
                problems.append(f"could not remove {self.root}")
            self.root = None
        return problems


def revision_side(role: SideRole, spec: str | None, repo: Path, workspace: Workspace, api_command: str | None) -> Side:
    """A side of the process backend: `spec` in a worktree, or the working tree itself when it is None."""
    if spec is None:
        commit, dirty = revision(repo)
        venv = workspace.venv_of_working_tree(role) if api_command is None else None
        return Side(role, WORKING_TREE, commit, dirty, checkout=repo, api_command=api_command, venv=venv)
    try:
        commit = resolve_commit(repo, spec)
    except GitError as error:
        raise SideError(f"{role}: {error}") from None
    checkout = workspace.checkout(role, spec, commit)
    venv = checkout / ".venv"
    return Side(role, spec, commit, False, checkout=checkout, api_command=api_command, venv=venv)


def image_side(role: SideRole, image: str) -> Side:
    """A side of the compose backend: an image reference."""
    if not image.strip():
        raise SideError(f"{role}: an empty image reference")
    return Side(role, image, image=image)
