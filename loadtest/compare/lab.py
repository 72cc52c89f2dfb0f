"""Where a comparison's trials run: the seam between its bookkeeping and the machine.

`ComparisonSession` (`session`) decides which trial runs next, when to stop and what the trials mean;
a `Lab` prepares both sides, runs the one trial it is given (or a duet's two at once) and cleans up.
`MachineLab` does it for real: each side prepared (`sides`: a worktree with its own venv and model, or an
image), served by its backend, each trial a cell of the engine (`trials`). The unit tests give the session
a scripted lab instead, so the rules (too many inconclusive trials, a side that breaks, Ctrl-C, the budget) run on
trials whose outcomes they choose, without a replica or a Locust process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TextIO

from loadtest.compare.compare_options import CompareConfig
from loadtest.compare.duet import Pinning
from loadtest.compare.sides import Side, Workspace, image_side, revision_side
from loadtest.compare.trials import TRIALS_DIR, PlannedTrial, TrialRunner
from loadtest.records import SideRole, TrialRecord
from loadtest.runner.backends import Backend, BackendError, open_backend
from loadtest.runner.backends.compose import DEFAULT_API_IMAGE, ComposeBackend
from loadtest.runner.backends.process import ProcessBackend

SIDES_DIR = "sides"
"""Where the preparation logs go."""


class Lab(Protocol):
    """Runs a comparison's trials: `open` once, `run` per trial, `close` once whatever happened."""

    def open(self) -> dict[SideRole, Side]:
        """Both sides, ready to serve; SideError or BackendError says why one cannot be."""

    def run(self, planned: PlannedTrial) -> TrialRecord:
        """One trial of one side, into its folder under trials/; what it gave (a signal during it ends it as
        `cut short`)."""

    def pinning(self) -> Pinning:
        """The cores the sides may be pinned to, and why they cannot be (after `open`)."""

    def run_together(self, planned: Sequence[PlannedTrial]) -> list[TrialRecord]:
        """A duet's block: its trials at the same time, each pinned to its `cores`; their records in order
        (a signal ends each as `cut short`)."""

    def close(self) -> list[str]:
        """Everything `open` and the trials made is gone (replicas, containers, cgroups, worktrees); the
        problems met doing so."""


class MachineLab:
    """The trials on this machine: the sides prepared here, served by the configured backend."""

    def __init__(self, config: CompareConfig, repo: Path, err: TextIO, say: Callable[[str], None]) -> None:
        self.config, self.repo, self.say = config, repo, say
        self.workspace = Workspace(repo, config.out / SIDES_DIR, err)
        self.opened: list[Backend] = []
        self.runner: TrialRunner | None = None

    def open(self) -> dict[SideRole, Side]:
        """Prepare both sides and open their backends."""
        config = self.config
        if config.backend.name == "process" and os.environ.pop("MODEL_DIR", None) is not None:
            self.say("note: MODEL_DIR is ignored: each side serves the model its own checkout holds")
        sides = self.prepare()
        backends = self.open_backends(sides)
        self.runner = TrialRunner(
            config.run_config(config.out / TRIALS_DIR),
            config.cell,
            backends,
            {role: (side.commit, side.dirty) for role, side in sides.items()},
            self.repo,
            self.say,
            config.settings.load_time,
        )
        return sides

    def prepare(self) -> dict[SideRole, Side]:
        """Both sides, ready to serve."""
        config = self.config
        if config.backend.name == "compose":
            head_image = config.head or config.backend.api_image or DEFAULT_API_IMAGE
            return {"base": image_side("base", config.base), "head": image_side("head", head_image)}
        return {
            "base": revision_side("base", config.base, self.repo, self.workspace, config.base_api_command),
            "head": revision_side("head", config.head, self.repo, self.workspace, config.head_api_command),
        }

    def open_backends(self, sides: dict[SideRole, Side]) -> dict[SideRole, Backend]:
        """One backend per side: the compose backend with each side's image; the process backend once,
        with each side's command and checkout."""
        settings = self.config.backend
        try:
            if settings.name == "compose":
                backends: dict[SideRole, Backend] = {}
                for role, side in sides.items():
                    backends[role] = open_backend(replace(settings, api_image=side.image), self.repo)
                    self.opened.append(backends[role])
                return backends
            root = open_backend(settings, self.repo)
            self.opened.append(root)
        except BackendError as error:
            raise BackendError(f"the {settings.name} backend cannot be used: {error}") from None
        assert isinstance(root, ProcessBackend)  # open_backend's process backend
        self.say(root.describe())
        return {role: root.serving(side.command_template, side.checkout or self.repo) for role, side in sides.items()}

    def run(self, planned: PlannedTrial) -> TrialRecord:
        """One trial: a cell of its side's engine."""
        return self.opened_runner().run(planned)

    def run_together(self, planned: Sequence[PlannedTrial]) -> list[TrialRecord]:
        """A duet's block: a cell of each side's engine at once, each in a thread of its own."""
        return self.opened_runner().run_together(planned)

    def opened_runner(self) -> TrialRunner:
        if self.runner is None:
            raise RuntimeError("MachineLab used before open")  # the session opens it first: a bug if not
        return self.runner

    def pinning(self) -> Pinning:
        """The cores the sides may be pinned to, on the backend that serves them (`backend_pinning`)."""
        return backend_pinning(self.opened[0] if self.opened else None)

    def close(self) -> list[str]:
        """Every backend closed (replicas, containers, cgroups), then every worktree removed."""
        problems = [problem for backend in self.opened for problem in backend.close()]
        self.opened = []
        return problems + self.workspace.close()


def backend_pinning(backend: Backend | None) -> Pinning:
    """What a comparison may pin its sides to on `backend`: the process backend's cgroups' cores (or this
    process's CPU affinity without limits); the compose backend's, the CPUs the Docker daemon's containers may
    run on (both sides' backends talk to the same daemon)."""
    if isinstance(backend, ComposeBackend):
        return Pinning(backend.cpus.cores, backend.cpus.unavailable)
    if not isinstance(backend, ProcessBackend):
        return Pinning(frozenset(), "no backend is open")  # the session asks once the lab is open
    if backend.cgroups is None:
        # No limits (--no-limits, or none here): the replicas are pinned by their CPU affinity.
        return Pinning(frozenset(os.sched_getaffinity(0)))
    return Pinning(backend.cgroups.cores(), backend.cgroups.cpuset_unavailable)
