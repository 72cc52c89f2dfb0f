"""Reading thresholds.yaml: the YAML (a key written twice is an error), then the schema.

Every problem becomes one `ThresholdsError` naming the file, the key and the value.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from loadtest.thresholds.schema import Thresholds
from loadtest.util.model_errors import describe_validation_error
from loadtest.util.yaml_files import parse_yaml, read_text, type_name

DEFAULT_PATH = Path("thresholds.yaml")
"""Where the commands look for the file unless told otherwise (relative to the working dir)."""


class ThresholdsError(ValueError):
    """thresholds.yaml cannot be used; the message names the file, the key and the value."""


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
        raise ThresholdsError(f"{source}: {describe_validation_error(error, Thresholds, 'Threshold')}") from None
