"""The perf workflow's required check (`perf gate`), decided from the jobs' results and their artifacts.

Every rule is here, each once, so that a unit test can hold it (tests/loadtest/workflow/):

- the build and the plan must have succeeded (nothing was measured without the images; the plan
  refuses, in every mode, what cannot run);
- matrix mode: every planned replica count must have an artifact,
  and the newest attempt of each is merged into one report (`python -m loadtest report`'s rules):
  a breach or a cell that could not be judged fails, an inconclusive cell follows
  `slo.on_inconclusive`; a cell job that failed while its results pass (it broke outside its run)
  or was cancelled fails;
- the comparison, when it ran (pull requests, dispatches with compare_with; required in compare
  mode): its newest comparison.json decides as `python -m loadtest compare` exits: regressed or
  could not be judged fails, inconclusive follows `on_inconclusive`, no change or improved passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from loadtest import exitcodes
from loadtest.records import SUMMARY_FILE, Comparison, RecordError, read_record
from loadtest.report import Report, ReportError, collect_cell, write_report
from loadtest.util.text import first_line
from loadtest.workflow.artifacts import COMPARISON_DOCUMENT, newest_cells, newest_comparison

Mode = Literal["matrix", "compare"]
Level = Literal["error", "notice", "info"]

SUCCESS, SKIPPED, FAILURE, CANCELLED = "success", "skipped", "failure", "cancelled"
JOB_RESULTS = (SUCCESS, FAILURE, CANCELLED, SKIPPED)
"""What GitHub's `needs.<job>.result` can be."""


class NeedsError(ValueError):
    """The jobs' results (`toJSON(needs)`) are not what the workflow gives; the message names the key."""


@dataclass(frozen=True)
class Job:
    """One upstream job as `toJSON(needs)` gives it."""

    result: str
    outputs: dict[str, str] = field(default_factory=dict)


def parse_needs(text: str, required: tuple[str, ...]) -> dict[str, Job]:
    """`toJSON(needs)` of the gate job: each job's result and outputs. NeedsError names what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NeedsError(f"not JSON ({error.msg} at character {error.pos}): {text[:80]!r}") from None
    if not isinstance(document, dict):
        raise NeedsError(f"not an object of jobs: {text[:80]!r}")
    jobs: dict[str, Job] = {}
    for name, value in document.items():
        result = value.get("result") if isinstance(value, dict) else None
        if result not in JOB_RESULTS:
            raise NeedsError(f"{name}.result is {result!r}, not one of {', '.join(JOB_RESULTS)}")
        outputs = value.get("outputs") or {}
        if not isinstance(outputs, dict) or not all(isinstance(text, str) for text in outputs.values()):
            raise NeedsError(f"{name}.outputs is {outputs!r}, not an object of strings")
        jobs[name] = Job(result, dict(outputs))
    missing = [name for name in required if name not in jobs]
    if missing:
        raise NeedsError(f"no job {', '.join(missing)} (have: {', '.join(jobs) or 'none'})")
    return jobs


@dataclass(frozen=True)
class Finding:
    """One line of the check's explanation: an error fails the check; a notice or an info does not."""

    level: Level
    text: str


@dataclass
class Decision:
    """The check: its findings in order, and what it read."""

    findings: list[Finding] = field(default_factory=list)
    report: Report | None = None
    report_folder: Path | None = None
    comparison: Comparison | None = None
    comparison_folder: Path | None = None

    @property
    def passed(self) -> bool:
        """No error among the findings."""
        return not any(finding.level == "error" for finding in self.findings)

    @property
    def code(self) -> int:
        """The verdict command's exit code: 0 the check passes, 1 it fails."""
        return exitcodes.PASSED if self.passed else exitcodes.BREACHED

    def error(self, text: str) -> None:
        self.findings.append(Finding("error", text))

    def notice(self, text: str) -> None:
        self.findings.append(Finding("notice", text))

    def info(self, text: str) -> None:
        self.findings.append(Finding("info", text))


def decide(mode: Mode, needs: dict[str, Job], cells: Path, comparisons: Path, report_out: Path) -> Decision:
    """The check for one run of the perf workflow: `needs` the jobs' results, `cells` and `comparisons`
    the folders the gate job downloaded the artifacts into, `report_out` where the merged report goes."""
    decision = Decision()
    build = needs["build"].result
    if build != SUCCESS:
        decision.error(f"build job: {build}: no image was built, so nothing could be measured (its log says why)")
    plan = needs["plan"].result
    if plan != SUCCESS:
        decision.error(f"plan job: {plan}: it refused this run or could not plan it (its log says why)")
    if mode == "matrix":
        _judge_matrix(decision, needs, cells, report_out)
    compare = needs["compare"].result
    if compare == SKIPPED:
        if mode == "compare" and build == SUCCESS and plan == SUCCESS:
            decision.error("mode compare: the comparison did not run (the build job's log says why: no base image)")
    else:
        _judge_comparison(decision, compare, comparisons)
    return decision


def _judge_matrix(decision: Decision, needs: dict[str, Job], root: Path, report_out: Path) -> None:
    plan, perf = needs["plan"], needs["perf"].result
    planned = _planned_replicas(plan.outputs.get("replicas", "")) if plan.result == SUCCESS else []
    downloaded = newest_cells(root)
    for older in downloaded.older:
        decision.info(f"{older.label}: replaced by a newer attempt of the same cell")
    for folder in downloaded.foreign:
        decision.notice(f"{folder}: not a cell's artifact (perf-r<N>-attempt-<A>): left out")
    for replicas in planned:
        if replicas not in downloaded.newest and needs["build"].result == SUCCESS:
            decision.error(
                f"the cell of {replicas} replica{'s' if replicas != 1 else ''}: no results: its job uploaded no "
                f"artifact (the perf jobs: {perf}; the cell's job log says why)"
            )
    chosen = [artifact for _, artifact in sorted(downloaded.newest.items())]
    for replicas, artifact in sorted(downloaded.newest.items()):
        if planned and replicas not in planned:
            decision.notice(f"{artifact.label}: {replicas} replicas is not in this run's plan {planned}; merged anyway")
        if not artifact.cells:
            decision.error(f"{artifact.label}: holds no cell folder (no run.json): the run stopped before its cell")
    folders = [folder for artifact in chosen for folder in artifact.cells]
    code: int | None = None
    if folders:
        try:
            report = write_report([collect_cell(folder) for folder in folders], report_out)
        except ReportError as error:
            decision.error(f"the cells' report: {error}")
        else:
            decision.report, decision.report_folder = report, report_out
            code = report.code
            _judge_report(decision, report.code, _on_inconclusive(report_out))
    if perf == CANCELLED:
        decision.error("perf job: cancelled: a cell was cut short (a timeout, or cancelled by hand)")
    elif perf == FAILURE and code == exitcodes.PASSED:
        decision.error("perf job: failure, yet every cell's newest results pass: a cell job broke outside its run")
    elif perf == SKIPPED and plan.result == SUCCESS and needs["build"].result == SUCCESS:
        decision.error("perf job: skipped: no cell ran")


def _planned_replicas(text: str) -> list[int]:
    """The plan job's `replicas` output: a JSON list of replica counts."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, int) and item > 0 for item in value):
        raise NeedsError(f"plan.outputs.replicas is {text!r}, not a JSON list of replica counts such as [1, 2]")
    return value


def _on_inconclusive(report_out: Path) -> str:
    """`slo.on_inconclusive` as the merged matrix.json carries it (the cells' thresholds.yaml)."""
    try:
        document = json.loads((report_out / "matrix.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return "fail"
    return str(document.get("on_inconclusive", "fail"))


def _judge_report(decision: Decision, code: int, policy: str) -> None:
    if code == exitcodes.PASSED:
        decision.info("the cells: every cell holds the SLO")
    elif code == exitcodes.BREACHED:
        decision.error("the cells: a cell breached a limit of the SLO (the table says which)")
    elif code == exitcodes.INCONCLUSIVE:
        if policy == "pass":
            decision.notice(
                "the cells: inconclusive (a cell did not measure the service), and slo.on_inconclusive is pass"
            )
        else:
            decision.error(
                "the cells: inconclusive: a cell did not measure the service (its summary says why); "
                f"slo.on_inconclusive is {policy}"
            )
    else:
        decision.error("the cells: a cell could not be judged (it failed, was cut short, or has no verdict)")


def _judge_comparison(decision: Decision, job: str, root: Path) -> None:
    downloaded = newest_comparison(root)
    for older in downloaded.older:
        decision.info(f"{older.label}: replaced by a newer attempt of the comparison")
    artifact = downloaded.newest.get(0)
    if artifact is None:
        decision.error(f"compare job: {job}: it left no {COMPARISON_DOCUMENT} (its log says why)")
        return
    try:
        comparison = read_record(artifact.folder / COMPARISON_DOCUMENT, Comparison)
    except RecordError as error:
        decision.error(f"the comparison: {error}")
        return
    decision.comparison, decision.comparison_folder = comparison, artifact.folder
    reasons = "; ".join(comparison.reasons) or "no reason given"
    if job == CANCELLED:
        decision.error("compare job: cancelled: the comparison was cut short")
    elif not comparison.complete:
        decision.error(f"the comparison: could not be judged: {first_line(reasons)}")
    elif comparison.verdict == "regressed":
        decision.error(f"the comparison: the head regressed against the base: {first_line(reasons)}")
    elif comparison.verdict == "inconclusive":
        if comparison.on_inconclusive == "pass":
            decision.notice(f"the comparison: inconclusive, and slo.on_inconclusive is pass: {first_line(reasons)}")
        else:
            decision.error(
                f"the comparison: inconclusive: the trials could not tell: {first_line(reasons)}; "
                f"slo.on_inconclusive is {comparison.on_inconclusive}"
            )
    else:
        decision.info(f"the comparison: {comparison.verdict} against the base")


COMPARISON_MARKDOWN = "comparison.md"
COMPARISON_LIMIT, MATRIX_LIMIT = 20_000, 40_000
"""Characters of each table in the Markdown (a PR comment holds 65,536)."""


def render_markdown(decision: Decision) -> str:
    """The check in Markdown, for the job summary and the PR comment: the decision, the comparison
    (without its picture: a summary cannot show the run's files), then the SLO matrix."""
    icon, word = ("✅", "passed") if decision.passed else ("❌", "failed")
    lines = [f"### {icon} perf gate {word}", ""]
    marks = {"error": "❌", "notice": "⚠️", "info": "•"}
    lines += [f"- {marks[finding.level]} {finding.text}" for finding in decision.findings]
    parts = ["\n".join(lines) + "\n"]
    if decision.comparison_folder is not None:
        path = decision.comparison_folder / COMPARISON_MARKDOWN
        if path.is_file():
            text = "\n".join(line for line in _read(path).splitlines() if not line.startswith("!["))
            parts.append(_capped(text, COMPARISON_LIMIT))
    if decision.report_folder is not None:
        path = decision.report_folder / SUMMARY_FILE
        if path.is_file():
            parts.append(_capped(_read(path), MATRIX_LIMIT))
    return "\n".join(parts)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _capped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text.rstrip("\n") + "\n"
    return text[:limit].rstrip("\n") + "\n\n… (cut: the whole table is in the run's artifacts)\n"
