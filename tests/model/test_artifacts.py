"""The artifact contract: atomic writes, metadata validation, sha256 checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from model.artifacts import (
    JOBLIB_FILE,
    METADATA_FILE,
    ONNX_FILE,
    ArtifactError,
    read_metadata,
    read_verified,
    sha256_hex,
)
from model.predictor import load_predictor


def test_read_verified_returns_the_checked_bytes(model_dir: Path) -> None:
    metadata = read_metadata(model_dir)
    assert read_verified(model_dir, ONNX_FILE, metadata) == (model_dir / ONNX_FILE).read_bytes()


Damage = Callable[[Path], object]
"""Something done to a model folder; what it returns (the bytes written, say) is of no interest."""


def append_byte(name: str) -> Damage:
    return lambda folder: (folder / name).write_bytes((folder / name).read_bytes() + b"\0")


def remove(name: str) -> Damage:
    return lambda folder: (folder / name).unlink()


def overwrite(name: str, text: str) -> Damage:
    return lambda folder: (folder / name).write_text(text)


def edit_metadata(change: Callable[[dict[str, Any]], object]) -> Damage:
    def apply(folder: Path) -> None:
        document = json.loads((folder / METADATA_FILE).read_text())
        change(document)
        (folder / METADATA_FILE).write_text(json.dumps(document))

    return apply


# (how the folder is damaged, file the message must name, what it must say)
DAMAGES = [
    pytest.param(append_byte(ONNX_FILE), ONNX_FILE, "sha256 mismatch", id="tampered-onnx"),
    pytest.param(append_byte(JOBLIB_FILE), JOBLIB_FILE, "sha256 mismatch", id="tampered-joblib"),
    pytest.param(remove(ONNX_FILE), ONNX_FILE, "artifact missing", id="missing-onnx"),
    pytest.param(remove(JOBLIB_FILE), JOBLIB_FILE, "artifact missing", id="missing-joblib"),
    pytest.param(remove(METADATA_FILE), METADATA_FILE, "model metadata not found", id="missing-metadata"),
    pytest.param(overwrite(METADATA_FILE, "{not json"), METADATA_FILE, "invalid model metadata", id="corrupt-metadata"),
    pytest.param(
        edit_metadata(lambda d: d.pop("artifacts")), METADATA_FILE, "artifacts: Field required", id="no-hashes"
    ),
    pytest.param(
        edit_metadata(lambda d: d["artifacts"].pop(ONNX_FILE)), ONNX_FILE, "not listed in", id="onnx-unlisted"
    ),
]


@pytest.mark.parametrize(("damage", "named", "says"), DAMAGES)
def test_load_predictor_refuses_damaged_artifacts(model_dir: Path, damage: Damage, named: str, says: str) -> None:
    damage(model_dir)
    with pytest.raises(ArtifactError) as error:
        load_predictor(model_dir)
    assert str(model_dir / named) in str(error.value)
    assert says in str(error.value)


def test_an_unloadable_onnx_with_a_matching_hash_is_refused(model_dir: Path) -> None:
    (model_dir / ONNX_FILE).write_bytes(b"not an onnx model")
    edit_metadata(lambda d: d["artifacts"][ONNX_FILE].update(sha256=sha256_hex(b"not an onnx model")))(model_dir)
    with pytest.raises(ArtifactError, match="not a loadable ONNX model"):
        load_predictor(model_dir)
