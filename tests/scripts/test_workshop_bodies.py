"""The workshop's committed bodies are what scripts/workshop_bodies.py writes from the Iris data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.scenario.bodies import read_bodies
from scripts import workshop_bodies


def test_the_committed_file_is_the_scripts_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert workshop_bodies.main(["--check"]) == 0
    assert "up to date (150 bodies)" in capsys.readouterr().out


def test_every_body_is_one_iris_flower_as_the_api_takes_it() -> None:
    bodies = [json.loads(body) for body in read_bodies(workshop_bodies.OUTPUT)]
    assert len(bodies) == 150
    assert all(list(body) == ["features"] and len(body["features"]) == 4 for body in bodies)
    assert bodies[0] == {"features": [5.1, 3.5, 1.4, 0.2]}  # the data set's first row


def test_check_fails_when_the_file_differs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stale = tmp_path / "stale.jsonl"
    stale.write_text('{"features": [0, 0, 0, 0]}\n', encoding="utf-8")
    monkeypatch.setattr(workshop_bodies, "OUTPUT", stale)
    assert workshop_bodies.main(["--check"]) == 1
