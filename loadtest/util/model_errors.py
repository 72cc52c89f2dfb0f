"""pydantic's complaints about a file people write (thresholds.yaml, a scenario file), in the file's own
terms: one line that names the key, the value and what is wrong, e.g.
`Threshold 'max_p95_ms' has value 'abc': not a number (in slo)`.
"""

from __future__ import annotations

import re
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_MAX_ERRORS_SHOWN = 3


def describe_validation_error(error: ValidationError, root: type[BaseModel], noun: str) -> str:
    """One line for all of pydantic's complaints, the first few in full.

    `root` is the model that was validated (it lists the keys an unknown one could have been), `noun`
    what a key is called in the message ("Threshold 'max_p95_ms' has value ...").
    """
    details = error.errors(include_url=False)
    messages = [_describe(detail, root, noun) for detail in details[:_MAX_ERRORS_SHOWN]]
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
        # Our parsers' messages begin with the value ("'2x' is not a Locust duration"): it is shown already.
        return str(ctx.get("error", detail["msg"])).removeprefix(f"{detail['input']!r} is ")
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
