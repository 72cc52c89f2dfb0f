"""python -m model.train: artifacts, metadata, reproducibility, CLI."""

from __future__ import annotations

import platform
from datetime import datetime
from pathlib import Path

import joblib
import numpy as np
import onnx
import onnxruntime
import pytest
import skl2onnx
import sklearn
from sklearn.metrics import accuracy_score, f1_score

from model import train
from model.artifacts import JOBLIB_FILE, METADATA_FILE, ONNX_FILE, Metadata, sha256_hex
from model.data import FEATURE_NAMES, load_dataset
from tests.usage import usage_error


def read_metadata_json(model_dir: Path) -> Metadata:
    return Metadata.model_validate_json((model_dir / METADATA_FILE).read_text())


def test_writes_the_three_artifacts(trained_model_dir: Path) -> None:
    assert sorted(p.name for p in trained_model_dir.iterdir()) == sorted([JOBLIB_FILE, ONNX_FILE, METADATA_FILE])


def test_metadata_records_the_sha256_of_every_artifact(trained_model_dir: Path) -> None:
    metadata = read_metadata_json(trained_model_dir)
    assert set(metadata.artifacts) == {JOBLIB_FILE, ONNX_FILE}
    for name, artifact in metadata.artifacts.items():
        content = (trained_model_dir / name).read_bytes()
        assert artifact.sha256 == sha256_hex(content)
        assert artifact.bytes == len(content)


def test_metadata_describes_the_model(trained_model_dir: Path) -> None:
    metadata = read_metadata_json(trained_model_dir)
    onnx_sha = metadata.artifacts[ONNX_FILE].sha256
    assert metadata.name == "iris-random-forest"
    assert metadata.version == f"1.0.0+{onnx_sha[:12]}"
    assert datetime.fromisoformat(metadata.trained_at).tzinfo is not None
    assert (metadata.seed, metadata.n_estimators, metadata.test_size) == (42, 100, 0.2)
    assert metadata.feature_names == list(FEATURE_NAMES)
    assert metadata.class_names == ["setosa", "versicolor", "virginica"]
    # The versions of what made and checked the artifacts, as the packages themselves report them.
    assert metadata.libraries == {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }
    assert metadata.onnx_check.rows_checked > 150 + 2000
    assert metadata.onnx_check.max_abs_diff <= metadata.onnx_check.tolerance == 1e-5


def test_held_out_metrics_are_those_of_the_saved_model(trained_model_dir: Path) -> None:
    metadata = read_metadata_json(trained_model_dir)
    model = joblib.load(trained_model_dir / JOBLIB_FILE)
    data = load_dataset(metadata.seed, metadata.test_size)
    predicted = model.predict(data.X_test)
    assert metadata.metrics.test_rows == len(data.y_test) == 30
    assert metadata.metrics.accuracy == pytest.approx(accuracy_score(data.y_test, predicted))
    assert metadata.metrics.f1_macro == pytest.approx(f1_score(data.y_test, predicted, average="macro"))
    assert 0.8 <= metadata.metrics.accuracy <= 1.0


def test_two_runs_give_identical_models(trained_model_dir: Path, tmp_path: Path) -> None:
    assert train.main(["--out", str(tmp_path), "--check-rows", "0"]) == 0
    first = joblib.load(trained_model_dir / JOBLIB_FILE)
    second = joblib.load(tmp_path / JOBLIB_FILE)
    rows = np.vstack([load_dataset(42, 0.2).X, np.random.default_rng(7).uniform(0.1, 10, size=(5000, 4))])
    np.testing.assert_array_equal(first.predict_proba(rows), second.predict_proba(rows))
    assert (tmp_path / ONNX_FILE).read_bytes() == (trained_model_dir / ONNX_FILE).read_bytes()
    assert read_metadata_json(tmp_path).version == read_metadata_json(trained_model_dir).version


def test_a_different_seed_gives_a_different_model(trained_model_dir: Path, tmp_path: Path) -> None:
    assert train.main(["--out", str(tmp_path), "--seed", "7", "--check-rows", "0"]) == 0
    assert read_metadata_json(tmp_path).seed == 7
    assert read_metadata_json(tmp_path).version != read_metadata_json(trained_model_dir).version


def test_prints_a_short_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--out", str(tmp_path), "--check-rows", "100", "--model-version", "2.1.0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("trained iris-random-forest 2.1.0+")
    assert "held-out (30 rows): accuracy" in lines[1]
    assert "ONNX matches scikit-learn on" in lines[2]
    assert str(tmp_path / METADATA_FILE) in lines[3]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--test-size", "1.5"], "'1.5' must be between 0 and 1"),
        (["--test-size", "abc"], "'abc' is not a number"),
        (["--n-estimators", "0"], "'0' must be at least 1"),
        (["--seed", "-1"], "'-1' must be at least 0"),
        (["--check-rows", "many"], "'many' is not a whole number"),
    ],
)
def test_rejects_bad_options(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in usage_error(capsys, train.main, argv)


def test_env_var_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_N_ESTIMATORS", "7")
    monkeypatch.setenv("MODEL_DIR", "/somewhere")
    args = train.build_parser().parse_args([])
    assert (args.n_estimators, args.out) == (7, Path("/somewhere"))


def test_unwritable_output_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert train.main(["--out", str(blocker / "model"), "--check-rows", "0"]) == 1
    assert f"cannot write artifacts to {blocker / 'model'}" in capsys.readouterr().err
