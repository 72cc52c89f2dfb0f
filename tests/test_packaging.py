"""The installable command (pyproject.toml): installed from a clean clone into a fresh virtual
environment, `inference-gate` answers --help, writes its starters with `init`, and gates the example
service that is not ours (examples/text-classifier) from a folder that is not our checkout; and it
brought no ONNX Runtime or scikit-learn with it.

The environment is made the way a user would make it, from the commit under test: `git clone`,
`uv venv`, then `uv pip install` of the clone (its wheel built by the build backend), with the
gate's dependencies pinned as uv.lock pins them (`uv export` of the project's dependencies only),
so uv's cache makes it quick and a transitive release cannot change the answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"
EXAMPLE = Path("examples") / "text-classifier"
"""A service that is not ours (standard library only, so the gate's environment runs it)."""
SERVICE_PACKAGES = ("onnxruntime", "scikit-learn", "fastapi", "skl2onnx")
"""The service's dependencies (its `service` and `train` groups): never the command's."""


@dataclass(frozen=True)
class Installed:
    clone: Path
    venv: Path

    def command(self, *argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run([str(self.venv / "bin" / "inference-gate"), *argv], cwd=cwd, timeout=timeout)

    def python(self, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run([str(self.venv / "bin" / "python"), "-c", code], cwd=cwd, timeout=60)


def run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    # No LOADTEST_* of the developer's shell, no PYTHONPATH that could reach the checkout.
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "LANG": "C.UTF-8"}
    return subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout, check=False)


def checked(argv: list[str], cwd: Path, timeout: float = 300) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    assert UV.is_file(), f"{UV} is missing: `make install` installs the pinned uv there"
    base = tmp_path_factory.mktemp("install")
    clone, venv = base / "clone", base / "venv"
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    checked(["git", "clone", "--quiet", str(ROOT), str(clone)], cwd=base)
    checked(["git", "checkout", "--quiet", "--detach", commit.stdout.strip()], cwd=clone)
    requirements = base / "requirements.txt"
    export = [str(UV), "export", "--frozen", "--no-default-groups", "--no-emit-project", "--quiet"]
    checked([*export, "--output-file", str(requirements)], cwd=clone)
    checked([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=base)
    install = [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    checked([*install, "--requirement", str(requirements)], cwd=base)
    checked([*install, "--no-deps", str(clone)], cwd=base)
    return Installed(clone, venv)


def test_the_command_answers_help_with_every_subcommand(installed: Installed, tmp_path: Path) -> None:
    done = installed.command("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: inference-gate ")
    for command in ("run", "gate", "report", "compare", "search", "ui", "stats", "init"):
        assert command in done.stdout


def test_the_environment_has_the_gate_and_nothing_of_the_service(installed: Installed, tmp_path: Path) -> None:
    listed = subprocess.run(
        [str(UV), "pip", "list", "--format", "json", "--python", str(installed.venv / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"inference-perf-gate", "locust", "pandas"} <= names
    assert names.isdisjoint(SERVICE_PACKAGES), sorted(names & set(SERVICE_PACKAGES))
    # The wheel carries the gate's package with its data files, and not the service's packages.
    probe = installed.python(
        "import importlib.util as u, json; from loadtest import packaged; print(json.dumps({"
        "'files': [str(p.relative_to(packaged.PACKAGE_DIR)) for p in (packaged.COMPOSE_FILE, packaged.LOCUSTFILE, "
        "*(packaged.STARTER_DIR / n for n in packaged.STARTER_FILES)) if p.is_file()], "
        "'site': 'site-packages' in str(packaged.PACKAGE_DIR), "
        "'others': [m for m in ('api', 'model', 'onnxruntime', 'sklearn') if u.find_spec(m)]}))",
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found == {
        "files": [
            "container/docker-compose.ci.yaml",
            "locustfile.py",
            "starter/thresholds.yaml",
            "starter/scenario.yaml",
        ],
        "site": True,
        "others": [],
    }


@pytest.mark.slow
def test_init_writes_the_starters_and_run_gates_the_example_from_a_folder_that_is_not_the_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    done = installed.command("init", cwd=project)
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in project.iterdir()) == ["scenario.yaml", "thresholds.yaml"]

    again = installed.command("init", cwd=project)
    assert again.returncode == 2
    assert "already exist" in again.stderr

    # A newcomer's folder: the example (a service that is not ours, two YAML files and its bodies) copied
    # out of the clone, run with its own profile (50 users, one replica of half a CPU) for 12 s, which
    # gives the confidence bound of a share of 0 enough blocks to clear the 1% error limit.
    example = tmp_path / "text-classifier"
    shutil.copytree(installed.clone / EXAMPLE, example)
    service = f"{installed.venv / 'bin' / 'python'} {example / 'service.py'} --port {{port}}"
    done = installed.command("run", "--api-command", service, "--run-time", "12s", cwd=example, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Performance matrix PASSED: 1 of 1 cells" in done.stdout
    assert "Traceback" not in done.stderr
    verdict = json.loads(next((example / "results").glob("*/verdict.json")).read_text(encoding="utf-8"))
    assert verdict["outcome"] == "pass"
    assert {check["scope"] for check in verdict["checks"]} == {"Aggregated", "classify", "labels"}
    assert verdict["delivery"] is not None

    # Without a service command, outside our checkout: a message, not a replica that dies.
    done = installed.command("run", "--run-time", "12s", cwd=example)
    assert done.returncode == 2
    assert "no service to start: give --api-command" in done.stderr
