"""The gate as the runner and the command call it (loadtest/gate/run_folder.py): judge a folder, write the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.gate.reading import GateInputError
from loadtest.gate.run_folder import judge_folder, write_cannot_judge
from loadtest.records import Verdict, read_record
from loadtest.thresholds import Slo
from tests.loadtest import histogram_files as hist
from tests.loadtest.locust_csv import SyntheticRun, healthy_run


def test_verdict_json_and_the_summary_go_into_the_run_folder(tmp_path: Path, slo: Slo) -> None:
    run_dir = healthy_run(failures=99, p95=1000).write(tmp_path / "run")
    _, verdict = judge_folder(run_dir, slo)
    assert verdict.passed
    assert read_record(run_dir / "verdict.json", Verdict) == verdict
    document = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))
    assert list(document) == [
        "outcome",
        "reasons",
        "passed",
        "error_rate",
        "p95_ms",
        "rps",
        "requests",
        "checks",
        "figures",
        "slo",
        "window",
        "delivery",
        "resources",
        "generator_capacity_rps",
        "source",
        "loop",
        "latency",
        "sequential",
        "generator_lag",
        "locust_figures",
        "points",
        "measured",
    ]
    assert (document["source"], document["loop"], document["latency"]) == ("locust", "closed", [])
    assert document["measured"] is True
    assert (document["outcome"], document["reasons"]) == ("pass", [])
    assert document["checks"][0] == {
        "name": "max_error_rate",
        "scope": "Aggregated",
        "value": 0.0099,
        "limit": 0.01,
        "passed": True,
        "allowed": None,
        "estimate": None,
        "lower": None,
        "upper": None,
        "state": None,
        "more_seconds": None,
    }
    assert (run_dir / "summary.md").read_text(encoding="utf-8").startswith("## ✅")
    assert [path.name for path in run_dir.iterdir() if path.name.startswith(".")] == []  # no temp files


def test_a_verdict_from_the_histograms_reads_back_whole(tmp_path: Path, slo: Slo) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    hist.steady(30, hist.n_in_100(100, 2)).write(run_dir)
    _, verdict = judge_folder(run_dir, slo)
    assert verdict.source == "histograms"
    assert read_record(run_dir / "verdict.json", Verdict) == verdict
    assert "### Latency" in (run_dir / "summary.md").read_text(encoding="utf-8")


def test_the_files_go_where_they_are_asked_to(tmp_path: Path, slo: Slo) -> None:
    run_dir = healthy_run().write(tmp_path / "run")
    judge_folder(run_dir, slo, json_path=tmp_path / "out" / "v.json", summary_path=tmp_path / "out" / "s.md")
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"v.json", "s.md"}
    assert not (run_dir / "verdict.json").exists()
    assert not (run_dir / "summary.md").exists()


def test_nothing_is_written_when_the_run_cannot_be_judged(tmp_path: Path, slo: Slo) -> None:
    run_dir = SyntheticRun(entries=[]).write(tmp_path / "run")
    with pytest.raises(GateInputError):
        judge_folder(run_dir, slo)
    assert not (run_dir / "verdict.json").exists()
    assert not (run_dir / "summary.md").exists()


def test_cannot_judge_removes_a_stale_verdict_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "verdict.json").write_text('{"passed": true}', encoding="utf-8")
    write_cannot_judge("x.csv: empty", tmp_path / "verdict.json", tmp_path / "summary.md")
    assert not (tmp_path / "verdict.json").exists()
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ⚠️ Performance gate CANNOT JUDGE")
    assert "x.csv: empty" in summary


def test_cannot_judge_creates_no_folder(tmp_path: Path) -> None:
    write_cannot_judge("gone", tmp_path / "nowhere" / "verdict.json", tmp_path / "nowhere" / "summary.md")
    assert not (tmp_path / "nowhere").exists()
