"""`inference-gate init` (loadtest/commands/init.py): the starter files, written once, never over a file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loadtest import exitcodes, packaged
from loadtest.cli import main
from loadtest.scenario.loading import load_scenario
from loadtest.scenario.model import Scenario
from loadtest.thresholds import load_thresholds


def test_init_writes_both_commented_starters_into_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LOADTEST_INIT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == exitcodes.PASSED
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scenario.yaml", "thresholds.yaml"]
    for name in packaged.STARTER_FILES:
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text == (packaged.STARTER_DIR / name).read_text(encoding="utf-8")
        assert text.startswith(f"# {name}: ")
        assert "docs/" in text  # each says where its reference is
    out = capsys.readouterr().out
    assert f"wrote thresholds.yaml, scenario.yaml in {tmp_path}" in out
    assert "inference-gate run --scenario scenario.yaml --api-command" in out


def test_the_starter_thresholds_are_valid_and_every_profile_reads() -> None:
    thresholds = load_thresholds(packaged.STARTER_DIR / "thresholds.yaml")
    # `run`'s default profile, and the reusable workflow's (tests/workflows checks that they fit a runner).
    assert set(thresholds.profiles) == {"local", "ci", "compare"}
    assert thresholds.slo.max_p95_ms == 500
    assert thresholds.profiles["local"].scenario_file == "scenario.yaml"  # the starter beside it


def test_the_starter_scenario_is_a_valid_scenario_file_that_names_its_request_and_asks_a_rate() -> None:
    scenario = load_scenario(packaged.STARTER_DIR / "scenario.yaml")
    assert scenario.health == "/health"
    assert [(request.name, request.method, request.path) for request in scenario.requests] == [
        ("predict", "POST", "/predict")
    ]
    assert scenario.requests[0].expect.json_keys == ["prediction"]
    assert set(scenario.users) == {"client"}
    assert scenario.users["client"].rate == 1.0
    # Every top-level key of the format is in the starter, so a newcomer sees each one.
    document = yaml.safe_load((packaged.STARTER_DIR / "scenario.yaml").read_text(encoding="utf-8"))
    assert set(document) == set(Scenario.model_fields)


@pytest.mark.parametrize("existing", [["thresholds.yaml"], ["scenario.yaml"], ["thresholds.yaml", "scenario.yaml"]])
def test_an_existing_file_is_never_overwritten_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: list[str]
) -> None:
    for name in existing:
        (tmp_path / name).write_text("mine\n", encoding="utf-8")
    assert main(["init", "--dir", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(existing)
    assert all((tmp_path / name).read_text(encoding="utf-8") == "mine\n" for name in existing)
    err = capsys.readouterr().err
    assert f"loadtest init: {' and '.join(existing)} already exist" in err
    assert f"in {tmp_path}: init never overwrites a file, so nothing was written" in err


def test_a_folder_that_cannot_be_written_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("", encoding="utf-8")
    assert main(["init", "--dir", str(not_a_folder)]) == exitcodes.CANNOT_JUDGE
    assert f"loadtest init: cannot write the starter files in {not_a_folder}: " in capsys.readouterr().err
