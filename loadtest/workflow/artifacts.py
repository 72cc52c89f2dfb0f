"""The perf workflow's artifacts as the gate job downloads them, and the newest attempt of each.

Each cell job uploads its folder as `perf-r<replicas>-attempt-<run attempt>` and the compare job its
folder as `comparison-attempt-<run attempt>`. A re-run of failed jobs uploads a cell again under
the new attempt's name and leaves the earlier attempt's artifact in the run: GitHub keeps both, and
download-artifact (given `github-token` and `run-id`) lists both. Its own choice between two
artifacts of one name is the highest artifact id, which is not the newest upload (ids are not
monotonic across attempts), so the name carries the attempt and the newest attempt is chosen here.

download-artifact extracts each artifact into a folder of its name under the download path, except
when exactly one artifact matched: that one is extracted into the path itself. Then there is
nothing to choose, and the cell is known by its run.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.records import RUN_FILE, RecordError, RunRecord, read_record

CELL_ARTIFACT = re.compile(r"perf-r(?P<replicas>[1-9]\d*)-attempt-(?P<attempt>[1-9]\d*)")
COMPARISON_ARTIFACT = re.compile(r"comparison-attempt-(?P<attempt>[1-9]\d*)")
COMPARISON_DOCUMENT = "comparison.json"


def cell_artifact_name(replicas: int, attempt: int) -> str:
    """The artifact name of a cell job's results: `perf-r2-attempt-1`."""
    return f"perf-r{replicas}-attempt-{attempt}"


def comparison_artifact_name(attempt: int) -> str:
    """The artifact name of the compare job's results: `comparison-attempt-1`."""
    return f"comparison-attempt-{attempt}"


@dataclass(frozen=True)
class Artifact:
    """One downloaded artifact: the folder its files are in, and the attempt that uploaded it."""

    folder: Path
    attempt: int | None
    """None: extracted without its name (it was the only one downloaded)."""
    cells: tuple[Path, ...] = ()
    """The cell folders it holds (those with a run.json)."""

    @property
    def label(self) -> str:
        """How a message names it."""
        return self.folder.name if self.attempt is not None else f"the one artifact in {self.folder}"


@dataclass
class Downloaded:
    """What a download folder holds: the newest artifact of each key, and the folders that are none."""

    newest: dict[int, Artifact] = field(default_factory=dict)
    """By replica count (cells)."""
    older: list[Artifact] = field(default_factory=list)
    """Artifacts a newer attempt of the same key replaced."""
    foreign: list[Path] = field(default_factory=list)
    """Folders whose name is no artifact of ours: left out."""


def _subfolders(root: Path) -> list[Path]:
    return sorted(child for child in root.iterdir() if child.is_dir()) if root.is_dir() else []


def newest_cells(root: Path) -> Downloaded:
    """Each replica count's newest `perf-r<N>-attempt-<A>` artifact under `root`.

    `root` missing or empty: no cell was downloaded. The one-artifact layout (cell folders right
    under `root`) gives that artifact for the replica count its run.json records; a run.json that
    cannot be read leaves the folder to the report, which names the problem.
    """
    found = Downloaded()
    folders = _subfolders(root)
    if any((folder / RUN_FILE).is_file() for folder in folders):
        for folder in folders:
            if (folder / RUN_FILE).is_file():
                replicas = _recorded_replicas(folder)
                current = found.newest.get(replicas)
                cells = (*current.cells, folder) if current is not None else (folder,)
                found.newest[replicas] = Artifact(root, None, cells)
        return found
    for folder in folders:
        match = CELL_ARTIFACT.fullmatch(folder.name)
        if match is None:
            found.foreign.append(folder)
            continue
        cells = tuple(child for child in _subfolders(folder) if (child / RUN_FILE).is_file())
        replicas, artifact = int(match["replicas"]), Artifact(folder, int(match["attempt"]), cells)
        _keep_newest(found, replicas, artifact)
    return found


def _recorded_replicas(folder: Path) -> int:
    """The replica count a cell folder's run.json records; 0 when it cannot be read (the report says why)."""
    try:
        return read_record(folder / RUN_FILE, RunRecord).replicas
    except RecordError:
        return 0


def _keep_newest(found: Downloaded, key: int, artifact: Artifact) -> None:
    current = found.newest.get(key)
    assert artifact.attempt is not None
    if current is None or (current.attempt or 0) < artifact.attempt:
        if current is not None:
            found.older.append(current)
        found.newest[key] = artifact
    else:
        found.older.append(artifact)


def newest_comparison(root: Path) -> Downloaded:
    """The newest `comparison-attempt-<A>` artifact under `root`, under the key 0.

    The one-artifact layout (comparison.json right in `root`) is that artifact.
    """
    found = Downloaded()
    if (root / COMPARISON_DOCUMENT).is_file():
        found.newest[0] = Artifact(root, None)
        return found
    for folder in _subfolders(root):
        match = COMPARISON_ARTIFACT.fullmatch(folder.name)
        if match is None:
            found.foreign.append(folder)
            continue
        _keep_newest(found, 0, Artifact(folder, int(match["attempt"])))
    return found
