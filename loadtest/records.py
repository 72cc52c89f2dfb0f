"""The files a cell leaves, as typed records: `run.json` (what ran) and `verdict.json` (the gate's decision).

Both are written and read back through these models only: the runner and the gate write them,
`python -m loadtest report` validates them on reading, so a damaged or foreign file gets a clear
error instead of a wrong table.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from loadtest.scenario import Scenario
from loadtest.thresholds import ComparedMetric, CompareSettings, Slo
from loadtest.thresholds.schema import RENAMED_METRICS
from loadtest.util.files import write_atomic

SCHEMA_VERSION = 1

RUN_FILE = "run.json"
VERDICT_FILE = "verdict.json"
SUMMARY_FILE = "summary.md"
"""A cell's Markdown summary, and the matrix's in the results folder."""

CellStatus = Literal["completed", "interrupted", "failed"]
"""completed: the load ran its full time, or until the runner stopped it early (`stopped_early`) and judged
what it had; interrupted: cut short by a signal; failed: the run broke."""


class RecordError(Exception):
    """A record file is missing, unreadable or not one of ours; the message names the file."""


class Record(BaseModel):
    """The base of every file this tool writes and reads back: an unknown key is an error."""

    model_config = ConfigDict(extra="forbid")


_R = TypeVar("_R", bound=Record)


def read_record(path: Path, model: type[_R]) -> _R:
    """Read and validate a record file; RecordError names the file and the first problem."""
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as error:
        raise RecordError(f"{path}: cannot be read: {error.strerror}") from None
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise RecordError(f"{path}: not a {path.name} of this tool: {where}: {first['msg']}") from None


def write_record(path: Path, record: Record) -> None:
    """Write a record file atomically (pretty JSON, trailing newline)."""
    write_atomic(path, record.model_dump_json(indent=2) + "\n")


class ReplicaLimits(Record):
    """The limits one replica actually runs under, read back from the kernel or from Docker."""

    source: str
    """Where they were read: "cgroup v1", "cgroup v2" or "docker inspect"."""
    cpus: float | None
    """CPU quota / period (Docker's --cpus); None: no CPU limit."""
    cpu_quota_us: int | None
    cpu_period_us: int | None
    memory_bytes: int | None
    """None: no memory limit."""
    swap_bytes: int | None
    """Swap allowed on top of memory_bytes: 0 = none; None = not limited or not accounted."""
    cpuset: str | None = None
    """The CPUs it was pinned to ("1", "0-1": cpuset.cpus, Docker's --cpuset-cpus); None: not pinned."""
    paths: list[str] = []
    """The cgroup folders (process backend) or the container id (compose)."""


class ReplicaUsage(Record):
    """What one replica used over the cell (cumulative over its restarts). None: not available."""

    cpu_seconds: float | None
    cpu_periods: int | None
    cpu_throttled_periods: int | None
    cpu_throttled_seconds: float | None
    memory_peak_bytes: int | None
    oom_kills: int | None
    memory_current_bytes: int | None = None
    """Memory in use when it was read, reclaimable page cache left out as `docker stats` counts it
    (a live figure: once the replica's processes are gone, what little the cgroup still holds)."""


class ReplicaRecord(Record):
    """One API replica: a `python -m api` process slot (process backend) or a container (compose)."""

    index: int
    name: str
    pids: list[int] = []
    """Every process that served as this replica, in order (restarts add one each)."""
    restarts: int = 0
    exit_codes: list[int] = []
    """How its processes ended while the cell ran (negative: killed by that signal)."""
    oom_killed: bool | None = None
    limits: ReplicaLimits | None = None
    usage: ReplicaUsage | None = None


class LocustInfo(Record):
    """How Locust was run for the cell."""

    command: list[str]
    processes: int
    """Locust worker processes (1: a single standalone process)."""
    exit_code: int | None
    open_files_limit: int | None
    """RLIMIT_NOFILE soft limit Locust ran with."""
    log: str
    """The captured Locust output, relative to the cell folder."""


class GeneratorCapacity(Record):
    """What this machine's Locust delivered of the scenario against a target that costs nothing."""

    per_worker_rps: float
    """One Locust process, all of its core."""
    workers: int
    """The Locust processes of this cell."""
    total_rps: float
    """per_worker_rps x workers: the most this cell's Locust can generate."""
    users: int
    """Users in the calibration run (every one without a wait)."""
    seconds: float
    """Length of the measured part of the calibration run."""


class ResourceSample(Record):
    """The API's replicas and Locust at one moment of a cell (cumulative counters, summed)."""

    t: float
    """Unix time, seconds."""
    api_cpu_seconds: float | None = None
    api_cpu_periods: int | None = None
    api_cpu_throttled_periods: int | None = None
    api_memory_peak_bytes: int | None = None
    """The largest replica's peak memory so far."""
    locust_cpu_seconds: float | None = None
    """CPU time of every Locust process so far."""


class MatrixInfo(Record):
    """Where the cell sits in the run it belongs to."""

    run_id: str
    position: int
    """1-based."""
    planned: list[str]
    """Every cell the run planned, in order."""


class Window(Record):
    """The judged part of a run, from Locust's history."""

    kind: Literal["after spawn", "whole run"]
    start: float | None
    """Unix time (None: the history has no rows)."""
    end: float | None
    seconds: float


class RunRecord(Record):
    """`DIR/<cell>/run.json`."""

    schema_version: int = SCHEMA_VERSION
    cell: str
    status: CellStatus
    error: str | None = None
    stopped_early: str | None = None
    """Why the runner stopped Locust before its run time (a search's probe whose SLO was clearly lost)."""
    ready_seconds: float | None = None
    """Seconds from the start of the cell until every replica was ready (None: they never were)."""
    backend: Literal["process", "compose"]
    profile: str | None
    replicas: int
    cpus: float
    memory: str
    memory_bytes: int
    limits_enforced: bool
    limits_not_enforced_reason: str | None = None
    users: int
    spawn_rate: float
    run_time: str
    run_time_seconds: int
    max_run_time_seconds: int | None = None
    """How long the load could run when too close to call at `run_time` (the profile's `max_run_time`; None:
    not extended). The gate plans its looks from both, so it re-judges the folder as the run was judged."""
    thresholds: str
    git_commit: str | None
    git_dirty: bool | None
    image: str | None
    """The API image (compose); None for the process backend, which runs this checkout."""
    api_command: list[str] | None = None
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    locust: LocustInfo | None = None
    locust_cpu_warnings: list[str] = []
    """Locust's own "CPU usage above 90%" warnings: the load generator itself was saturated."""
    replica_records: list[ReplicaRecord] = []
    matrix: MatrixInfo
    scenario: Scenario | None = None
    """The users' kinds, shares and waits (None: a locustfile of your own, whose load is not known)."""
    warmup: Literal["spawn", "none"] = "none"
    locustfile: str | None = None
    health_path: str = "/health"
    generator_capacity_rps: GeneratorCapacity | None = None
    """What this cell's Locust can deliver, from the calibration (None: not calibrated)."""
    samples: list[ResourceSample] = []
    """The API's and Locust's CPU and memory, about once a second while Locust ran."""
    window: Window | None = None
    """The part of the run the gate judged."""

    @property
    def api_cpus(self) -> float:
        """The API's CPU limit, every replica together."""
        return self.replicas * self.cpus


# --------------------------------------------------------------------------- verdict.json

Outcome = Literal["pass", "breach", "inconclusive"]
"""The gate's verdict: pass: the service held the SLO; breach: it did not; inconclusive: the measurement
is not valid (Locust was the limit, limits not enforced), so it says nothing about the service."""
RunOutcome = Literal["pass", "breach", "inconclusive", "cannot judge", "cut short", "failed to run"]
"""How a cell, a probe or a trial ended: the gate's outcome, or why there is none: cannot judge (it ran,
and the gate could not judge it), cut short (a signal), failed to run (the replicas or Locust broke)."""
ProbeOutcome = Literal[RunOutcome, "out of budget"]
"""A probe's: a cell's, or stopped because the search's budget ran out."""
OUTCOME_WORDS: dict[str, str] = {
    "pass": "PASS",
    "breach": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "cannot judge": "CANNOT JUDGE",
    "cut short": "CUT SHORT",
    "failed to run": "ERROR",
    "out of budget": "OUT OF BUDGET",
}
"""How each outcome reads in tables and on the terminal."""


class Figures(Record):
    """One row of locust_stats.csv: an endpoint, or the Aggregated row (the whole run).

    Percentiles and `error_rate` are None only when the row has zero requests (Locust writes N/A).
    """

    name: str
    requests: int
    failures: int
    error_rate: float | None
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None = None
    """Locust's "Average Response Time" (not bucketed); None with zero requests."""


LimitState = Literal["within", "beyond", "too close to call", "held back"]
"""`held back`: the bound was not beyond the limit, but the run's outages alone held back more requests than
the limit allows (loadtest.gate.outage): breached as a fact of the run."""
"""Where a limit's confidence interval lies: within the SLO, beyond it, or across it (loadtest.gate.confidence)."""


class Check(Record):
    """One limit of the SLO applied to one scope (the Aggregated row or an endpoint).

    From a run's histograms (histograms.jsonl) a latency or error-rate limit is judged as a share of the
    intended requests over it, with a confidence interval: `allowed` (5% for a P95), the `estimate`, its
    `lower` and `upper` bounds and their `state`. From Locust's CSVs alone (a locustfile that does not
    record) they are None and `value` against `limit` decides, as a point.
    """

    name: str
    """The key in thresholds.yaml: max_error_rate, max_p95_ms or min_rps."""
    scope: str
    """`Aggregated` or an endpoint label such as `POST /predict`."""
    value: float
    """The figure itself: P95 in ms (corrected from the histograms), the error rate, req/s."""
    limit: float
    passed: bool
    """Within the limit (from the histograms: its interval's upper bound within the allowed share)."""
    allowed: float | None = None
    """The share of intended requests allowed over the limit: 0.05 for a P95, max_error_rate for errors."""
    estimate: float | None = None
    """The share of intended requests over the limit (slow, failed or never answered; failed for errors)."""
    lower: float | None = None
    upper: float | None = None
    """The share's one-sided confidence bounds at the look that decided (the sequential design's levels)."""
    state: LimitState | None = None
    more_seconds: float | None = None
    """Too close to call: about how much longer a run would need to settle it at the blocks' spread."""


class Delivery(Record):
    """What the users should have sent in the judged window, against what the service served."""

    served_rps: float
    expected_rps: float
    ratio: float
    basis: str
    """How `expected_rps` was found: the constant-throughput target, or Little's law at the measured replies."""
    users: float
    """Users running on average over the window."""


class Resources(Record):
    """The API's and Locust's CPU over the judged window, from the samples in run.json."""

    seconds: float
    api_cpu_share: float | None
    """CPU time used / (window x the API's CPU limit)."""
    api_throttled_share: float | None
    """Share of CFS periods in which the replicas hit their quota."""
    locust_peak_cpu: float | None
    """Locust's busiest interval: CPU time / (interval x its processes), 1.0 = every core it has."""
    locust_busy_seconds: float | None
    """Seconds of the window in which Locust used 90% or more of its cores."""


Loop = Literal["open", "closed", "mixed"]
"""open: every judged request had an intended send time on its user's schedule and is timed from it; closed:
its user waited for the previous reply before sending (`between` waits, or a locustfile without our pacing),
so a slow service slows its own users and their latency is timed from the actual send; mixed: both."""


class RequestCounts(Record):
    """The judged window's requests by their intended send (histograms.jsonl)."""

    intended: int
    sent: int
    completed: int
    """Answered, success or failure, before the books closed."""
    failed: int
    unfinished: int
    """Intended but never sent or never answered: over every latency limit."""
    closed_loop: int = 0
    """Of `intended`, sent by closed-loop users (no schedule: timed from the actual send)."""


class LatencyPercentiles(Record):
    """P50, P95, P99, P99.9 and the maximum, in ms (None: no request at all)."""

    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None
    at_least: list[str] = []
    """The percentiles that fall among requests never answered: each is how long those had waited when the
    books closed, a lower bound (`p95_ms`, ...)."""


class ScopeLatency(Record):
    """One scope's latency (the Aggregated requests, or one endpoint's), from the merged histograms."""

    scope: str
    counts: RequestCounts
    corrected: LatencyPercentiles
    """From the intended send time: what a user arriving on schedule waited (the gate judges these)."""
    uncorrected: LatencyPercentiles
    """From the actual send, answered requests only: what Locust's own statistics report."""


class GeneratorLag(Record):
    """How late the load generator itself sent (its share of the schedule lag): a saturated Locust."""

    threshold_ms: float
    """A send is late when Locust sent it this much after its intended time while its user was free."""
    late: int
    sent: int
    """Paced requests sent in the judged window."""
    share: float
    allowed_share: float
    """Over this share of late sends, the cell is inconclusive: the generator set the pace."""


class Sequential(Record):
    """How the run's looks went: blocks, the design, and the decision (loadtest.gate.confidence)."""

    confidence: float
    """thresholds.yaml's `slo.confidence`: each claim (pass, breach) is wrong in at most 1 - this of runs."""
    block_seconds: float
    blocks: int
    """Whole blocks judged (the look that decided)."""
    run_blocks: int
    """The blocks of `run_time`'s judged window: the first look that may pass."""
    max_blocks: int
    """The blocks of `max_run_time`'s: the last look."""
    decision: Outcome
    stopped_early: bool
    """A breach decided before `run_time`."""
    extended: bool
    """Judged past `run_time`: too close to call, or not steady, at `run_time`."""
    steady: bool | None = None
    """The steady-state test (first third against last third); None: not made (too few blocks)."""
    steadiness: str | None = None


class Verdict(Record):
    """`verdict.json`: the gate's decision on one run, with the figures and the SLO it was made on."""

    outcome: Outcome
    reasons: list[str]
    """Why the outcome, each with its evidence; empty for a pass."""
    passed: bool
    """outcome == "pass"."""
    error_rate: float
    p95_ms: float
    rps: float
    requests: int
    checks: list[Check]
    figures: Figures
    """The Aggregated figures the checks were made on (the report reads them instead of the CSVs): from the
    histograms, `requests` are the intended ones, `failures` the failed, `rps` the answered per second and
    the percentiles corrected (from the intended send); else Locust's own Aggregated row."""
    slo: Slo
    """The objective the run was judged against."""
    window: Window
    delivery: Delivery | None = None
    resources: Resources | None = None
    generator_capacity_rps: float | None = None
    """The cell's Locust ceiling: run.json's `generator_capacity_rps.total_rps` (None: not calibrated)."""
    source: Literal["histograms", "locust"] = "locust"
    """Where the figures and checks come from: the cell's histograms.jsonl (exact, from the intended send,
    with confidence bounds), or Locust's CSVs (its rounded `95%` column, a point estimate)."""
    loop: Loop | None = None
    """How the judged requests were sent (None: a verdict.json older than the field)."""
    latency: list[ScopeLatency] = []
    """From the histograms: the Aggregated requests first, then each endpoint."""
    sequential: Sequential | None = None
    generator_lag: GeneratorLag | None = None
    locust_figures: Figures | None = None
    """Locust's own Aggregated row when `figures` come from the histograms (its rounded, closed-loop view)."""
    points: str | None = None
    """Why a run that has histograms was judged from Locust's figures as points, without a confidence bound (its
    judged window too short for one: fewer than the minimum blocks); None: judged with bounds, or no histograms."""
    measured: bool | None = None
    """Whether the run measured the service, whatever its limits say: False when the gate doubted the measurement
    (limits not enforced, a saturated or lagging generator, counts missing) or found it not steady; True for a
    pass, a breach, or limits too close to call. None: a verdict.json older than the field."""

    @property
    def breached(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if not check.passed]


# --------------------------------------------------------------------------- comparison.json

COMPARISON_FILE = "comparison.json"

SideRole = Literal["base", "head"]
DesignName = Literal["duet", "interleaved"]
"""How a comparison's base and head shared the machine: at the same time on the same cores (duet), or one
after the other in each block (interleaved)."""
ComparisonVerdict = Literal["regressed", "improved", "no change", "inconclusive"]
"""regressed: the interval lies beyond 1 + delta on the bad side; improved: the mirror case; no change:
it lies inside [1 / (1 + delta), 1 + delta]; inconclusive: anything else (see docs/compare.md)."""
COMPARISON_SCHEMA_VERSION = 2
"""comparison.json 2: a trial's `outcome` (the one vocabulary) in place of `status`; its figures are the
gate's `Figures`."""
COMPARED_FIGURES: dict[ComparedMetric, str] = {
    "capacity": "rps",
    "p50": "p50_ms",
    "p95": "p95_ms",
    "p99": "p99_ms",
    "error_rate": "error_rate",
}
"""Which field of a trial's `Figures` each metric of a comparison (thresholds.yaml's names) is; the CPU per
request is the trial's own (`TrialRecord.cpu_ms_per_request`)."""
COMPARED_METRICS: tuple[ComparedMetric, ...] = get_args(ComparedMetric)
PhaseName = Literal["capacity", "load"]
"""A trial's phase: capacity (the profile's users, saturating) or load (the fixed open-loop rate)."""
PHASE_METRICS: dict[PhaseName, tuple[ComparedMetric, ...]] = {
    "capacity": ("capacity", "error_rate"),
    "load": ("cpu_per_request", "p50", "p95", "p99", "error_rate"),
}
"""The metrics each phase measures: at saturation the CPU per request would only repeat the capacity (the quota
over the throughput), and the latency would measure the user count; the error rate counts in both."""


class SideInfo(Record):
    """One side of a comparison: what was asked for and what ran."""

    role: SideRole
    spec: str
    """As given: a revision (`main`, `HEAD~1`), `working tree`, or an image reference."""
    commit: str | None = None
    dirty: bool | None = None
    """The working tree had uncommitted changes (only the working tree can)."""
    image: str | None = None
    """The API image (compose backend)."""
    checkout: str | None = None
    """Where its replicas ran (process backend): a temporary worktree, or this checkout."""
    api_command: str | None = None
    """A server command of your own (None: `python -m api` of that checkout)."""

    @property
    def label(self) -> str:
        """`base (main, 1a2b3c4d5e6f)`, `head (1a2b3c4d5e6f)`, `base (me/api:1)`: the side in messages."""
        if self.image is not None:
            return f"{self.role} ({self.image})"
        named = self.commit is not None and self.commit.startswith(self.spec)
        parts = [*([] if named else [self.spec]), *([self.commit[:12]] if self.commit else [])]
        if self.dirty:
            parts.append("uncommitted changes")
        return f"{self.role} ({', '.join(parts)})"


class TrialRecord(Record):
    """One trial: a short run of one side in one phase, in its own folder with the Locust CSVs and run.json."""

    index: int
    """1-based, in the order the trials ran."""
    block: int
    role: SideRole
    phase: PhaseName = "capacity"
    load_rps: float | None = None
    """The load phase's fixed rate, every user together (None: the capacity phase)."""
    folder: str
    """Relative to the comparison's folder."""
    outcome: RunOutcome
    """pass or breach: it measured the service (the comparison does not judge the SLO); inconclusive: the gate
    found the measurement invalid (its reasons), or only the SLO too close to call (`undecided`: it measured the
    service); cannot judge, failed to run, cut short: no measurement."""
    reasons: list[str] = []
    figures: Figures | None = None
    """The Aggregated row of its judged window."""
    points: str | None = None
    """The verdict's `points`: its figures were judged as points, its window too short for a confidence bound."""
    started_at: datetime
    duration_seconds: float
    cores: str | None = None
    """The CPUs its replicas were pinned to in a duet ("1", "2-3"); None: interleaved, not pinned."""
    locust_cores: str | None = None
    """The CPUs its Locust was pinned to in a duet ("0"); None: interleaved, not pinned, or a comparison.json
    from before the duet's shared cores (each side's replicas and Locust then shared `cores`)."""
    cpu_ms_per_request: float | None = None
    """The replicas' CPU time per request answered over its judged window, in ms: their cgroup CPU seconds
    per second over the requests answered per second (None: no CPU samples, or no request answered)."""
    undecided: bool = False
    """The gate left the SLO's limits too close to call, though the run measured the service: `outcome`
    inconclusive, and its figures count all the same (the comparison does not judge the SLO)."""

    @property
    def valid(self) -> bool:
        """It measured the service: its figures count."""
        return self.outcome in ("pass", "breach") or self.undecided

    @property
    def doubted(self) -> bool:
        """The gate found its measurement invalid (the reasons say why): it gives no value, and counts against
        `max_inconclusive_share`."""
        return self.outcome == "inconclusive" and not self.undecided

    def value(self, metric: ComparedMetric) -> float | None:
        """One metric of the comparison in this trial (None: no figures, or not a metric of its phase)."""
        if self.figures is None or metric not in PHASE_METRICS[self.phase]:
            return None
        if metric == "cpu_per_request":
            return self.cpu_ms_per_request
        value: float | None = getattr(self.figures, COMPARED_FIGURES[metric])
        return value


class Interval(Record):
    """A confidence interval of a change, on the same scale as the change."""

    low: float
    high: float
    level: float
    """Its two-sided confidence level: 1 - 2 x the one-sided level its claim was tested at."""


class MetricResult(Record):
    """One metric across the blocks: the change head vs base, its interval, its tests and its verdict."""

    metric: ComparedMetric
    """`throughput` in a comparison.json of before the two phases is read as `capacity`."""

    @field_validator("metric", mode="before")
    @classmethod
    def _renamed(cls, value: object) -> object:
        return RENAMED_METRICS.get(value, value) if isinstance(value, str) else value

    title: str
    unit: str
    judged: bool
    """Part of the verdict (and of the correction over the judged metrics); else shown for information."""
    relative: bool
    """True: the change is head / base - 1 (from per-block log-ratios); False: head - base (the error rate)."""
    blocks: int
    """Blocks whose two trials gave this metric."""
    base: float | None
    head: float | None
    """Each side's median over those blocks."""
    change: float | None
    interval: Interval | None
    p_regressed: float | None = None
    p_improved: float | None = None
    p_no_change: float | None = None
    """One-sided paired t-tests against the margin, for the record (uncorrected)."""
    signed_rank_p: float | None = None
    """The exact Wilcoxon signed-rank test of the claim made (the check on the t-interval)."""
    detectable: float | None = None
    """The smallest change this comparison's budget would find regressed in 80% of runs at the spread its
    blocks showed (on the worse side; head - base for the error rate). None: fewer than 2 blocks, or not
    judged."""
    verdict: ComparisonVerdict
    reason: str

    @property
    def statement(self) -> str:
        """`capacity: regressed: <reason>`: its verdict and why, as the comparison's reasons give them."""
        return f"{self.title}: {self.verdict}: {self.reason}"


class ComparisonCell(Record):
    """The one cell both sides ran in, and the load."""

    replicas: int
    cpus: float
    memory: str
    users: int
    spawn_rate: float
    warmup: Literal["spawn", "none"]
    scenario: Scenario | None
    """None: a locustfile of your own."""


class Comparison(Record):
    """`comparison.json`: every trial's figures, the ratios with intervals, p-values and verdicts."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    complete: bool
    """False while trials are still running, or when the comparison was cut short or could not go on."""
    verdict: ComparisonVerdict
    reasons: list[str]
    """Why the overall verdict, in words."""
    on_inconclusive: Literal["fail", "pass"]
    """What the workflow's required check does with an inconclusive comparison (thresholds.yaml)."""
    profile: str
    backend: Literal["process", "compose"]
    base: SideInfo
    head: SideInfo
    cell: ComparisonCell
    settings: CompareSettings
    run_time_seconds: int
    seed: int
    """The seed of the blocks' random order (`--seed` repeats it)."""
    planned: list[SideRole]
    """Every trial's side, in the order they ran (blocks are added as the comparison goes)."""
    trials: list[TrialRecord]
    metrics: list[MetricResult]
    started_at: datetime
    ended_at: datetime | None = None
    design: DesignName = "interleaved"
    """How base and head shared the machine: both at once on the same cores (duet), or one after the other in
    each block (interleaved)."""
    design_reason: str | None = None
    """The duet's layout, or why the comparison ran interleaved blocks instead."""
    budget_seconds: int | None = None
    max_blocks: int | None = None
    """The most valid blocks its looks were planned for (`trials`, or fewer when the budget holds fewer)."""
    blocks_run: int = 0
    blocks_dropped: int = 0
    """Blocks with a trial that gave no valid figures: not counted, and replaced while the budget lasted."""
    stopped: str | None = None
    """Why no more blocks were added: decided, the most blocks, the budget spent, too many inconclusive trials
    (None: cut short, or a side broke)."""
    load_rps: float | None = None
    """The fixed load of every load phase, all users together (None: not chosen yet, or no load phase ran)."""
    load_source: str | None = None
    """Where that rate came from: as asked (`--load-rate` or `load_rps` in the compare: block), or the share of the
    base's capacity in a named block."""


# --------------------------------------------------------------------------- ui.json


STATE_FILE = "ui.json"
"""Written into the cell folder while `python -m loadtest ui` runs; removed when it ends."""


class LiveReplica(Record):
    """Where one running replica's usage can be read by another process."""

    index: int
    name: str
    cgroup_version: int | None = None
    cgroup_dirs: dict[str, str] = {}
    """Process backend: the replica's cgroup folders by controller (v2: {"unified": ...})."""
    container_id: str | None = None
    """Compose backend: the API container."""
    restarts: int = 0
    """Process backend: restarts so far (the ui process restarts them; Docker counts its own)."""


class LiveCell(Record):
    """`DIR/<cell>/ui.json`: a cell that `python -m loadtest ui` keeps running, for `loadtest stats`."""

    schema_version: int = SCHEMA_VERSION
    pid: int
    """The `ui` process: when it is gone, so is the cell."""
    backend: Literal["process", "compose"]
    cell: str
    web_url: str
    started_at: datetime
    replicas: list[LiveReplica]
