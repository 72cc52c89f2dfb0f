"""`search.json`: every probe, what it settled about each configuration, the winner and its confirmation,
the capacities, the recommended memory and the budget. Written and read back through these models only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypedDict

from pydantic import Field, field_validator, model_validator

from loadtest.gate.reading import AGGREGATED
from loadtest.records import Figures, ProbeOutcome, Record
from loadtest.runner.matrix import Cell
from loadtest.scenario import Scenario
from loadtest.search.walk import State
from loadtest.thresholds import CostWeights, Slo

SCHEMA_VERSION = 2
"""2: one vocabulary of outcomes (`breach` for `fail`, ...) and one figures model (`loadtest.records.Figures`);
a search.json of version 1 is still read (`--against`)."""
SEARCH_FILE = "search.json"
SEARCH_SUMMARY = "search.md"
SEARCH_CHART = "search.png"
PROBES_DIR = "probes"

ProbeKind = Literal["cpu", "memory", "confirm", "runner-up", "capacity"]
"""cpu: a step of the boundary walk; memory: the winner's CPU at a smaller memory limit; confirm: the winner at
full length; runner-up: the configuration just cheaper than the winner at full length; capacity: more users."""
_OUTCOMES_1 = {"fail": "breach", "error": "cannot judge", "interrupted": "cut short", "budget": "out of budget"}
"""search.json version 1's outcome words, by the word that replaced each."""


def _outcome_of_version_1(value: object) -> object:
    return _OUTCOMES_1.get(value, value) if isinstance(value, str) else value


Result = Literal["holds", "none holds", "inconclusive", "cannot judge"]
Limit = Literal["slo", "generator", "steps", "budget"]
"""What ended a capacity bisection: more users broke the SLO, would ask more than Locust can send, the steps
or the budget ran out."""


class CellFields(TypedDict):
    """The fields every record about one configuration starts with."""

    cell: str
    replicas: int
    cpus: float
    memory: str


def cell_fields(cell: Cell) -> CellFields:
    """`cell` as those fields."""
    return CellFields(cell=cell.name, replicas=cell.replicas, cpus=cell.cpus, memory=cell.memory)


class ProbeRecord(Record):
    """One run of one configuration."""

    index: int
    """1-based, in the order the probes ran; the folder is probes/<index>-<kind>-<cell>."""
    kind: ProbeKind
    attempt: int = 1
    """2: the re-run of a probe that was inconclusive."""
    cell: str
    replicas: int
    cpus: float
    memory: str
    cost: float
    users: int
    spawn_rate: float
    run_time_seconds: int
    outcome: ProbeOutcome
    reason: str | None = None
    stopped_early: str | None = None
    figures: Figures | None = None
    """The judged window's Aggregated figures."""
    delivered_ratio: float | None = None
    """What the service served of what its users should have sent (the verdict's delivery ratio)."""
    points: str | None = None
    """The verdict's `points`: judged from Locust's figures as points, its window too short for a confidence
    bound (a pass or breach then is not beyond doubt: the probe is run once more)."""
    memory_peak_bytes: list[int | None] = Field(default_factory=list)
    """Per replica, from its cgroup (or container)."""
    oom_kills: int = 0
    ready_seconds: float | None = None
    started_at: datetime
    duration_seconds: float
    folder: str
    """Relative to the search's folder."""

    _outcome_of_version_1 = field_validator("outcome", mode="before")(_outcome_of_version_1)

    @model_validator(mode="before")
    @classmethod
    def _figures_of_version_1(cls, data: Any) -> Any:
        """Version 1 kept the delivery ratio in the figures, which had no name."""
        figures = data.get("figures") if isinstance(data, dict) else None
        if isinstance(figures, dict) and "name" not in figures:
            figures = dict(figures)
            data = {**data, "delivered_ratio": figures.pop("delivered_ratio", None), "figures": figures}
            figures.update(name=AGGREGATED, mean_ms=None)
        return data


class ConfigurationRecord(Record):
    """One configuration of the CPU walk (at the grid's largest memory limit), and what the search knows of it."""

    cell: str
    replicas: int
    cpus: float
    memory: str
    cost: float
    state: State
    by: str | None = None
    """ruled out: the failed configuration that covers it; not needed: the cheapest that holds."""
    probes: list[int] = Field(default_factory=list)

    _state_of_version_1 = field_validator("state", mode="before")(_outcome_of_version_1)


class SkippedRecord(Record):
    """A configuration never probed because one that covers it (at least every resource) failed."""

    cell: str
    replicas: int
    cpus: float
    memory: str
    ruled_out_by: str
    probe: int
    """The probe in which `ruled_out_by` failed."""


class Choice(Record):
    """A configuration the search settled on."""

    cell: str
    replicas: int
    cpus: float
    memory: str
    cost: float


class ConfirmationRecord(Record):
    """The winner at full length, twice, with margin; the configuration just cheaper at full length, once."""

    cell: str
    margin_p95_ms: float
    runs: list[int] = Field(default_factory=list)
    held: bool | None = None
    """Both runs passed with margin (None: not settled: inconclusive, or the search stopped)."""
    runner_up: str | None = None
    """None: nothing in the grid is cheaper."""
    runner_up_runs: list[int] = Field(default_factory=list)
    runner_up_failed: bool | None = None
    confirmed: bool = False


class CapacityPoint(Record):
    """One load a configuration was run at."""

    users: int
    outcome: ProbeOutcome
    rps: float | None
    p95_ms: float | None
    probe: int

    _outcome_of_version_1 = field_validator("outcome", mode="before")(_outcome_of_version_1)


class CapacityRecord(Record):
    """The most users a configuration holds the SLO for (question 3)."""

    cell: str
    replicas: int
    cpus: float
    memory: str
    users: int
    """The most users that held."""
    rps: float | None
    p95_ms: float | None
    failed_at: int | None = None
    """The fewest users that did not hold (None: none was found)."""
    limited_by: Limit
    points: list[CapacityPoint] = Field(default_factory=list)


class MemoryRecord(Record):
    """The memory limit to give the winner, from the peak its replicas reached, not from latency."""

    cell: str
    """The winning CPU configuration whose runs the peaks come from."""
    peaks_bytes: list[int]
    """Per replica, the largest seen over the winner's runs."""
    peak_bytes: int
    factor: float
    recommended: str
    recommended_bytes: int
    smallest_holding: str | None
    """The grid's smallest memory limit the winner's CPU configuration held at."""
    failed: dict[str, str] = Field(default_factory=dict)
    """Memory limits of the grid that failed at that CPU configuration, with why (an OOM kill)."""


class BudgetRecord(Record):
    """What the search could afford and what it spent."""

    seconds: float
    used_seconds: float = 0.0
    probe_seconds_estimate: float
    """One probe, start-up to verdict, as estimated at the start."""
    reserve_seconds: float
    """Kept for the confirmation (the winner twice at full length, the runner-up once)."""
    probes_allowed: int
    walk_at_most: int
    """The most probes the CPU walk can need (replica counts + CPU limits - 1)."""
    could_not_reach: list[str] = Field(default_factory=list)
    """Configurations the walk cannot get to within `probes_allowed`, whatever the probes find."""
    exhausted: bool = False
    not_tried: list[str] = Field(default_factory=list)


class AgainstRecord(Record):
    """Another search (another service, the same grid and load) this one is compared with."""

    folder: str
    winner: Choice | None
    rps: float | None = None
    """What the other winner served in its last confirmation run."""
    cost_ratio: float | None
    """This search's winner's cost over the other one's (None: either has none)."""


class GridRecord(Record):
    """The grid as searched."""

    replicas: list[int]
    cpus: list[float]
    memory: list[str]
    cost: CostWeights


class SearchRecord(Record):
    """`search.json`."""

    schema_version: int = SCHEMA_VERSION
    generated_at: datetime
    complete: bool
    cut_short: str | None = None
    exit_code: int
    result: Result
    answer: str
    """One sentence: the cheapest configuration that holds, or why there is none."""
    profile: str | None
    backend: str
    api_command: str | None
    slo: Slo
    users: int
    spawn_rate: float
    run_time_seconds: int
    probe_seconds: int
    scenario: Scenario
    grid: GridRecord
    configurations: list[ConfigurationRecord]
    probes: list[ProbeRecord]
    skipped: list[SkippedRecord]
    winner: Choice | None
    """The confirmed winner (None: none holds, or it is not confirmed)."""
    candidate: Choice | None = None
    """The cheapest configuration that held its probes, while it is not confirmed (a partial answer)."""
    demoted: dict[str, str] = Field(default_factory=dict)
    """Configurations that held their probe but not their confirmation, with why."""
    confirmation: ConfirmationRecord | None = None
    capacities: list[CapacityRecord] = Field(default_factory=list)
    memory: MemoryRecord | None = None
    budget: BudgetRecord
    generator_rps: float | None = None
    """What one Locust process delivered of the scenario in the calibration."""
    against: AgainstRecord | None = None

    def probe(self, index: int) -> ProbeRecord:
        """The probe numbered `index` (probes are numbered from 1, in the order they ran)."""
        found = next((probe for probe in self.probes if probe.index == index), None)
        if found is None:
            raise KeyError(f"search.json has no probe {index} (it has {len(self.probes)})")
        return found
