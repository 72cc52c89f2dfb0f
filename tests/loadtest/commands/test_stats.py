"""`python -m loadtest stats`: what it says when no cell is running (a running one: test_ui.py)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from loadtest.records import LiveCell
from loadtest.runner.resources import write_state


def test_no_cell_in_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(tmp_path)]) == exitcodes.CANNOT_JUDGE
    err = capsys.readouterr().err
    assert f"no cell of `python -m loadtest ui` is running in {tmp_path}" in err
    assert "make ui" in err


def test_a_cell_whose_ui_has_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    state = LiveCell(
        pid=int(ended.stdout),
        backend="process",
        cell="r1-cpu0.5-mem256m",
        web_url="http://127.0.0.1:8089",
        started_at=datetime.now(UTC),
        replicas=[],
    )
    write_state(tmp_path / "r1-cpu0.5-mem256m", state)
    assert main(["stats", str(tmp_path), "--interval", "0.1"]) == exitcodes.CANNOT_JUDGE
    assert "r1-cpu0.5-mem256m: not running (its `python -m loadtest ui` has ended)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--interval", "0"], "argument --interval: '0' must be greater than 0"), (["--count", "x"], "not a whole")],
)
def test_bad_values_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stats", *argv])
    assert message in capsys.readouterr().err
