"""`python -m loadtest plan`: the perf workflow's matrix from the dispatch input or thresholds.yaml."""

from __future__ import annotations

import json
import os
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


@pytest.mark.parametrize(
    ("replicas", "cpus", "cores", "crowded"),
    [
        ("1,2", "1.0", 4, []),  # public repositories' runners: 2 x 1.0 + 1 for Locust fits
        ("1,2", "1.0", 2, ["r2-cpu1.0-mem1g"]),  # private repositories' runners: the 2-replica cell does not
        ("1,2,4", "0.5", 2, ["r4-cpu0.5-mem1g"]),
        ("1", "0.5,1.0,1.5", 2, ["r1-cpu1.5-mem1g"]),
        ("1", "1.0", 1, ["r1-cpu1.0-mem1g"]),
        ("3", "1.0", 4, []),
    ],
)
def test_cells_that_leave_no_core_for_locust_are_warned_about(
    replicas: str, cpus: str, cores: int, crowded: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps' summary\n")
    argv = ["--replicas", replicas, "--cpus", cpus, "--cores", str(cores), "--summary", str(summary)]
    assert main(["plan", *argv]) == exitcodes.PASSED
    captured = capsys.readouterr()
    assert captured.out == f"replicas=[{', '.join(replicas.split(','))}]\n"
    annotations = [line for line in captured.err.splitlines() if line.startswith("::warning")]
    assert [line.split("::")[2].split(":")[0] for line in annotations] == [f"cell {cell}" for cell in crowded]
    text = summary.read_text()
    assert text.startswith("earlier steps' summary\n")
    assert all(f"cell {cell}:" in text for cell in crowded)
    assert (f"The runner has {cores} cores" in text) is bool(crowded)


def test_the_warning_names_the_cores_needed_and_had(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "--replicas", "2", "--cpus", "1.0", "--cores", "2"])
    (warning,) = capsys.readouterr().err.splitlines()
    assert warning == (
        "::warning title=Runner too small for a cell::cell r2-cpu1.0-mem1g: 2 x 1.0 CPU for the API + 1 core for "
        "Locust = 3 cores, but the runner has 2; Locust and the replicas will share cores, so the cell measures the "
        "load generator as much as the API"
    )


def test_the_cores_default_to_this_machines(capsys: pytest.CaptureFixture[str]) -> None:
    cores = len(os.sched_getaffinity(0))
    main(["plan", "--replicas", str(cores), "--cpus", "1.0"])
    assert f"but the runner has {cores};" in capsys.readouterr().err


def test_the_profiles_cpus_are_used_without_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    text = (ROOT / "thresholds.yaml").read_text()
    thresholds.write_text(text.replace("replicas: [1, 2]\n    cpus: 1.0", "replicas: [1, 2]\n    cpus: 0.5", 1))
    main(["plan", "--thresholds", str(thresholds), "--cores", "2"])
    assert "::warning" not in capsys.readouterr().err
    main(["plan", "--thresholds", str(ROOT / "thresholds.yaml"), "--cores", "2"])
    assert "cell r2-cpu1.0-mem1g:" in capsys.readouterr().err
