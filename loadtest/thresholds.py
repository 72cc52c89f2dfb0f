"""`thresholds.yaml`: the service-level objective the gate enforces and the load profiles.

The file is validated when it is read. Every problem becomes one `ThresholdsError` whose
message names the file, the key and the value, e.g.
`thresholds.yaml: Threshold 'max_p95_ms' has value 'abc': not a number (in slo)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from loadtest.scenario import Scenario
from loadtest.util.models import StrictModel
from loadtest.util.units import parse_memory, parse_run_time
from loadtest.util.yaml_files import parse_yaml, read_text, type_name

DEFAULT_PATH = Path("thresholds.yaml")
"""Where the commands look for the file unless told otherwise (relative to the working dir)."""


class ThresholdsError(ValueError):
    """thresholds.yaml cannot be used; the message names the file, the key and the value."""


def _checked(parse: Callable[[str], int], value: str) -> str:
    """Run a parser as a field validator; the error message leaves out the value (it is shown)."""
    try:
        parse(value)
    except ValueError as error:
        raise ValueError(str(error).removeprefix(f"{value!r} is ")) from None
    return value


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


Memory = Annotated[str, Field(description="a Docker memory size such as 512m or 1g")]


class CellSpec(StrictModel):
    """One cell of a profile that lists its cells."""

    replicas: Annotated[int, Field(ge=1)]
    cpus: Positive
    memory: Memory

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        return _checked(parse_memory, value)


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
    probe_time: str = "15s"
    """The measured window of one probe, after the ramp (the warm-up, not judged)."""
    budget: str = "15m"
    """The whole search never takes longer than this."""
    cost: CostWeights = CostWeights()
    capacity_steps: Annotated[int, Field(ge=0, le=10)] = 4
    """Probes per passing configuration to find the most users it holds (0: no capacity)."""

    @field_validator("probe_time", "budget")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        return _checked(parse_run_time, value)

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: list[str]) -> list[str]:
        for size in value:
            _checked(parse_memory, size)
        _distinct(value, parse_memory)
        return value

    @field_validator("replicas", "cpus")
    @classmethod
    def _check_distinct(cls, value: list[Any]) -> list[Any]:
        _distinct(value)
        return value


ComparedMetric = Literal["throughput", "p50", "p95", "p99", "error_rate"]
"""What `python -m loadtest compare` measures in every trial (the judged window's Aggregated row)."""


DEFAULT_GATE: tuple[ComparedMetric, ...] = ("p95", "throughput")


class CompareSettings(StrictModel):
    """A profile's `compare:` block: how many trials `python -m loadtest compare` runs and how it judges them.

    Reference: docs/compare.md.
    """

    trials: Annotated[int, Field(ge=2)] = 8
    """Trials of each side, in as many randomised blocks (one base and one head trial each, in random order)."""
    run_time: str = "20s"
    """Each trial's length, Locust syntax; the warm-up (`warmup: spawn`) is part of it and is not judged."""
    delta: Annotated[float, Field(gt=0, lt=1)] = 0.10
    """The margin: a change within a factor 1 + delta either way is no change."""
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.90
    """The two-sided level of each interval before the Holm correction (each claim is a one-sided test
    at (1 - confidence) / 2)."""
    gate: Annotated[list[ComparedMetric], Field(min_length=1)] = Field(default_factory=lambda: list(DEFAULT_GATE))
    """The metrics whose verdict decides the comparison; the error rate is always judged."""
    error_rate_margin: Annotated[float, Field(gt=0, le=1)] = 0.001
    """The error rate's no-change band, in absolute terms (0.001: 0.1 percentage point either way);
    any rise the test can tell from zero is a regression."""
    max_inconclusive_share: Annotated[float, Field(ge=0, lt=1)] = 0.25
    """The share of trials that may be inconclusive (Locust saturated, limits not enforced) before the
    whole comparison is."""

    @field_validator("run_time")
    @classmethod
    def _check_run_time(cls, value: str) -> str:
        return _checked(parse_run_time, value)

    @field_validator("gate")
    @classmethod
    def _check_gate_unique(cls, value: list[ComparedMetric]) -> list[ComparedMetric]:
        if len(set(value)) != len(value):
            raise ValueError("lists a metric more than once")
        return value

    @property
    def run_time_seconds(self) -> int:
        """`run_time` in seconds."""
        return parse_run_time(self.run_time)

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
    run_time: str
    replicas: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)] | None = None
    cpus: Positive | None = None
    memory: Memory | None = None
    cells: Annotated[list[CellSpec], Field(min_length=1)] | None = None
    scenario: Scenario = Scenario()
    """The users' kinds, shares and waits (default: the workshop's)."""
    warmup: Literal["spawn", "none"] = "none"
    """spawn: judge only what follows the ramp (Locust resets its statistics once every user runs);
    none: judge the whole run."""
    search: SearchSettings | None = None
    """The grid of `python -m loadtest search` (None: the profile's cells, with the search's defaults)."""
    compare: CompareSettings = CompareSettings()
    """How `python -m loadtest compare` runs its trials with this profile's load and cell."""

    @field_validator("run_time")
    @classmethod
    def _check_run_time(cls, value: str) -> str:
        return _checked(parse_run_time, value)

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, value: str | None) -> str | None:
        return None if value is None else _checked(parse_memory, value)

    @field_validator("replicas")
    @classmethod
    def _check_replicas_unique(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a replica count more than once")
        return value

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

    @property
    def run_time_seconds(self) -> int:
        """`run_time` in seconds."""
        return parse_run_time(self.run_time)

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


# --------------------------------------------------------------------------- reading


def load_thresholds(path: Path) -> Thresholds:
    """Read and validate thresholds.yaml; raise ThresholdsError naming the key and the value."""
    return parse_thresholds(read_text(path, "a thresholds file", ThresholdsError), source=str(path))


def parse_thresholds(text: str, source: str = "thresholds.yaml") -> Thresholds:
    """Validate thresholds.yaml given as text; `source` names it in error messages."""
    document = parse_yaml(text, source, ThresholdsError)
    if document is None:
        raise ThresholdsError(f"{source}: is empty; it needs an 'slo' mapping (see the README)")
    if not isinstance(document, dict):
        raise ThresholdsError(
            f"{source}: the top level must be a mapping with 'slo' and 'profiles', not {type_name(document)}"
        )
    try:
        return Thresholds.model_validate(document)
    except ValidationError as error:
        raise ThresholdsError(f"{source}: {describe_validation_error(error)}") from None


# --------------------------------------------------------------------------- error messages

_MAX_ERRORS_SHOWN = 3


def describe_validation_error(
    error: ValidationError, root: type[BaseModel] | None = None, noun: str = "Threshold"
) -> str:
    """One line for all of pydantic's complaints, the first few in full.

    `root` is the model that was validated (default `Thresholds`: it lists the keys an unknown one could
    have been), `noun` what a key is called in the message ("Threshold 'max_p95_ms' has value ...").
    """
    details = error.errors(include_url=False)
    messages = [_describe(detail, root or Thresholds, noun) for detail in details[:_MAX_ERRORS_SHOWN]]
    hidden = len(details) - len(messages)
    return "; ".join(messages) + (f" (and {hidden} more)" if hidden else "")


def _describe(detail: ErrorDetails, root: type[BaseModel], noun: str) -> str:
    loc = detail["loc"]
    if not any(isinstance(part, str) for part in loc):  # the whole document's own rule (a model validator)
        return _problem(detail, root)
    key_at = max((i for i, part in enumerate(loc) if isinstance(part, str)), default=0)
    key = str(loc[key_at]) + "".join(f"[{part}]" for part in loc[key_at + 1 :])
    where = _format_location(loc[:key_at])
    suffix = f" (in {where})" if where else ""
    if detail["type"] == "missing":
        return f"{noun} {key!r} is missing: it is required{suffix}"
    if detail["type"] == "value_error" and isinstance(detail["input"], dict) and detail["input"]:
        return f"{noun} {key!r} {_problem(detail, root)}{suffix}"
    return f"{noun} {key!r} has value {_format_value(detail['input'])}: {_problem(detail, root)}{suffix}"


def _problem(detail: ErrorDetails, root: type[BaseModel]) -> str:
    kind, ctx = detail["type"], detail.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _allowed_keys(detail["loc"][:-1], root)
        return "unknown key" + (f"; expected one of {', '.join(allowed)}" if allowed else "")
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    if kind == "literal_error":
        return f"must be {ctx['expected']}"
    simple = {
        "float_type": "not a number",
        "finite_number": "not a finite number",
        "int_type": "not a whole number",
        "string_type": "not a string",
        "list_type": "not a list (write e.g. [1, 2])",
        "dict_type": "not a mapping",
        "model_type": "not a mapping",
        "too_short": "must not be empty",
    }
    if kind in simple:
        return simple[kind]
    bounds = {
        "greater_than": ("must be greater than", "gt"),
        "greater_than_equal": ("must be at least", "ge"),
        "less_than": ("must be less than", "lt"),
        "less_than_equal": ("must be at most", "le"),
    }
    if kind in bounds:
        text, name = bounds[kind]
        return f"{text} {_format_value(ctx[name])}"
    return detail["msg"]


def _allowed_keys(loc: tuple[int | str, ...], root: type[BaseModel]) -> list[str]:
    """The keys the model found at `loc` accepts (walking the root model's annotations)."""
    annotation: Any = root
    for part in loc:
        annotation = _without_none(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
            if str(part) not in fields:
                return []
            annotation = fields[str(part)].annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []


def _without_none(annotation: Any) -> Any:
    """`X | None` -> X (an optional block's keys are X's)."""
    if get_origin(annotation) in (Union, UnionType):
        others = [arg for arg in get_args(annotation) if arg is not type(None)]
        return others[0] if len(others) == 1 else annotation
    return annotation


def _format_location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
        elif re.fullmatch(r"\w+", part):
            parts.append(part)
        else:
            parts.append(f'"{part}"')
    return ".".join(parts)


def _format_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
