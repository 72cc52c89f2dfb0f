"""`python -m loadtest gate` as a user runs it: its exit codes, its messages, its output files.

The exit codes and the real Locust runs go through a real `python -m loadtest` subprocess;
the option and message tables call the same entry point (`loadtest.cli.main`) in-process,
which is many times faster (every process start imports pandas).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import exitcodes
from loadtest.cli import main
from tests.loadtest.locust_csv import REAL_RUNS, SyntheticRun, healthy_run
from tests.usage import assert_cannot_judge

if TYPE_CHECKING:
    from tests.conftest import Cli, WriteText

REPO_ROOT = Path(__file__).resolve().parents[3]


def gate(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LOADTEST_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "loadtest", "gate", *map(str, args)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_reason(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == exitcodes.CANNOT_JUDGE, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gate: cannot judge: ")
    assert [fragment for fragment in fragments if fragment not in lines[0]] == []


@pytest.mark.integration
def test_pass_exits_0_with_a_table_and_both_files(tmp_path: Path) -> None:
    run_dir = healthy_run(failures=99, p95=1000).write(tmp_path / "run")
    done = gate(run_dir)
    assert done.returncode == exitcodes.PASSED, done.stderr
    assert done.stdout.startswith("Performance gate PASSED: all 2 checks hold")
    assert "Aggregated" in done.stdout
    assert "POST /predict" in done.stdout
    assert json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))["passed"] is True
    assert (run_dir / "summary.md").read_text(encoding="utf-8").startswith("## ✅")


@pytest.mark.integration
@pytest.mark.parametrize(("failures", "p95"), [(100, 1000), (0, 1001)], ids=["1.00%-errors", "p95-1001"])
def test_breach_exits_1(tmp_path: Path, failures: int, p95: int) -> None:
    run_dir = healthy_run(failures=failures, p95=p95).write(tmp_path / "run")
    done = gate(run_dir)
    assert done.returncode == exitcodes.BREACHED, done.stderr
    assert "FAILED: 1 of 2 checks breached" in done.stdout
    assert "BREACHED" in done.stdout
    assert json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))["passed"] is False


@pytest.mark.integration
def test_zero_requests_exit_2(tmp_path: Path) -> None:
    run_dir = SyntheticRun(entries=[]).write(tmp_path / "run")
    assert_one_line_reason(gate(run_dir), "locust_stats.csv: zero requests")


@pytest.mark.integration
def test_cannot_judge_exit_2_removes_stale_verdict_and_explains(tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    assert gate(run_dir).returncode == exitcodes.PASSED
    (run_dir / "locust_stats.csv").write_bytes(b"")
    done = gate(run_dir)
    assert_one_line_reason(done, f"{run_dir / 'locust_stats.csv'}: empty")
    assert done.stdout == ""
    assert not (run_dir / "verdict.json").exists()
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ⚠️ Performance gate CANNOT JUDGE")
    assert "locust_stats.csv: empty" in summary


def test_missing_run_dir_exit_2_creates_nothing(loadtest_cli: Cli, tmp_path: Path) -> None:
    assert_one_line_reason(loadtest_cli("gate", tmp_path / "nope"), "nope: no such folder")
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("slo: {max_error_rate: 0.01, max_p95_ms: abc}\n", "Threshold 'max_p95_ms' has value 'abc': not a number"),
        ("slo: {max_error_rate: 0.01}\n", "Threshold 'max_p95_ms' is missing"),
        ("slo: {max_error_rate: 0.01, max_p95_ms: 1000, p99: 5}\n", "Threshold 'p99' has value 5: unknown key"),
        ("", "is empty"),
        ("slo: [\n", "not valid YAML"),
    ],
    ids=["not-a-number", "missing-limit", "unknown-key", "empty", "invalid-yaml"],
)
def test_malformed_thresholds_exit_2(
    loadtest_cli: Cli, write_thresholds: WriteText, tmp_path: Path, text: str, message: str
) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    path = write_thresholds(text)
    assert_one_line_reason(loadtest_cli("gate", run_dir, "--thresholds", path), f"{path}: ", message)


def test_missing_thresholds_file_exit_2(loadtest_cli: Cli, tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    assert_one_line_reason(
        loadtest_cli("gate", run_dir, "--thresholds", tmp_path / "none.yaml"), "none.yaml: no such file"
    )


def test_thresholds_from_the_environment_and_the_flag_wins(
    loadtest_cli: Cli, write_thresholds: WriteText, tmp_path: Path
) -> None:
    run_dir = healthy_run(p95=600).write(tmp_path / "run")
    strict = {
        "LOADTEST_THRESHOLDS": str(write_thresholds("slo: {max_error_rate: 0.01, max_p95_ms: 500}", "strict.yaml"))
    }
    lenient = write_thresholds("slo: {max_error_rate: 0.01, max_p95_ms: 700}", "lenient.yaml")
    assert loadtest_cli("gate", run_dir, env=strict).returncode == exitcodes.BREACHED
    assert loadtest_cli("gate", run_dir, "--thresholds", lenient, env=strict).returncode == exitcodes.PASSED


def test_per_endpoint_limits_through_the_cli(loadtest_cli: Cli, write_thresholds: WriteText, tmp_path: Path) -> None:
    run_dir = healthy_run(p95=600).write(tmp_path / "run")
    path = write_thresholds(
        """
        slo:
          max_error_rate: 0.01
          max_p95_ms: 1000
          endpoints:
            "POST /predict": {max_p95_ms: 500}
        """
    )
    done = loadtest_cli("gate", run_dir, "--thresholds", path)
    assert done.returncode == exitcodes.BREACHED
    checks = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))["checks"]
    assert [(c["scope"], c["passed"]) for c in checks] == [
        ("Aggregated", True),
        ("Aggregated", True),
        ("POST /predict", False),
    ]


def test_outputs_where_asked(loadtest_cli: Cli, tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    step_summary = tmp_path / "step_summary.md"
    done = loadtest_cli(
        "gate", run_dir, "--json", tmp_path / "out" / "v.json", env={"LOADTEST_SUMMARY": str(step_summary)}
    )
    assert done.returncode == exitcodes.PASSED
    assert json.loads((tmp_path / "out" / "v.json").read_text(encoding="utf-8"))["requests"] == 10_000
    assert step_summary.read_text(encoding="utf-8").startswith("## ✅")
    assert not (run_dir / "verdict.json").exists()
    assert not (run_dir / "summary.md").exists()


def test_unwritable_output_exit_2_without_traceback(loadtest_cli: Cli, tmp_path: Path) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    done = loadtest_cli("gate", run_dir, "--json", tmp_path / "file" / "verdict.json")
    assert_cannot_judge(done, f"{tmp_path / 'file' / 'verdict.json'}: cannot write: Not a directory")


def test_help_names_every_option_and_its_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["gate", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in (
        "--thresholds",
        "LOADTEST_THRESHOLDS",
        "--json",
        "LOADTEST_VERDICT_JSON",
        "--summary",
        "LOADTEST_SUMMARY",
        "--prefix",
        "LOADTEST_CSV_PREFIX",
        "0 pass, 1 breach, 2 the input cannot be judged, 3 inconclusive",
    ):
        assert option in text


@pytest.mark.integration
@pytest.mark.parametrize(
    ("scenario", "code", "stdout", "stderr"),
    [
        ("healthy", 0, "PASSED: all 2 checks hold", ""),
        # Two replicas behind SO_REUSEPORT, one SIGKILLed mid-run: a handful of closed
        # connections, well under 1%: the gate passes and still lists them.
        ("replica-killed", 0, "HTTPConnectionClosed('connection closed.')", ""),
        ("api-down", 1, "ConnectionRefusedError(111, 'Connection refused')", ""),
        ("wrong-path", 1, "LocustBadStatusCode(code=404)", ""),
        ("locust-killed", 2, "", "the files are from different moments"),
    ],
)
def test_real_locust_runs(tmp_path: Path, scenario: str, code: int, stdout: str, stderr: str) -> None:
    run_dir = tmp_path / scenario
    run_dir.mkdir()
    for path in (REAL_RUNS / scenario).glob("locust_*.csv"):
        (run_dir / path.name).write_bytes(path.read_bytes())
    done = gate(run_dir)
    assert done.returncode == code, done.stdout + done.stderr
    assert stdout in done.stdout
    assert stderr in done.stderr
    assert "Traceback" not in done.stderr


SCENARIO_ASKING = (
    "requests: [{{method: POST, path: /predict}}, {{path: /health}}, {{path: /}}]\nusers: {{u: {{rate: {rate}}}}}\n"
)


@pytest.mark.parametrize(("rate", "code"), [(5, exitcodes.PASSED), (10, exitcodes.BREACHED)])
def test_a_scenario_gives_a_run_without_run_json_its_delivery_check(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    rate: int,
    code: int,
) -> None:
    """Locust run by hand (no run.json): the scenario says what its ~91 users asked, the run served 500 req/s."""
    for key in [key for key in os.environ if key.startswith("LOADTEST_")]:
        monkeypatch.delenv(key)
    run_dir = healthy_run().write(tmp_path / "run")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO_ASKING.format(rate=rate), encoding="utf-8")
    thresholds = REPO_ROOT / "thresholds.yaml"
    assert main(["gate", str(run_dir), "--thresholds", str(thresholds), "--scenario", str(scenario)]) == code
    verdict = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))
    delivery = verdict["delivery"]
    assert delivery["expected_rps"] == pytest.approx(delivery["users"] * rate)
    assert delivery["ratio"] == pytest.approx(500 / delivery["expected_rps"])
    capsys.readouterr()


def test_a_scenario_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [key for key in os.environ if key.startswith("LOADTEST_")]:
        monkeypatch.delenv(key)
    run_dir = healthy_run().write(tmp_path / "run")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("requests: [{path: /x, weight: 0}]\nusers: {u: {rate: 1}}\n", encoding="utf-8")
    code = main(["gate", str(run_dir), "--thresholds", str(REPO_ROOT / "thresholds.yaml"), "--scenario", str(scenario)])
    assert code == exitcodes.CANNOT_JUDGE
    err = capsys.readouterr().err
    assert f"gate: cannot judge: {scenario}: Key 'requests'" in err
    assert "every request has weight 0" in err
