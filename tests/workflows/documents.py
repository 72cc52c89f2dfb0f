"""The workflow files as data, read the one way every workflow test needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load_workflow(name: str) -> dict[str, Any]:
    """The workflow `name` as data. PyYAML reads the key `on` as True (YAML 1.1's boolean), so it is renamed back."""
    document: dict[str | bool, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return {str(key): value for key, value in document.items()}
