"""The schema of thresholds.yaml: the service-level objective the gate enforces and the load profiles.

Every duration (a profile's run time, a search's probe time and budget, a comparison's trial) is
a `Duration`, parsed once when the file is read. `loading` reads the file;
`loadtest.util.model_errors` words pydantic's complaints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from loadtest.scenario.migration import inline_scenario_message
from loadtest.scenario.model import Pace
from loadtest.util.models import StrictModel
from loadtest.util.units import Duration, parse_memory

# --------------------------------------------------------------------------- the models


ErrorRate = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class EndpointLimits(StrictModel):
    """Limits for one endpoint, keyed by its name as Locust reports it ("POST /predict")."""

    max_error_rate: ErrorRate | None = None
    max_p95_ms: Positive | None = None

    @model_validator(mode="after")
    def _sets_a_limit(self) -> EndpointLimits:
        if self.max_error_rate is None and self.max_p95_ms is None:
            raise ValueError("sets no limit; give max_error_rate and/or max_p95_ms")
        return self


class Slo(StrictModel):
    """The objective: every limit is checked on the Aggregated row of the run's judged window."""

    max_error_rate: ErrorRate
    max_p95_ms: Positive
    min_rps: Positive | None = None
    endpoints: dict[str, EndpointLimits] = Field(default_factory=dict)
    min_delivered_ratio: Annotated[float, Field(gt=0, le=1)] = 0.9
    """A cell whose API was the limit breaches when it served less than this share of what its users
    should have sent (the closed loop's Little's law, or a constant-throughput target)."""
    on_inconclusive: Literal["fail", "pass"] = "fail"
    """What the workflow's required check does with an inconclusive result."""
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95
    """How sure a pass or a breach must be: each limit's share over it is judged with a confidence bound at
    this level (a pass or a breach is wrong in at most 1 - confidence of runs); in between, inconclusive."""


Memory = Annotated[str, Field(description="a Docker memory size such as 512m or 1g")]


class CellSpec(StrictModel):
    """One cell of a profile that lists its cells."""

    replicas: Annotated[int, Field(ge=1)]
    cpus: Positive
    memory: Memory

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        parse_memory(value)
        return value


def _distinct(values: list[Any], key: Callable[[Any], Any] = lambda value: value) -> None:
    """ValueError naming the first value listed twice (`key`: what makes two values the same)."""
    seen: dict[Any, Any] = {}
    for value in values:
        if key(value) in seen:
            first = seen[key(value)]
            raise ValueError(
                f"lists {value} more than once" if first == value else f"lists {first} and {value}, the same"
            )
        seen[key(value)] = value


class CostWeights(StrictModel):
    """What a configuration costs: `cpu` per CPU (replicas x cpus) plus `memory_gib` per GiB (replicas x memory).

    The default counts CPUs only; memory then breaks ties (less is cheaper)."""

    cpu: Annotated[float, Field(ge=0)] = 1.0
    memory_gib: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _weighs_something(self) -> CostWeights:
        if self.cpu == 0 and self.memory_gib == 0:
            raise ValueError("weighs nothing; give cpu and/or memory_gib above 0")
        return self


class SearchSettings(StrictModel):
    """A profile's `search:` block: the grid `python -m loadtest search` walks, and how long it may take."""

    replicas: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)]
    cpus: Annotated[list[Positive], Field(min_length=1)]
    memory: Annotated[list[Memory], Field(min_length=1)]
    probe_time: Duration = Duration.parse("15s")
    """The measured window of one probe, after the ramp (the warm-up, not judged)."""
    budget: Duration = Duration.parse("15m")
    """The whole search never takes longer than this."""
    cost: CostWeights = CostWeights()
    capacity_steps: Annotated[int, Field(ge=0, le=10)] = 4
    """Probes per passing configuration to find the most users it holds (0: no capacity)."""

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: list[str]) -> list[str]:
        for size in value:
            parse_memory(size)
        _distinct(value, parse_memory)
        return value

    @field_validator("replicas", "cpus")
    @classmethod
    def _check_distinct(cls, value: list[Any]) -> list[Any]:
        _distinct(value)
        return value


ComparedMetric = Literal["capacity", "cpu_per_request", "p50", "p95", "p99", "error_rate"]
"""What `python -m loadtest compare` measures of each side in every block: its capacity (the throughput of the
capacity phase, saturating users), and at the fixed open-loop load its replicas' CPU time per request and its
corrected percentiles; the error rate over both phases."""
RENAMED_METRICS: dict[str, ComparedMetric] = {"throughput": "capacity"}
"""Metric names of before the two phases, still read: `throughput` was a single saturating trial's, now the
capacity phase's."""


DEFAULT_GATE: tuple[ComparedMetric, ...] = ("capacity", "cpu_per_request")
CompareDesign = Literal["auto", "duet", "interleaved"]
"""How a comparison's sides share the machine: a duet (both at once on the same cores) where it allows
one (auto), a duet or nothing, or interleaved blocks."""


class CompareSettings(StrictModel):
    """A profile's `compare:` block: how many trials `python -m loadtest compare` runs and how it judges them.

    Reference: docs/compare.md.
    """

    trials: Annotated[int, Field(ge=2)] = 12
    """The most blocks of one base and one head trial (orders balanced) the comparison runs, dropped blocks
    not counted; it stops earlier when the verdict is decided, or when `budget` holds fewer."""
    budget: Duration = Duration.parse("12m")
    """The whole comparison's time, preparation included: blocks are added until the verdict is decided or
    the next one would not fit (a dropped block is replaced while it lasts)."""
    run_time: Duration = Duration.parse("15s")
    """The capacity phase's length (the profile's saturating users), Locust syntax; the warm-up (`warmup:
    spawn`) is part of it and is not judged."""
    load_time: Duration = Duration.parse("15s")
    """The fixed-load phase's length (each user at a fixed rate, open loop), its warm-up included as above."""
    load_share: Annotated[float, Field(gt=0, lt=1)] = 0.6
    """The fixed load, as a share of the base's capacity measured in the first block whose base capacity phase
    is valid; fixed once for the whole comparison, so both sides always serve the same rate."""
    load_rps: Positive | None = None
    """The fixed load in requests per second, given instead of `load_share` (the same rate whatever the base
    measures)."""
    delta: Annotated[float, Field(gt=0, lt=1)] = 0.10
    """The margin: a change within a factor 1 + delta either way is no change."""
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.90
    """The two-sided level of each "no change" interval (each claim is a one-sided test at
    (1 - confidence) / 2; "regressed" and "improved" at that over the judged metrics)."""
    gate: Annotated[list[ComparedMetric], Field(min_length=1)] = Field(default_factory=lambda: list(DEFAULT_GATE))
    """The metrics whose verdict decides the comparison; the error rate is always judged."""
    error_rate_margin: Annotated[float, Field(gt=0, le=1)] = 0.001
    """The error rate's no-change band, in absolute terms (0.001: 0.1 percentage point either way);
    any rise the test can tell from zero is a regression."""
    design: CompareDesign = "auto"
    """auto: a duet (base and head at the same time on the same cores: replicas on some, Locusts on others) where the
    machine allows one, else interleaved blocks; duet: a duet or an error; interleaved: one side after the other."""
    max_inconclusive_share: Annotated[float, Field(ge=0, lt=1)] = 0.25
    """The share of trials that may be inconclusive (Locust saturated, limits not enforced) before the
    whole comparison is."""

    @field_validator("gate", mode="before")
    @classmethod
    def _renamed_metrics(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        for old, new in RENAMED_METRICS.items():
            if old in value and new in value:
                raise ValueError(f"lists {old} (the old name of {new}) and {new}, the same metric")
        return [RENAMED_METRICS.get(item, item) if isinstance(item, str) else item for item in value]

    @field_validator("gate")
    @classmethod
    def _check_gate_unique(cls, value: list[ComparedMetric]) -> list[ComparedMetric]:
        if len(set(value)) != len(value):
            raise ValueError("lists a metric more than once")
        return value

    @property
    def judged(self) -> list[ComparedMetric]:
        """The metrics that decide: `gate`, and the error rate."""
        always: list[ComparedMetric] = [] if "error_rate" in self.gate else ["error_rate"]
        return [*self.gate, *always]


class Profile(StrictModel):
    """One load profile: how hard Locust pushes and which cells it pushes against.

    The cells are either a matrix (every replica count with `cpus` and `memory`) or `cells`, a list.
    """

    users: Annotated[int, Field(ge=1)]
    spawn_rate: Positive
    run_time: Duration
    max_run_time: Duration | None = None
    """How long a cell still too close to call (or not steady) at `run_time` may extend, block by block, before it
    is inconclusive (None: `run_time`, no extension). The ramp is part of both, as of `run_time`."""
    replicas: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)] | None = None
    cpus: Positive | None = None
    memory: Memory | None = None
    cells: Annotated[list[CellSpec], Field(min_length=1)] | None = None
    scenario_file: Annotated[str, Field(min_length=1)] | None = None
    """The scenario file, relative to this thresholds file's folder (None: the workshop's, in the package)."""
    pace: dict[str, Pace] = Field(default_factory=dict)
    """Per kind of user of `scenario_file`, a pace in place of the file's own (`rate` or `between`)."""
    warmup: Literal["spawn", "none"] = "none"
    """spawn: judge only what follows the ramp (Locust resets its statistics once every user runs);
    none: judge the whole run."""
    search: SearchSettings | None = None
    """The grid of `python -m loadtest search` (None: the profile's cells, with the search's defaults)."""
    compare: CompareSettings = CompareSettings()
    """How `python -m loadtest compare` runs its trials with this profile's load and cell."""

    @model_validator(mode="before")
    @classmethod
    def _inline_scenario_moved(cls, data: object) -> object:
        if isinstance(data, dict) and "scenario" in data:
            raise ValueError(inline_scenario_message(data["scenario"]))
        return data

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str | None) -> str | None:
        if value is not None:
            parse_memory(value)
        return value

    @field_validator("replicas")
    @classmethod
    def _check_replicas_unique(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a replica count more than once")
        return value

    @model_validator(mode="after")
    def _max_run_time_from_run_time(self) -> Profile:
        if self.max_run_time is not None and self.max_run_time.seconds < self.run_time.seconds:
            raise ValueError(
                f"max_run_time {self.max_run_time.text} is shorter than run_time {self.run_time.text}: a cell extends "
                "from run_time up to max_run_time; give at least run_time, or leave it out (no extension)"
            )
        return self

    @model_validator(mode="after")
    def _one_way_to_give_cells(self) -> Profile:
        matrix = {"replicas": self.replicas, "cpus": self.cpus, "memory": self.memory}
        given = [key for key, value in matrix.items() if value is not None]
        if self.cells is not None and given:
            raise ValueError(f"gives both cells and {', '.join(given)}; give either cells or replicas, cpus and memory")
        if self.cells is None and len(given) < len(matrix):
            missing = [key for key in matrix if key not in given]
            raise ValueError(f"lacks {', '.join(missing)} (or give cells: a list of replicas, cpus and memory)")
        return self

    def cell_specs(self) -> list[CellSpec]:
        """The profile's cells, the matrix spelled out (CPU limit outermost, replica count innermost)."""
        if self.cells is not None:
            return list(self.cells)
        matrix = (self.replicas, self.cpus, self.memory)
        if matrix[0] is None or matrix[1] is None or matrix[2] is None:  # pragma: no cover - the validator refuses it
            raise ValueError("a profile needs cells, or replicas, cpus and memory")
        return [CellSpec(replicas=count, cpus=matrix[1], memory=matrix[2]) for count in matrix[0]]


class Thresholds(StrictModel):
    """The whole file."""

    slo: Slo
    profiles: dict[str, Profile] = Field(default_factory=dict)

    def profile(self, name: str, source: Path) -> Profile:
        """The profile called `name`; ValueError names the file `source` and the profiles it has."""
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ValueError(f"profile {name!r} is not in {source} (profiles: {known})")
        return self.profiles[name]
