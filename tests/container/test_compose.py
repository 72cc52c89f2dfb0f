"""docker-compose.ci.yaml: valid Compose, and what a cell's environment makes of it.

The file is checked against the Compose Specification's JSON schema (vendored, see
tests/data/compose-spec.md), then resolved with the environment the runner's compose backend
gives a cell: by the file's own `${NAME:-default}` interpolation (always), and by each installed
Compose (`docker compose` v2, `docker-compose --compatibility` v1; skipped where absent).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from loadtest.locust_contract import LOCUSTFILE, LoadSettings, WebSettings, locust_args
from loadtest.runner.backends.compose import OPEN_FILES_WANTED, compose_environment
from loadtest.runner.backends.compose_web import web_override
from loadtest.runner.matrix import Cell
from loadtest.thresholds import load_thresholds
from loadtest.util.units import parse_memory

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "loadtest" / "container" / "docker-compose.ci.yaml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec.json"
LOCUST_SERVICES = ("locust-master", "locust-worker")
API_URL = "http://api:8000"

# A cell with every value away from the file's defaults, to prove each one is read.
CELL = Cell(replicas=3, cpus=0.25, memory="256m")
SETTINGS = LoadSettings(users=123, spawn_rate=7.5, run_time_seconds=45)
Resolve = Callable[[dict[str, str], Path], dict[str, Any]]


def cell_environment(results: Path) -> dict[str, str]:
    return compose_environment(CELL, SETTINGS, results, "example/api:cell", "example/loadtest:cell", 4, 30000)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


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


# --------------------------------------------------------------------------- resolving the file


def substitute(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` interpolation, for the forms this file uses."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda match: env.get(match[1], match[2]), text)


def resolve_by_interpolation(env: dict[str, str], _cwd: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(substitute(COMPOSE_FILE.read_text(), env))
    return document


def installed_compose() -> list[tuple[str, list[str]]]:
    """The installed Compose implementations (resolving a file needs no daemon)."""
    found = []
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:
        found.append(("v2", [docker, "compose"]))
    if legacy := shutil.which("docker-compose"):
        found.append(("v1", [legacy, "--compatibility"]))
    return found


def compose_resolver(command: list[str], overrides: Sequence[Path] = ()) -> Resolve:
    def resolve(env: dict[str, str], cwd: Path) -> dict[str, Any]:
        """`<compose> -f docker-compose.ci.yaml [-f OVERRIDE...] config` with `env` (and none of ours), parsed."""
        names = set(cell_environment(cwd))
        clean = {key: value for key, value in os.environ.items() if key not in names}
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
        document: dict[str, Any] = yaml.safe_load(result.stdout)
        return document

    return resolve


RESOLVERS = [
    pytest.param(resolve_by_interpolation, id="interpolation"),
    *(
        pytest.param(compose_resolver(command), id=label, marks=pytest.mark.integration)
        for label, command in installed_compose()
    ),
]


def master_flags(config: dict[str, Any]) -> list[str]:
    return [str(argument) for argument in config["services"]["locust-master"]["command"]]


@pytest.mark.parametrize("resolve", RESOLVERS)
def test_a_cells_environment_sets_replicas_limits_images_and_load(resolve: Resolve, tmp_path: Path) -> None:
    results = tmp_path / "cell"
    config = resolve(cell_environment(results), tmp_path)
    api = config["services"]["api"]
    assert api["image"] == "example/api:cell"
    assert int(api["deploy"]["replicas"]) == CELL.replicas
    limits = api["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) == CELL.cpus
    assert parse_memory(str(limits["memory"])) == CELL.memory_bytes
    # Memory plus swap equal to the memory limit: no swap (Docker's default would double it).
    assert parse_memory(str(api["memswap_limit"])) == CELL.memory_bytes
    master, worker = (config["services"][name] for name in LOCUST_SERVICES)
    assert {master["image"], worker["image"]} == {"example/loadtest:cell"}
    assert int(worker["deploy"]["replicas"]) == 4
    assert "--expect-workers=4" in master_flags(config)
    assert master["user"] == worker["user"] == f"{os.getuid()}:{os.getgid()}"
    volume = master["volumes"][0]
    source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
    assert (Path(source), target) == (results.resolve(), "/results")
    for name in ("api", *LOCUST_SERVICES):
        nofile = config["services"][name]["ulimits"]["nofile"]
        assert (int(nofile["soft"]), int(nofile["hard"])) == (30000, 30000), name


@pytest.mark.parametrize("resolve", RESOLVERS)
def test_the_master_runs_the_runners_locust_flags(resolve: Resolve, tmp_path: Path) -> None:
    config = resolve(cell_environment(tmp_path / "cell"), tmp_path)
    roles = [f"--locustfile={LOCUSTFILE}", "--master", "--expect-workers=4", "--expect-workers-max-wait=120"]
    expected = [*roles, *locust_args(SETTINGS, API_URL, PurePosixPath("/results"))]
    assert sorted(master_flags(config)) == sorted(expected)


@pytest.mark.parametrize("resolve", RESOLVERS)
def test_without_an_environment_a_cell_is_the_ci_profiles(resolve: Resolve, tmp_path: Path) -> None:
    ci = load_thresholds(ROOT / "thresholds.yaml").profiles["ci"]
    config = resolve({}, tmp_path)
    limits = config["services"]["api"]["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) == ci.cpus
    assert ci.memory is not None
    assert parse_memory(str(limits["memory"])) == parse_memory(ci.memory)
    settings = LoadSettings(users=ci.users, spawn_rate=ci.spawn_rate, run_time_seconds=ci.run_time.seconds)
    flags = set(master_flags(config))
    assert set(locust_args(settings, API_URL, PurePosixPath("/results"))) - flags == {
        f"--run-time={settings.run_time_seconds}s"
    }
    assert f"--run-time={ci.run_time}" in flags  # the profile's spelling of the same time
    for name in ("api", *LOCUST_SERVICES):
        nofile = config["services"][name]["ulimits"]["nofile"]
        assert int(nofile["soft"]) == int(nofile["hard"]) == OPEN_FILES_WANTED, name


def test_the_default_open_files_limit_holds_the_ci_profiles_users() -> None:
    users = load_thresholds(ROOT / "thresholds.yaml").profiles["ci"].users
    # One socket per user, all of them possibly on one worker or one replica, plus headroom.
    assert users + 4096 <= OPEN_FILES_WANTED


def test_replicas_are_reached_only_inside_the_project_and_only_once_healthy(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    # A published port would clash between replicas and between concurrent cells.
    assert "ports" not in api
    port = str(api["environment"]["API_PORT"])
    assert api["expose"] == [port]
    assert API_URL.endswith(f":{port}")
    # The slim image has no curl: the healthcheck asks the health path with the image's Python, on that port.
    assert api["healthcheck"]["test"][:2] == ["CMD", "python"]
    for environment, path in (({}, "/health"), ({"API_HEALTH_PATH": "/v1/ready"}, "/v1/ready")):
        test = resolve_by_interpolation(environment, Path())["services"]["api"]["healthcheck"]["test"][-1]
        assert f"urlopen('http://127.0.0.1:{port}{path}', timeout=3)" in test
    assert compose["services"]["locust-master"]["depends_on"] == {"api": {"condition": "service_healthy"}}


@pytest.mark.integration
@pytest.mark.parametrize("command", [pytest.param(command, id=label) for label, command in installed_compose()])
def test_installed_compose_layers_the_web_ui_override(
    command: list[str], validator: jsonschema.Draft201909Validator, tmp_path: Path
) -> None:
    document = web_override(WebSettings(users=40, spawn_rate=20, port=18089))
    override = tmp_path / "compose.ui.yaml"
    override.write_text(yaml.safe_dump(document))
    results = tmp_path / "cell"
    config = compose_resolver(command, [override])(cell_environment(results), tmp_path)
    assert schema_errors(validator, config) == []
    master = config["services"]["locust-master"]
    assert master_flags(config) == document["services"]["locust-master"]["command"]
    published = master["ports"][0]
    if isinstance(published, dict):
        published = f"{published['host_ip']}:{published['published']}:{published['target']}"
    assert published.removesuffix("/tcp") == "127.0.0.1:18089:8089"
    # The rest of the cell is the compose file's: the API's limits, the workers, the results.
    assert int(config["services"]["api"]["deploy"]["replicas"]) == CELL.replicas
    assert int(config["services"]["locust-worker"]["deploy"]["replicas"]) == 4
    volume = master["volumes"][0]
    source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
    assert Path(source) == results.resolve()
