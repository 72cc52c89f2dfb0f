"""The artifact contract between `python -m model.train` (writer) and the API (reader).

Only the standard library and pydantic: the API image imports this without scikit-learn.
Every artifact is listed in `metadata.json` with its sha256; readers get the bytes only
after the hash matched, so a tampered pickle is never unpickled.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

METADATA_FILE = "metadata.json"
JOBLIB_FILE = "model.joblib"
ONNX_FILE = "model.onnx"


class ArtifactError(Exception):
    """An artifact is missing, unreadable or does not match its recorded sha256."""


class Artifact(BaseModel):
    """One file written by training: its sha256 and size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    bytes: int


class QualityMetrics(BaseModel):
    """Held-out quality of the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accuracy: float
    f1_macro: float
    test_rows: int


class OnnxCheck(BaseModel):
    """How the ONNX export was checked: every served label equal, probabilities within tolerance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows_checked: int
    max_abs_diff: float
    tolerance: float


class Metadata(BaseModel):
    """The content of `metadata.json`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: str
    trained_at: str
    seed: int
    n_estimators: int
    test_size: float
    feature_names: list[str]
    class_names: list[str]
    metrics: QualityMetrics
    onnx_check: OnnxCheck
    libraries: dict[str, str]
    artifacts: dict[str, Artifact]


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, missing: str) -> bytes:
    """The bytes of `path`; ArtifactError naming the file (with `missing` if it is absent)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{path}: {missing}") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None


def read_metadata(model_dir: Path) -> Metadata:
    """Read and validate `metadata.json` in `model_dir` (raises ArtifactError)."""
    path = model_dir / METADATA_FILE
    text = read_file(
        path,
        missing=f"model metadata not found; run `make model` (python -m model.train --out {model_dir})",
    )
    try:
        return Metadata.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise ArtifactError(f"{path}: invalid model metadata ({problems})") from None


def read_verified(model_dir: Path, name: str, metadata: Metadata) -> bytes:
    """Return the bytes of artifact `name` after checking them against `metadata`'s sha256."""
    path = model_dir / name
    expected = metadata.artifacts.get(name)
    if expected is None:
        raise ArtifactError(f"{path}: not listed in {model_dir / METADATA_FILE}; cannot verify it")
    data = read_file(path, missing=f"artifact missing (listed in {METADATA_FILE}); run `make model`")
    actual = sha256_hex(data)
    if actual != expected.sha256:
        raise ArtifactError(
            f"{path}: sha256 mismatch (expected {expected.sha256}, got {actual}); "
            "the file was modified or is stale, refusing to load it"
        )
    return data
