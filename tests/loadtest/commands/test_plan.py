"""`python -m loadtest plan`: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main

ROOT = Path(__file__).resolve().parents[3]


def planned(capsys: pytest.CaptureFixture[str], *argv: str) -> list[int]:
    assert main(["plan", *argv]) == exitcodes.PASSED
    key, _, value = capsys.readouterr().out.strip().partition("=")
    assert key == "replicas"
    return list(json.loads(value))


@pytest.mark.parametrize(("text", "expected"), [("1", [1]), ("1,2", [1, 2]), (" 4 , 1,2 ", [4, 1, 2]), ("10", [10])])
def test_the_input_wins(text: str, expected: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert planned(capsys, "--replicas", text, "--thresholds", str(ROOT / "thresholds.yaml")) == expected


def test_no_input_takes_the_profiles_replicas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    text = (ROOT / "thresholds.yaml").read_text().replace("replicas: [1, 2]", "replicas: [3, 1]", 1)
    thresholds.write_text(text)
    assert planned(capsys, "--thresholds", str(thresholds)) == [3, 1]


def test_an_empty_variable_is_no_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOADTEST_REPLICAS", "")
    monkeypatch.setenv("LOADTEST_THRESHOLDS", str(ROOT / "thresholds.yaml"))
    monkeypatch.setenv("LOADTEST_PROFILE", "local")
    assert planned(capsys) == [1, 2]
    monkeypatch.setenv("LOADTEST_REPLICAS", "4")
    assert planned(capsys) == [4]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "nope"], "no profile 'nope' (have: "),
        (["--thresholds", "missing.yaml"], "missing.yaml"),
        (["--replicas", "2,1,2"], "replica count 2 is listed twice"),
    ],
)
def test_a_bad_plan_exits_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("LOADTEST_REPLICAS", raising=False)
    assert main(["plan", *argv]) == exitcodes.CANNOT_JUDGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "'0' must be at least 1"),
        ("1,x", "'x' is not a whole number"),
        ("1,,2", "is not a comma-separated list such as 1,2"),
        ("1.5", "'1.5' is not a whole number"),
    ],
)
def test_a_bad_input_is_a_usage_error(text: str, problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["plan", "--replicas", text])
    assert stop.value.code == 2
    assert problem in capsys.readouterr().err
