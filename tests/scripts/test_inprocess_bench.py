"""scripts/inprocess_bench.py: the per-request cost of the app's parts, without sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.inprocess_bench import main
from tests.usage import usage_error


def test_a_short_run_prints_every_target_and_the_inference_split(
    api_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--rounds", "2", "--calls", "5"]) == 0
    out = capsys.readouterr().out
    for name in (
        "GET /",
        "POST /diagnostic/no-body",
        "POST /diagnostic/validate-only",
        "POST /predict",
        "inference step",
        "ONNX Runtime call",
    ):
        assert name in out
    assert "floor +   0.0" in out.splitlines()[1]  # the first target is the floor


@pytest.mark.usefixtures("fresh_settings")
def test_a_missing_model_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "nowhere"))
    assert main(["--rounds", "1", "--calls", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "nowhere" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag", [["--rounds", "0"], ["--calls", "x"]])
def test_bad_flags_exit_2_naming_the_flag(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert f"argument {flag[0]}: " in usage_error(capsys, main, flag)
