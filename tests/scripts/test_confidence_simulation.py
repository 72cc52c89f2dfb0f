"""The confidence simulation script: its tables, on a few runs."""

from __future__ import annotations

import pytest

from scripts import confidence_simulation


def test_it_prints_the_error_rates_and_issue_21s_three_services(capsys: pytest.CaptureFixture[str]) -> None:
    assert confidence_simulation.main(["--runs", "3", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "rho    false breach  false pass" in out
    rows = {line.split()[0]: line for line in out.splitlines() if "of 100" in line}
    assert rows["2"].split()[3:] == ["pass", "60", "s"]
    assert rows["5"].split()[3:] == ["inconclusive", "120", "s"]
    assert rows["12"].split()[3:] == ["breach", "15", "s"]
