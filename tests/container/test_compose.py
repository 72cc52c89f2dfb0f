"""docker-compose.ci.yaml: valid Compose, and the env contract the runner's compose backend uses.

Three layers: the file against the Compose Specification's JSON schema (vendored, see
tests/data/compose-spec.md); the project's invariants on the file itself; and each installed
Compose implementation (`docker compose` v2, `docker-compose --compatibility` v1) resolving it
with a cell's environment. The last skips only where Docker is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from loadtest.locust_contract import LOCUSTFILE, LoadSettings, WebSettings, locust_args
from loadtest.runner.backends.compose import compose_environment
from loadtest.runner.backends.compose_web import web_override
from loadtest.runner.matrix import Cell
from loadtest.thresholds import load_thresholds
from loadtest.util.units import parse_memory

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.ci.yaml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
LOCUST_SERVICES = ("locust-master", "locust-worker")

# A cell's environment, every value away from its default, to prove each one is read.
CELL_ENV = {
    "API_IMAGE": "example/api:cell",
    "API_REPLICAS": "3",
    "API_CPUS": "0.25",
    "API_MEMORY": "256m",
    "LOADTEST_IMAGE": "example/loadtest:cell",
    "LOCUST_WORKERS": "4",
    "LOCUST_USERS": "123",
    "LOCUST_SPAWN_RATE": "7",
    "LOCUST_RUN_TIME": "45s",
    "LOADTEST_UID": "1234",
    "LOADTEST_GID": "5678",
    "NOFILE_LIMIT": "30000",
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def schema_errors(validator: jsonschema.Draft201909Validator, document: dict[str, Any]) -> list[str]:
    """Every schema violation as `path: message`."""
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification(
    validator: jsonschema.Draft201909Validator, compose: dict[str, Any]
) -> None:
    assert schema_errors(validator, compose) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "api", "deploy", "replicas"), [1, 2]),
        (("services", "api", "deploy", "resources", "limits", "cpu"), "1.0"),
        (("services", "locust-master", "ulimits", "nofile"), {"soft": 1}),
        (("services", "api", "healthcheck", "interval"), 3),
    ],
)
def test_the_schema_rejects_a_broken_file(
    validator: jsonschema.Draft201909Validator, compose: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    broken = json.loads(json.dumps(compose))
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(validator, broken)


def test_api_replicas_limits_and_image_come_from_the_environment(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["image"] == "${API_IMAGE:-inference-gate-api:local}"
    assert api["deploy"]["replicas"] == "${API_REPLICAS:-1}"
    assert api["deploy"]["resources"]["limits"] == {"cpus": "${API_CPUS:-1.0}", "memory": "${API_MEMORY:-1g}"}
    # Reached as http://api:8000 inside the network only: a published port would clash between
    # replicas and between concurrent cells.
    assert "ports" not in api
    assert api["expose"] == ["8000"]


def test_api_healthcheck_asks_health_with_python(compose: dict[str, Any]) -> None:
    check = compose["services"]["api"]["healthcheck"]
    assert check["test"][:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8000/health" in check["test"][3]
    assert compose["services"]["locust-master"]["depends_on"] == {"api": {"condition": "service_healthy"}}


def substitute(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` interpolation, for the forms this file uses."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda match: env.get(match[1], match[2]), text)


def test_the_master_runs_the_runners_locust_flags(compose: dict[str, Any]) -> None:
    cell, settings = (
        Cell(replicas=2, cpus=0.5, memory="512m"),
        LoadSettings(users=123, spawn_rate=7.5, run_time_seconds=45),
    )
    env = compose_environment(cell, settings, Path("/host/cell"), "api:x", "locust:x", workers=4)
    master = [substitute(argument, env) for argument in compose["services"]["locust-master"]["command"]]
    roles = [f"--locustfile={LOCUSTFILE}", "--master", "--expect-workers=4", "--expect-workers-max-wait=120"]
    assert sorted(master) == sorted([*roles, *locust_args(settings, "http://api:8000", PurePosixPath("/results"))])


def test_workers_and_results_come_from_the_environment(compose: dict[str, Any]) -> None:
    worker = compose["services"]["locust-worker"]
    assert "--worker" in worker["command"]
    assert "--master-host=locust-master" in worker["command"]
    assert worker["deploy"]["replicas"] == "${LOCUST_WORKERS:-2}"
    assert compose["services"]["locust-master"]["volumes"] == ["${RESULTS_DIR:-./results}:/results"]
    for name in LOCUST_SERVICES:
        service = compose["services"][name]
        assert service["image"] == "${LOADTEST_IMAGE:-inference-gate-loadtest:local}"
        assert service["user"] == "${LOADTEST_UID:-0}:${LOADTEST_GID:-0}"


def test_default_load_is_the_ci_profile(compose: dict[str, Any]) -> None:
    ci = load_thresholds(ROOT / "thresholds.yaml").profiles["ci"]
    master = compose["services"]["locust-master"]["command"]
    assert f"--users=${{LOCUST_USERS:-{ci.users}}}" in master
    assert f"--spawn-rate=${{LOCUST_SPAWN_RATE:-{ci.spawn_rate:g}}}" in master
    assert f"--run-time=${{LOCUST_RUN_TIME:-{ci.run_time}}}" in master


@pytest.mark.parametrize("service", ["api", *LOCUST_SERVICES])
def test_nofile_limit_holds_the_ci_profiles_users(compose: dict[str, Any], service: str) -> None:
    users = load_thresholds(ROOT / "thresholds.yaml").profiles["ci"].users
    nofile = compose["services"][service]["ulimits"]["nofile"]
    assert nofile["soft"] == nofile["hard"]
    default = re.fullmatch(r"\$\{NOFILE_LIMIT:-(\d+)\}", nofile["soft"])
    assert default, f"{service}: nofile {nofile['soft']!r} is not ${{NOFILE_LIMIT:-<number>}}"
    # One socket per user, all of them possibly on one worker or one replica, plus headroom.
    assert int(default.group(1)) >= users + 4096


def compose_commands() -> list[tuple[str, list[str]]]:
    """The installed Compose implementations that can resolve a file (no daemon needed)."""
    found = []
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:
        found.append(("v2", [docker, "compose"]))
    if legacy := shutil.which("docker-compose"):
        found.append(("v1", [legacy, "--compatibility"]))
    return found


def resolve(command: list[str], env: dict[str, str], cwd: Path, overrides: Sequence[Path] = ()) -> dict[str, Any]:
    """`<compose> -f docker-compose.ci.yaml [-f OVERRIDE...] config` with `env`, parsed."""
    clean = {key: value for key, value in os.environ.items() if key not in CELL_ENV and key != "RESULTS_DIR"}
    files = [flag for file in (COMPOSE_FILE, *overrides) for flag in ("-f", str(file))]
    result = subprocess.run(
        [*command, *files, "--project-directory", str(cwd), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def implementations() -> list[tuple[str, list[str]]]:
    found = compose_commands()
    if not found:
        if shutil.which("docker") is None:
            pytest.skip("Docker is not installed: neither `docker compose` nor `docker-compose` to ask")
        pytest.fail("docker is installed but neither `docker compose` (v2) nor `docker-compose` (v1) works")
    return found


@pytest.mark.integration
def test_installed_compose_resolves_a_cells_environment(
    implementations: list[tuple[str, list[str]]], validator: jsonschema.Draft201909Validator, tmp_path: Path
) -> None:
    results = tmp_path / "cell"
    for label, command in implementations:
        config = resolve(command, {**CELL_ENV, "RESULTS_DIR": str(results)}, tmp_path)
        assert schema_errors(validator, config) == [], label
        api = config["services"]["api"]
        assert api["image"] == "example/api:cell", label
        assert int(api["deploy"]["replicas"]) == 3, label
        limits = api["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) == 0.25 and parse_memory(str(limits["memory"])) == 256 * 2**20, label
        master = config["services"]["locust-master"]
        for flag in ("--users=123", "--spawn-rate=7", "--run-time=45s", "--expect-workers=4"):
            assert flag in master["command"], (label, flag)
        assert master["user"] == "1234:5678", label
        volume = master["volumes"][0]
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        assert (Path(source), target) == (results, "/results"), label
        assert int(config["services"]["locust-worker"]["deploy"]["replicas"]) == 4, label
        for name in ("api", *LOCUST_SERVICES):
            nofile = config["services"][name]["ulimits"]["nofile"]
            assert (int(nofile["soft"]), int(nofile["hard"])) == (30000, 30000), (label, name)


@pytest.mark.integration
def test_installed_compose_defaults_are_one_replica_one_cpu_one_gigabyte(
    implementations: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    for label, command in implementations:
        config = resolve(command, {}, tmp_path)
        api = config["services"]["api"]
        assert api["image"] == "inference-gate-api:local", label
        assert int(api["deploy"]["replicas"]) == 1, label
        limits = api["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) == 1.0 and parse_memory(str(limits["memory"])) == 2**30, label
        assert config["services"]["locust-master"]["image"] == "inference-gate-loadtest:local", label


@pytest.mark.integration
def test_installed_compose_layers_the_web_ui_override(
    implementations: list[tuple[str, list[str]]], validator: jsonschema.Draft201909Validator, tmp_path: Path
) -> None:
    document = web_override(WebSettings(users=40, spawn_rate=20, port=18089))
    override = tmp_path / "compose.ui.yaml"
    override.write_text(yaml.safe_dump(document))
    results = tmp_path / "cell"
    for label, command in implementations:
        config = resolve(command, {**CELL_ENV, "RESULTS_DIR": str(results)}, tmp_path, [override])
        assert schema_errors(validator, config) == [], label
        master = config["services"]["locust-master"]
        assert master["command"] == document["services"]["locust-master"]["command"], label
        published = master["ports"][0]
        if isinstance(published, dict):
            published = f"{published['host_ip']}:{published['published']}:{published['target']}"
        assert published.removesuffix("/tcp") == "127.0.0.1:18089:8089", label
        # The rest of the cell is the compose file's: the API's limits, the workers, the results.
        assert int(config["services"]["api"]["deploy"]["replicas"]) == 3, label
        assert int(config["services"]["locust-worker"]["deploy"]["replicas"]) == 4, label
        volume = master["volumes"][0]
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        assert Path(source) == results, label
