"""scripts/ci_plan.py: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest import exitcodes
from scripts.ci_plan import main, parse_replica_list, plan_replicas

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", [1]), ("1,2", [1, 2]), (" 4 , 1,2 ", [4, 1, 2]), ("10", [10])],
)
def test_parse_replica_list(text: str, expected: list[int]) -> None:
    assert parse_replica_list(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "'0' must be at least 1"),
        ("1,x", "'x' is not a whole number"),
        ("1,,2", "is not a comma-separated list such as 1,2"),
        ("-1", "'-1' must be at least 1"),
        ("1.5", "'1.5' is not a whole number"),
        ("2,1,2", "2 is listed twice"),
    ],
)
def test_parse_replica_list_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"replicas '{text}'") as error:
        parse_replica_list(text)
    assert problem in str(error.value)


def test_blank_input_takes_the_profiles_replicas(tmp_path: Path) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    text = (ROOT / "thresholds.yaml").read_text().replace("replicas: [1, 2]", "replicas: [3, 1]", 1)
    thresholds.write_text(text)
    assert plan_replicas("  ", "ci", thresholds) == [3, 1]
    assert plan_replicas("2", "ci", thresholds) == [2]


def test_main_prints_a_github_output_line(capsys: pytest.CaptureFixture[str]) -> None:
    ci = plan_replicas("", "ci", ROOT / "thresholds.yaml")
    assert main(["--replicas", "", "--thresholds", str(ROOT / "thresholds.yaml")]) == exitcodes.PASSED
    key, _, value = capsys.readouterr().out.strip().partition("=")
    assert (key, json.loads(value)) == ("replicas", ci)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replicas", "1,0"], "'0' must be at least 1"),
        (["--profile", "nope"], "no profile 'nope' (have: "),
        (["--thresholds", "missing.yaml"], "missing.yaml"),
    ],
)
def test_main_exits_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("INPUT_REPLICAS", raising=False)
    assert main(argv) == exitcodes.CANNOT_JUDGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and "Traceback" not in captured.err
