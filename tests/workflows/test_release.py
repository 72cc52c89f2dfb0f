"""release.yml: a tag publishes the wheel and sdist with PyPI's trusted publishing, and nothing else can.

actionlint checks the syntax (test_workflows.py runs it on every workflow); these tests check the
rules a release relies on: only tags trigger it, only the publish job holds the OIDC token (and
only in the `pypi` environment PyPI trusts), every action is pinned, and a tag that is not the
project's version stops the release before anything is built.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.documents import WORKFLOWS, load_workflow

ROOT = Path(__file__).resolve().parents[2]
RELEASE = WORKFLOWS / "release.yml"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load_workflow(RELEASE.name)


def test_only_a_version_tag_triggers_a_release(release: dict[str, Any]) -> None:
    assert release["on"] == {"push": {"tags": ["v*"]}}


def test_only_the_publish_job_holds_the_oidc_token_and_only_in_the_pypi_environment(release: dict[str, Any]) -> None:
    assert release["permissions"] == {}
    jobs = release["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert "environment" not in jobs["build"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["needs"] == "build"
    # Nothing of the repository's code runs where the token is: no checkout, no run step.
    assert all("uses" in step for step in publish["steps"])
    assert not [step for step in publish["steps"] if step["uses"].startswith("actions/checkout@")]
    # Trusted publishing: the action gets no password or token input.
    uploads = [step for step in publish["steps"] if step["uses"].startswith("pypa/gh-action-pypi-publish@")]
    assert len(uploads) == 1
    assert not {"password", "user"} & set(uploads[0].get("with", {}))


def test_every_action_is_pinned_and_every_job_bounded(release: dict[str, Any]) -> None:
    uses = [line for line in RELEASE.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses
    assert [line.strip() for line in uses if not PINNED.match(line)] == []
    for job_id, job in release["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 15, job_id
        assert re.fullmatch(r"ubuntu-\d+\.\d+", job["runs-on"]), job_id


def test_the_build_is_the_pinned_uv_building_the_distributions_the_publish_job_uploads(
    release: dict[str, Any],
) -> None:
    build = release["jobs"]["build"]
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    assert "make .tools/bin/uv" in runs
    assert ".tools/bin/uv build --no-sources --out-dir dist" in runs
    [upload] = [step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    [download] = [
        step for step in release["jobs"]["publish"]["steps"] if step["uses"].startswith("actions/download-artifact@")
    ]
    assert upload["with"]["name"] == download["with"]["name"]
    # gh-action-pypi-publish uploads dist/ by default.
    assert download["with"]["path"].rstrip("/") == "dist"


def tag_check(release: dict[str, Any], tag: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The build job's tag check, run by bash as the runner runs it, with a uv that knows our version."""
    [step] = [
        step for step in release["jobs"]["build"]["steps"] if step.get("name") == "Check the tag against the version"
    ]
    uv = tmp_path / ".tools" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(f'#!/bin/sh\n[ "$*" = "version --short" ] && echo {VERSION}\n')
    uv.chmod(0o755)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env={"PATH": "/usr/bin:/bin", "GITHUB_REF_NAME": tag},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_tag_of_the_projects_version_goes_on(release: dict[str, Any], tmp_path: Path) -> None:
    done = tag_check(release, f"v{VERSION}", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_tag_that_is_not_the_version_stops_the_release_and_says_both(release: dict[str, Any], tmp_path: Path) -> None:
    done = tag_check(release, "v99.0.0", tmp_path)
    assert done.returncode == 1
    assert f"tag v99.0.0 does not match pyproject.toml's version {VERSION}" in done.stdout
