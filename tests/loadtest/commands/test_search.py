"""`python -m loadtest search` on the command line: bad flags, variables and input exit 2 with one line that
names them (the options themselves: tests/loadtest/search/test_search_options.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from tests.usage import refusal


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--budget", "soon"], "argument --budget: 'soon' is not a Locust duration", id="budget"),
        pytest.param(["--cpus", "0.5,,1"], "argument --cpus: '0.5,,1' is not a comma-separated list", id="cpus"),
        pytest.param(["--capacity-steps", "-1"], "argument --capacity-steps: '-1' must be at least 0", id="steps"),
    ],
)
def test_bad_flags_name_the_flag_and_value(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in refusal(exitcodes.CANNOT_JUDGE, capsys, main, ["search", *argv])


def test_a_bad_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("LOADTEST_PROBE_TIME", "fast")
    assert main(["search", "--out", str(tmp_path / "out")]) == exitcodes.CANNOT_JUDGE
    assert "loadtest search: environment variable LOADTEST_PROBE_TIME='fast'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--profile", "nope"], "loadtest search: profile 'nope' is not in", id="unknown-profile"),
        pytest.param(["--replicas", "1,1"], "loadtest search: replica count 1 is listed twice", id="repeated"),
        pytest.param(
            ["--api-command", "serve --port 80"],
            "the process backend cannot be used: the API command 'serve --port 80' must contain {port}",
            id="command-without-port",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["search", "--out", str(tmp_path), *argv])
    assert code == exitcodes.CANNOT_JUDGE
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
