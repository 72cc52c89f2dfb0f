"""Reading a scenario file: YAML, validated, its bodies files found and checked.

Every problem is one `ScenarioError` whose message names the file, the key and the value
(`scenario.yaml: Key 'weight' has value -1: must be at least 0 (in requests[0])`), or the
bodies file and its line. A path in `bodies:` is relative to the scenario file's folder; the
scenario returned holds it resolved, so whoever reads it next (Locust, run.json) needs no folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from loadtest.scenario.bodies import BodiesError, read_bodies
from loadtest.scenario.model import Scenario
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
    return resolve_bodies(scenario, path.parent, source=str(path))


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
