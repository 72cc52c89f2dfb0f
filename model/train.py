"""`python -m model.train`: train the Iris forest, export ONNX, verify it, write the artifacts.

Nothing is written unless the ONNX export answers exactly like scikit-learn; files are
written atomically, `metadata.json` (with every artifact's sha256) last.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

from model.artifacts import (
    JOBLIB_FILE,
    METADATA_FILE,
    ONNX_FILE,
    Artifact,
    Metadata,
    QualityMetrics,
    sha256_hex,
)
from model.data import FEATURE_NAMES, load_dataset
from model.export import ExportMismatch, check_rows, export_onnx, verify_export
from model.plumbing import integer, number, write_atomic
from model.predictor import Predictor

MODEL_NAME = "iris-random-forest"
LIBRARIES = ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy", "joblib")


def build_parser() -> argparse.ArgumentParser:
    """The command line, one named group per concern; every option also reads an env var."""
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m model.train",
        description="Train the Iris RandomForest, export it to ONNX, verify the export "
        "against scikit-learn and write model.joblib, model.onnx and metadata.json.",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out",
        type=Path,
        default=Path(env("MODEL_DIR", "model")),
        help="folder for the artifacts (env MODEL_DIR, default: model)",
    )
    output.add_argument(
        "--model-version",
        default=env("MODEL_VERSION", "1.0.0"),
        help="release part of the model version; the ONNX sha256 prefix is appended "
        "(env MODEL_VERSION, default: 1.0.0)",
    )
    training = parser.add_argument_group("training")
    training.add_argument(
        "--seed",
        type=integer(minimum=0),
        default=env("MODEL_SEED", "42"),
        help="seed of the split, the forest and the check rows (env MODEL_SEED, default: 42)",
    )
    training.add_argument(
        "--n-estimators",
        type=integer(minimum=1),
        default=env("MODEL_N_ESTIMATORS", "100"),
        help="number of trees (env MODEL_N_ESTIMATORS, default: 100)",
    )
    training.add_argument(
        "--test-size",
        type=number(above=0, below=1),
        default=env("MODEL_TEST_SIZE", "0.2"),
        help="held-out fraction, stratified (env MODEL_TEST_SIZE, default: 0.2)",
    )
    verification = parser.add_argument_group("verification")
    verification.add_argument(
        "--check-rows",
        type=integer(minimum=0),
        default=env("MODEL_CHECK_ROWS", "20000"),
        help="random rows the ONNX export is checked on, besides the 150 Iris rows and "
        "rows on every split threshold (env MODEL_CHECK_ROWS, default: 20000)",
    )
    return parser


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced, before anything is written."""

    metadata: Metadata
    files: dict[str, bytes]
    seconds: float


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that made and check the artifacts."""
    versions = {"python": platform.python_version()}
    versions.update({name: package_version(name) for name in LIBRARIES})
    return versions


def train(args: argparse.Namespace) -> TrainResult:
    """Train, evaluate, export and verify; raise ExportMismatch if ONNX disagrees."""
    started = time.perf_counter()
    data = load_dataset(args.seed, args.test_size)
    model = RandomForestClassifier(n_estimators=args.n_estimators, random_state=args.seed)
    model.fit(data.X_train, data.y_train)
    predicted = model.predict(data.X_test)
    metrics = QualityMetrics(
        accuracy=float(accuracy_score(data.y_test, predicted)),
        f1_macro=float(f1_score(data.y_test, predicted, average="macro")),
        test_rows=len(data.y_test),
    )

    onnx_bytes = export_onnx(model, len(FEATURE_NAMES))
    version = f"{args.model_version}+{sha256_hex(onnx_bytes)[:12]}"
    predictor = Predictor(onnx_bytes)
    rows = check_rows(model, data.X, args.check_rows, args.seed)
    onnx_check = verify_export(model, predictor, rows.all)

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    files = {JOBLIB_FILE: buffer.getvalue(), ONNX_FILE: onnx_bytes}
    metadata = Metadata(
        name=MODEL_NAME,
        version=version,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=args.seed,
        n_estimators=args.n_estimators,
        test_size=args.test_size,
        feature_names=list(FEATURE_NAMES),
        class_names=list(data.class_names),
        metrics=metrics,
        onnx_check=onnx_check,
        libraries=library_versions(),
        artifacts={name: Artifact(sha256=sha256_hex(content), bytes=len(content)) for name, content in files.items()},
    )
    return TrainResult(metadata=metadata, files=files, seconds=time.perf_counter() - started)


def write_artifacts(result: TrainResult, out: Path) -> list[Path]:
    """Write every artifact atomically, metadata.json last; return the paths written."""
    paths = []
    for name, content in result.files.items():
        write_atomic(out / name, content)
        paths.append(out / name)
    metadata_json = result.metadata.model_dump_json(indent=2).encode() + b"\n"
    write_atomic(out / METADATA_FILE, metadata_json)
    paths.append(out / METADATA_FILE)
    return paths


def format_summary(result: TrainResult, paths: Sequence[Path]) -> str:
    """A short human summary of a finished run."""
    meta = result.metadata
    check = meta.onnx_check
    written = ", ".join(f"{path} ({path.stat().st_size:,} B)" for path in paths)
    return "\n".join(
        [
            f"trained {meta.name} {meta.version}: {meta.n_estimators} trees, seed {meta.seed}, {result.seconds:.1f} s",
            f"held-out ({meta.metrics.test_rows} rows): accuracy {meta.metrics.accuracy:.3f}, "
            f"macro-F1 {meta.metrics.f1_macro:.3f}",
            f"ONNX matches scikit-learn on {check.rows_checked:,} rows: max |diff| "
            f"{check.max_abs_diff:.2g} (tolerance {check.tolerance:g}), 0 label disagreements",
            f"wrote {written}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run training from the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        result = train(args)
    except ExportMismatch as exc:
        print(f"error: {exc}; nothing was written", file=sys.stderr)
        return 1
    try:
        paths = write_artifacts(result, args.out)
    except OSError as exc:
        print(f"error: cannot write artifacts to {args.out}: {exc}", file=sys.stderr)
        return 1
    print(format_summary(result, paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
