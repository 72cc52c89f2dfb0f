"""The scenario's files mounted into the compose backend's Locust containers (runner/backends/compose_scenario.py)."""

from __future__ import annotations

from pathlib import Path

from loadtest.runner.backends.compose_scenario import scenario_mounts, scenario_override
from loadtest.scenario import WORKSHOP_SCENARIO, load_scenario, workshop_scenario
from loadtest.scenario.prepared import PreparedRequest


def test_the_workshops_bodies_are_mounted_and_named_where_the_containers_see_them() -> None:
    mounts = scenario_mounts(workshop_scenario())
    target = "/scenario/bodies-0-workshop_iris.jsonl"
    assert mounts.volumes == [f"{WORKSHOP_SCENARIO.parent / 'workshop_iris.jsonl'}:{target}:ro"]
    assert mounts.scenario.request("POST /predict").bodies == target
    assert mounts.scenario.requests[1:] == workshop_scenario().requests[1:]  # no bodies, nothing to mount
    assert mounts.scenario.users == workshop_scenario().users
    assert mounts.locustfile == "loadtest/locustfile.py"  # the image's own


def test_two_bodies_files_of_one_name_stay_apart_and_a_locustfile_of_your_own_is_mounted(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "bodies.jsonl").write_text('{"x": 1}\n')
    (tmp_path / "mine.py").write_text("")
    (tmp_path / "scenario.yaml").write_text(
        "requests:\n  - {path: /a, method: POST, bodies: a/bodies.jsonl}\n"
        "  - {path: /b, method: POST, bodies: b/bodies.jsonl}\nusers: {u: {rate: 1}}\n"
    )
    mounts = scenario_mounts(load_scenario(tmp_path / "scenario.yaml"), tmp_path / "mine.py")
    assert mounts.volumes == [
        f"{tmp_path}/a/bodies.jsonl:/scenario/bodies-0-bodies.jsonl:ro",
        f"{tmp_path}/b/bodies.jsonl:/scenario/bodies-1-bodies.jsonl:ro",
        f"{tmp_path}/mine.py:/scenario/mine.py:ro",
    ]
    assert mounts.locustfile == "/scenario/mine.py"
    override = scenario_override(mounts)
    assert override == {
        "services": {"locust-master": {"volumes": mounts.volumes}, "locust-worker": {"volumes": mounts.volumes}}
    }


def test_the_handed_over_scenario_reads_its_bodies_at_the_mounted_paths(tmp_path: Path) -> None:
    """What a container does with the handover: read each bodies file where the mount put it."""
    mounts = scenario_mounts(workshop_scenario())
    source, target, _ = mounts.volumes[0].split(":")
    request = mounts.scenario.request("POST /predict")
    assert PreparedRequest.of(request.model_copy(update={"bodies": source})).bodies
    assert request.bodies == target
