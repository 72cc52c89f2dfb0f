"""Reading the YAML files people write (thresholds.yaml, scenario files) with messages that name the file.

A key written twice in one mapping is an error (PyYAML's safe loader would keep the last one
silently); a missing, unreadable or non-UTF-8 file, and YAML that does not parse, each get one
line naming the file and, for YAML, the line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error."""


def _construct_unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def read_text(path: Path, what: str, error: type[Exception]) -> str:
    """The file's text; `error` (its message names the file) when it cannot be read as UTF-8 text.

    `what` says what the file should have been ("a thresholds file") when it is a directory.
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not {what}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except OSError as problem:
        raise error(f"{path}: cannot be read: {problem.strerror}") from None


def parse_yaml(text: str, source: str, error: type[Exception]) -> Any:
    """The YAML document in `text` (None when empty); `error` names `source`, the line and the column."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as problem:
        raise error(f"{source}: not valid YAML: {describe_yaml_error(problem)}") from None


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """PyYAML's problem and where it is, in one line."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{problem}{where}"


def type_name(value: Any) -> str:
    """What a YAML value is, in words ("a list")."""
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
