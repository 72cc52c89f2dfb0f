"""The benchmark's baseline: a plain FastAPI server calling scikit-learn on every request.

This is how the workshop served the model: the joblib RandomForest, a sync (thread-pool)
handler, `predict_proba` per request (a Python loop over 100 trees, ~4 ms of CPU a row).
It runs on the same uvicorn + uvloop + httptools as the real service, so the benchmark
isolates the inference design. Not part of the service: the benchmark starts it, and the runner
can load-test it in place of the service (`--api-command`), as the regression the gate must catch.

    python scripts/baseline_server.py --port 18010 [--model-dir model] [--reuse-port]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

# Run by path (`python scripts/baseline_server.py`, as the benchmark and --api-command do): the
# repository root goes on sys.path before the project's imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest.runner.null_target import listening_socket
from model.artifacts import JOBLIB_FILE, ArtifactError, read_metadata, read_verified


class Features(BaseModel):
    """The workshop's request body."""

    features: list[float]


def create_app(model_dir: Path) -> FastAPI:
    """The workshop-style app; the pickle is unpickled only after its sha256 matched."""
    metadata = read_metadata(model_dir)
    model = joblib.load(io.BytesIO(read_verified(model_dir, JOBLIB_FILE, metadata)))
    class_names = metadata.class_names
    app = FastAPI(title="baseline: scikit-learn per request")

    @app.get("/")
    def root() -> dict[str, str]:
        """The landing reply."""
        return {"service": "iris-baseline", "status": "ready"}

    @app.get("/health")
    def health() -> dict[str, str]:
        """Ready once the model is loaded."""
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: Features) -> dict[str, object]:
        """scikit-learn predict_proba on one row."""
        probabilities = model.predict_proba(np.array([body.features]))[0]
        class_id = int(np.argmax(probabilities))
        return {
            "prediction": class_names[class_id],
            "class_id": class_id,
            "probabilities": dict(zip(class_names, probabilities.tolist(), strict=True)),
            "model_version": metadata.version,
        }

    return app


def main() -> int:
    """Serve the baseline app on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path(os.environ.get("MODEL_DIR", "model")),
        help="artifacts folder (env MODEL_DIR, default: model)",
    )
    parser.add_argument(
        "--reuse-port", action="store_true", help="bind with SO_REUSEPORT, so that replicas can share the port"
    )
    args = parser.parse_args()
    try:
        app = create_app(args.model_dir)
        sock = listening_socket("127.0.0.1", args.port, args.reuse_port)
    except ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot bind 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    config = uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
