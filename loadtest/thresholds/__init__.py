"""`thresholds.yaml`: the service-level objective the gate enforces and the load profiles.

`schema` holds the models, `loading` reads and validates the file; an error names the file, the key
and the value (`loadtest.util.model_errors` words it, as for scenario files), e.g.
`thresholds.yaml: Threshold 'max_p95_ms' has value 'abc': not a number (in slo)`.
"""

from loadtest.thresholds.loading import DEFAULT_PATH, ThresholdsError, load_thresholds, parse_thresholds
from loadtest.thresholds.schema import (
    DEFAULT_GATE,
    CellSpec,
    CompareDesign,
    ComparedMetric,
    CompareSettings,
    CostWeights,
    EndpointLimits,
    Profile,
    SearchSettings,
    Slo,
    Thresholds,
)

__all__ = [
    "DEFAULT_GATE",
    "DEFAULT_PATH",
    "CellSpec",
    "CompareDesign",
    "CompareSettings",
    "ComparedMetric",
    "CostWeights",
    "EndpointLimits",
    "Profile",
    "SearchSettings",
    "Slo",
    "Thresholds",
    "ThresholdsError",
    "load_thresholds",
    "parse_thresholds",
]
