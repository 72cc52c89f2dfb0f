"""Reading a scenario file: YAML, validated, its bodies files found and checked.

Every problem is one `ScenarioError` whose message names the file, the key and the value
(`scenario.yaml: Key 'weight' has value -1: must be at least 0 (in requests[0])`), or the
bodies file and its line. A path in `bodies:` is relative to the scenario file's folder; the
scenario returned holds it resolved, so whoever reads it next (Locust, run.json) needs no folder.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from loadtest.scenario.bodies import BodiesError, read_bodies
from loadtest.scenario.model import Pace, Scenario
from loadtest.util.model_errors import describe_validation_error
from loadtest.util.yaml_files import parse_yaml, read_text, type_name

WORKSHOP_SCENARIO = Path(str(resources.files("loadtest.scenario") / "workshop.yaml"))
"""The workshop's scenario, shipped inside the package (an installed package is unpacked on disk, so
its resources are real files Locust and Compose can read)."""


class ScenarioError(ValueError):
    """A scenario file cannot be used; the message names the file, the key and the value."""


def load_scenario(path: Path) -> Scenario:
    """Read, validate and resolve a scenario file; ScenarioError says what is wrong with it."""
    path = Path(path)
    scenario = parse_scenario(read_text(path, "a scenario file", ScenarioError), source=str(path))
    return check_size(resolve_bodies(scenario, path.parent, source=str(path)), source=str(path))


def parse_scenario(text: str, source: str = "scenario.yaml") -> Scenario:
    """Validate a scenario given as YAML text (its bodies paths as written); `source` names it in errors."""
    document = parse_yaml(text, source, ScenarioError)
    if document is None:
        raise ScenarioError(f"{source}: is empty; a scenario needs `requests` and `users` (see docs/scenario.md)")
    if not isinstance(document, dict):
        raise ScenarioError(
            f"{source}: the top level must be a mapping with `requests` and `users`, not {type_name(document)}"
        )
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(f"{source}: {describe_validation_error(error, root=Scenario, noun='Key')}") from None


def resolve_bodies(scenario: Scenario, folder: Path, source: str) -> Scenario:
    """The scenario with each `bodies` path made absolute against `folder`, every file read and checked."""
    requests = []
    for request in scenario.requests:
        if request.bodies is None:
            requests.append(request)
            continue
        path = (folder / request.bodies).resolve()
        try:
            read_bodies(path)
        except BodiesError as error:
            raise ScenarioError(f"{source}: request {request.name!r}: bodies {request.bodies!r}: {error}") from None
        requests.append(request.model_copy(update={"bodies": str(path)}))
    return scenario.model_copy(update={"requests": requests})


def chosen_scenario(
    given: Path | None, profile_file: str | None, paces: Mapping[str, Pace], thresholds: Path, profile: str
) -> Scenario:
    """The scenario a run follows: the one `--scenario` (or LOADTEST_SCENARIO_FILE) names, at its own paces;
    else the profile's `scenario_file` (relative to the thresholds file's folder; None: the workshop's) at
    the profile's `pace`. ScenarioError names the file, or the profile and the kind its `pace` names."""
    if given is not None:
        return load_scenario(given)
    scenario = load_scenario(thresholds.parent / profile_file) if profile_file else workshop_scenario()
    try:
        return scenario.with_paces(paces)
    except KeyError as error:
        file = profile_file or "the workshop's scenario"
        raise ScenarioError(f"{thresholds}: profile {profile!r}: pace: {error.args[0]} ({file})") from None


@functools.cache
def workshop_scenario() -> Scenario:
    """The workshop's scenario, read once per process (a profile that names no scenario file gets it)."""
    return load_scenario(WORKSHOP_SCENARIO)


# --------------------------------------------------------------------------- the handover to Locust

HANDOVER_ENV = "INFERENCE_GATE_SCENARIO"
"""How the runner hands each Locust process the scenario it resolved (JSON, bodies as absolute paths).
Internal: outside the `LOADTEST_` prefix of the settings people give, so none of theirs can collide."""
FILE_ENV = "LOADTEST_SCENARIO_FILE"
"""The user-facing setting: a scenario file (read by the commands, and by the locustfile run by hand)."""
MAX_HANDOVER_BYTES = 64 * 1024
"""Linux caps one environment string at 128 KiB; a scenario this large carries its bodies inline."""


def handover(scenario: Scenario) -> dict[str, str]:
    """The variable that hands `scenario` to Locust's processes."""
    return {HANDOVER_ENV: scenario.model_dump_json()}


def handed_over(environ: Mapping[str, str]) -> Scenario:
    """The scenario a Locust process runs: the runner's handover, else LOADTEST_SCENARIO_FILE (Locust run
    by hand), else the workshop's. ScenarioError when the file named cannot be used."""
    text = environ.get(HANDOVER_ENV, "").strip()
    if text:
        return Scenario.model_validate_json(text)
    path = environ.get(FILE_ENV, "").strip()
    return load_scenario(Path(path)) if path else workshop_scenario()


def check_size(scenario: Scenario, source: str) -> Scenario:
    """The scenario, if it is small enough to hand to Locust in its environment; ScenarioError if not."""
    size = len(scenario.model_dump_json().encode())
    if size > MAX_HANDOVER_BYTES:
        raise ScenarioError(
            f"{source}: is {size:,} bytes as JSON, over the {MAX_HANDOVER_BYTES:,} that can be handed to Locust; "
            "move large inline bodies (`json:`) into a bodies file (`bodies: FILE.jsonl`)"
        )
    return scenario
