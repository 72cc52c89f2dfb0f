"""The perf workflow's artifacts as download-artifact leaves them, for the verdict's tests."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest.records import Comparison, ComparisonCell, SideInfo, write_record
from loadtest.runner.matrix import Cell
from loadtest.thresholds import CompareSettings, Slo
from loadtest.workflow.artifacts import cell_artifact_name, comparison_artifact_name
from tests.loadtest.cell_folders import write_cell


class CellFolders:
    """Cell folders written once per kind and copied into each test's artifacts: judging Locust's CSVs
    (pandas) costs far more than a copy, and many cases share the same few cells."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[str, Path] = {}

    def folder(self, cell: Cell, slo: Slo, **record: Any) -> Path:
        """A cell folder as `write_cell(cell, slo, **record)` lays it out, made the first time it is asked for."""
        key = repr((cell, slo, sorted(record.items())))
        if key not in self.made:
            self.made[key] = write_cell(self.root / str(len(self.made)), cell, slo, **record)
        return self.made[key]

    def artifact(self, root: Path, cell: Cell, attempt: int | None, slo: Slo, **record: Any) -> Path:
        """`root/perf-r<N>-attempt-<A>/<cell>/`, as the gate job downloads a cell job's artifact
        (attempt None: `root/<cell>/`, the one artifact downloaded, extracted into the folder itself)."""
        parent = root if attempt is None else root / cell_artifact_name(cell.replicas, attempt)
        return Path(shutil.copytree(self.folder(cell, slo, **record), parent / cell.name))


def comparison_document(verdict: str = "no change", complete: bool = True, on_inconclusive: str = "fail") -> Comparison:
    """A comparison.json whose verdict is `verdict` (its trials and metrics left out: the check reads the verdict)."""
    return Comparison.model_validate(
        {
            "complete": complete,
            "verdict": verdict,
            "reasons": [f"{verdict}: the reason"],
            "on_inconclusive": on_inconclusive,
            "profile": "compare",
            "backend": "compose",
            "base": SideInfo(role="base", spec="inference-gate-api:base"),
            "head": SideInfo(role="head", spec="inference-gate-api:ci"),
            "cell": ComparisonCell(
                replicas=1, cpus=0.5, memory="512m", users=32, spawn_rate=32, warmup="spawn", scenario=None
            ),
            "settings": CompareSettings(trials=6),
            "run_time_seconds": 20,
            "seed": 1,
            "planned": [],
            "trials": [],
            "metrics": [],
            "started_at": datetime(2026, 12, 1, tzinfo=UTC),
        }
    )


def comparison_artifact(root: Path, attempt: int | None, **document: Any) -> Path:
    """`root/comparison-attempt-<A>/` with comparison.json and comparison.md; attempt None: the one
    artifact downloaded, extracted into `root` itself."""
    folder = root if attempt is None else root / comparison_artifact_name(attempt)
    folder.mkdir(parents=True, exist_ok=True)
    built = comparison_document(**document)
    write_record(folder / "comparison.json", built)
    (folder / "comparison.md").write_text(f"### Comparison {built.verdict.upper()}\n\n![chart](comparison.png)\n")
    return folder
