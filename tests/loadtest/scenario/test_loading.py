"""Reading a scenario file (loadtest/scenario/loading.py): every problem names the file, the key and the value."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest.scenario.loading import (
    FILE_ENV,
    HANDOVER_ENV,
    MAX_HANDOVER_BYTES,
    WORKSHOP_SCENARIO,
    ScenarioError,
    chosen_scenario,
    handed_over,
    handover,
    load_scenario,
    parse_scenario,
    workshop_scenario,
)
from loadtest.scenario.model import Pace

if TYPE_CHECKING:
    from tests.conftest import WriteText

MINIMAL = """
requests:
  - {method: POST, path: /v1/classify, json: {text: "hello"}}
users:
  reader: {rate: 2}
"""


@pytest.fixture
def write(tmp_path: Path) -> WriteText:
    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_a_minimal_file_gets_every_default(write: WriteText) -> None:
    scenario = load_scenario(write(MINIMAL))
    (request,) = scenario.requests
    assert request.name == "POST /v1/classify"
    assert (request.weight, request.headers, request.bodies) == (1, {}, None)
    assert request.json_body == {"text": "hello"}
    assert (request.expect.status, request.expect.json_keys, request.expect.json_schema) == (200, [], None)
    assert scenario.health == "/health"
    reader = scenario.users["reader"]
    assert (reader.share, reader.rate, reader.between, reader.requests, reader.on_start) == (1.0, 2, None, None, [])


def test_the_workshop_scenario_ships_in_the_package_with_the_workshop_mix() -> None:
    scenario = load_scenario(WORKSHOP_SCENARIO)
    assert WORKSHOP_SCENARIO.parent.name == "scenario"  # inside loadtest/scenario/, found by importlib.resources
    assert scenario.request_names() == ["POST /predict", "GET /health", "GET /"]
    assert scenario.mix("ordinary") == {"POST /predict": 10, "GET /health": 2, "GET /": 1}
    assert scenario.mix("heavy") == {"POST /predict": 10}  # only predicts
    assert scenario.users["ordinary"].on_start == ["GET /health"]
    assert {kind: (load.share, load.between) for kind, load in scenario.users.items()} == {
        "ordinary": (0.5, [1, 3]),
        "heavy": (0.5, [0.1, 0.5]),
    }
    predict = scenario.request("POST /predict")
    assert predict.expect.json_keys == ["prediction", "probabilities"]
    assert predict.bodies == str(WORKSHOP_SCENARIO.parent / "workshop_iris.jsonl")


def test_bodies_are_found_next_to_the_scenario_file_wherever_the_command_runs(
    write: WriteText, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write('{"text": "a"}\n{"text": "b"}\n', "data/texts.jsonl")
    path = write(
        "requests: [{method: POST, path: /classify, bodies: data/texts.jsonl}]\nusers: {u: {rate: 1}}\n",
        "scenarios/../scenario.yaml",
    )
    monkeypatch.chdir(tmp_path.parent)  # not the scenario's folder
    scenario = load_scenario(path)
    assert scenario.requests[0].bodies == str(tmp_path / "data" / "texts.jsonl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "requests: [{path: /x, wieght: 2}]\nusers: {u: {rate: 1}}",
            "Key 'wieght' has value 2: unknown key; expected one of name, method, path, weight, headers, json, "
            "bodies, expect (in requests[0])",
        ),
        ("requests: [{path: /x, weight: -1}]\nusers: {u: {rate: 1}}", "Key 'weight' has value -1: must be at least 0"),
        (
            "requests: [{path: /x, weight: 0}, {path: /y, weight: 0}]\nusers: {u: {rate: 1}}",
            "every request has weight 0, so the users would send nothing; give one a weight above 0",
        ),
        (
            "requests: [{path: x}]\nusers: {u: {rate: 1}}",
            "Key 'path' has value 'x': must start with / (in requests[0])",
        ),
        (
            "requests: [{method: FETCH, path: /x}]\nusers: {u: {rate: 1}}",
            "Key 'method' has value 'FETCH': must be 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD' or 'OPTIONS'",
        ),
        (
            "requests: [{path: /x, json: {}, bodies: b.jsonl}]\nusers: {u: {rate: 1}}",
            "Key 'requests[0]' gives both json and bodies; give one body, or a file of them",
        ),
        (
            "requests: [{path: /x}, {path: /x}]\nusers: {u: {rate: 1}}",
            "name 'GET /x' is given to two requests; each request needs its own name",
        ),
        (
            "requests: [{path: /x, expect: {status: 700}}]\nusers: {u: {rate: 1}}",
            "Key 'status' has value 700: must be at most 599 (in requests[0].expect)",
        ),
        (
            "requests: [{path: /x, expect: {json_schema: {type: thing}}}]\nusers: {u: {rate: 1}}",
            "Key 'json_schema' is not a valid JSON Schema: 'thing' is not valid under any of the given schemas (in "
            "requests[0].expect)",
        ),
        ("requests: [{path: /x}]\nusers: {u: {}}", "give exactly one of rate: <requests per second per user> and"),
        ("requests: [{path: /x}]\nusers: {u: {rate: 1, between: [1, 2]}}", "give exactly one of rate"),
        (
            "requests: [{path: /x}]\nusers: {u: {rate: 0}}",
            "Key 'rate' has value 0: must be greater than 0 (in users.u)",
        ),
        (
            "requests: [{path: /x}]\nusers: {u: {between: [3, 1]}}",
            "Key 'u' between: [3.0, 1.0] has its low end above its high end (in users)",
        ),
        (
            "requests: [{path: /x}]\nusers: {u: {between: [1]}}",
            "Key 'u' between: [1.0] must be two numbers of seconds, [low, high] (in users)",
        ),
        (
            "requests: [{path: /x}]\nusers: {a: {rate: 1, share: 0.6}, b: {rate: 1, share: 0.6}}",
            "the users' shares add up to 1.2 (a 0.6, b 0.6); they must add up to 1",
        ),
        (
            "requests: [{path: /x}]\nusers: {u: {rate: 1, requests: [GET /y]}}",
            "users.u.requests names 'GET /y', not a request of this scenario (requests: 'GET /x')",
        ),
        (
            "requests: [{path: /x}]\nusers: {u: {rate: 1, on_start: [GET /y]}}",
            "users.u.on_start names 'GET /y', not a request of this scenario",
        ),
        (
            "requests: [{path: /x}, {path: /h, weight: 0}]\nusers: {u: {rate: 1, requests: [GET /h]}}",
            "users.u makes only requests of weight 0, so its users would send nothing",
        ),
        (
            "requests: [{path: /x}]\nusers: {my-kind: {rate: 1}}",
            "kind 'my-kind' is not a name of letters, digits and _",
        ),
        ("requests: [{path: /x}]\nusers: {u: {rate: 1}}\nhealth: ready", "Key 'health' has value 'ready': must start"),
        ("requests: []\nusers: {u: {rate: 1}}", "Key 'requests' has value []: must not be empty"),
        ("requests: [{path: /x}]", "Key 'users' is missing: it is required"),
        ("users: {u: {rate: '1'}}\nrequests: [{path: /x}]", "Key 'rate' has value '1': not a number (in users.u)"),
        ("requests: [{path: /x}]\nusers: {u: {rate: 1}}\nrequests: []", "key 'requests' appears twice in one mapping"),
        ("", "is empty; a scenario needs `requests` and `users`"),
        ("- a\n- b\n", "the top level must be a mapping with `requests` and `users`, not a list"),
        ("requests: [\n", "not valid YAML"),
    ],
)
def test_each_problem_names_the_file_the_key_and_the_value(write: WriteText, text: str, message: str) -> None:
    path = write(text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("bodies", "message"),
    [
        (None, "no such bodies file"),
        ('{"text": "a"}\n{"text": \n', "line 2 is not JSON (Expecting value, column 9)"),
        ("\n\n", "holds no body; give one JSON document per line"),
    ],
)
def test_a_bodies_file_that_cannot_be_used_names_the_request_and_the_file(
    write: WriteText, bodies: str | None, message: str
) -> None:
    if bodies is not None:
        write(bodies, "texts.jsonl")
    path = write("requests: [{name: classify, method: POST, path: /c, bodies: texts.jsonl}]\nusers: {u: {rate: 1}}")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: request 'classify': bodies 'texts.jsonl': {path.parent}/texts.jsonl")
    assert message in str(raised.value)


def test_a_missing_or_unreadable_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"scenario.yaml: no such file"):
        load_scenario(tmp_path / "scenario.yaml")
    with pytest.raises(ScenarioError, match=r": is a directory, not a scenario file"):
        load_scenario(tmp_path)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match=r"binary.yaml: not UTF-8 text"):
        load_scenario(tmp_path / "binary.yaml")


def test_parse_names_its_source() -> None:
    with pytest.raises(ScenarioError, match=r"^mine.yaml: Key 'users' is missing"):
        parse_scenario("requests: [{path: /x}]", source="mine.yaml")


def test_a_profiles_scenario_file_is_found_beside_its_thresholds_file_at_the_profiles_paces(
    write: WriteText, tmp_path: Path
) -> None:
    write(MINIMAL, "scenarios/classifier.yaml")
    thresholds = tmp_path / "thresholds.yaml"
    scenario = chosen_scenario(None, "scenarios/classifier.yaml", {"reader": Pace(rate=5)}, thresholds, "local")
    assert scenario.request_names() == ["POST /v1/classify"]
    assert scenario.users["reader"].rate == 5


def test_a_scenario_named_on_the_command_line_runs_at_its_own_paces(write: WriteText, tmp_path: Path) -> None:
    given = write(MINIMAL)
    scenario = chosen_scenario(given, None, {"ordinary": Pace(rate=0.1)}, tmp_path / "thresholds.yaml", "ci")
    assert scenario.users["reader"].rate == 2  # the profile's pace is for its own scenario_file


def test_without_a_file_a_profile_paces_the_workshops_kinds(tmp_path: Path) -> None:
    scenario = chosen_scenario(None, None, {"heavy": Pace(rate=0.4)}, tmp_path / "thresholds.yaml", "ci")
    assert scenario.users["heavy"].rate == 0.4
    assert scenario.users["ordinary"].between == [1, 3]


def test_a_pace_for_a_kind_the_file_lacks_names_the_profile_and_the_kinds(write: WriteText, tmp_path: Path) -> None:
    write(MINIMAL)
    thresholds = tmp_path / "thresholds.yaml"
    with pytest.raises(ScenarioError) as raised:
        chosen_scenario(None, "scenario.yaml", {"heavy": Pace(rate=1)}, thresholds, "local")
    assert str(raised.value) == (
        f"{thresholds}: profile 'local': pace: 'heavy' is not a kind of user of this scenario (kinds: 'reader') "
        "(scenario.yaml)"
    )


def test_the_handover_carries_the_scenario_to_locust_and_a_file_run_by_hand(write: WriteText) -> None:
    scenario = load_scenario(write(MINIMAL))
    assert handed_over(handover(scenario)) == scenario
    assert handed_over({FILE_ENV: str(write(MINIMAL, "other.yaml"))}) == scenario
    assert handed_over({HANDOVER_ENV: "", FILE_ENV: ""}) == workshop_scenario()


def test_a_scenario_too_large_for_locusts_environment_is_refused(write: WriteText) -> None:
    big = "x" * (MAX_HANDOVER_BYTES + 1)
    path = write(f"requests: [{{method: POST, path: /x, json: {{text: {big}}}}}]\nusers: {{u: {{rate: 1}}}}\n")
    with pytest.raises(ScenarioError, match=r"over the 65,536 that can be handed to Locust; move large inline bodies"):
        load_scenario(path)
