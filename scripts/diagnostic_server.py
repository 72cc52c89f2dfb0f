"""The benchmark's diagnostic server: the production app plus routes that do parts of what
POST /predict does.

`POST /diagnostic/validate-only` takes the same body (`PredictRequest`, same FastAPI
validation, same body limit, same metrics middleware) and answers a constant, pre-rendered
prediction. Measured next to GET / and POST /predict, it splits the gap between them into
"reading and validating a JSON body in FastAPI" and "the inference itself".
`POST /diagnostic/no-body` sits on the same kind of router but declares no body, so FastAPI
never reads it: the cost of a POST on that router before any body work.
These routes exist only here, never in the production app. Only scripts/bench.py and
scripts/inprocess_bench.py use them.

    MODEL_DIR=model python scripts/diagnostic_server.py --port 18011
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from fastapi import APIRouter, FastAPI, Response

# Run by path (`python scripts/diagnostic_server.py`, as the benchmark and --api-command do): the
# repository root goes on sys.path before the project's imports.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from api.request_body import json_body_route
from api.schemas import Prediction, PredictRequest
from api.settings import get_settings

CONSTANT_ANSWER = (
    b'{"prediction":"setosa","class_id":0,"probabilities":'
    b'{"setosa":1.0,"versicolor":0.0,"virginica":0.0},"model_version":"diagnostic"}'
)


def create_router(max_body_bytes: int) -> APIRouter:
    """The diagnostic routes, reading their body exactly as the predict routes do (`json_body_route`)."""
    router = APIRouter(prefix="/diagnostic", route_class=json_body_route(max_body_bytes))
    router.add_api_route("/validate-only", create_constant_prediction, methods=["POST"], response_model=Prediction)
    router.add_api_route("/no-body", create_constant_answer, methods=["POST"], response_model=Prediction)
    return router


async def create_constant_prediction(body: PredictRequest) -> Response:
    """Validate the body like POST /predict, answer a constant: the cost without the model."""
    return Response(CONSTANT_ANSWER, media_type="application/json")


async def create_constant_answer() -> Response:
    """Answer a constant without reading the body: a POST's cost before any body work."""
    return Response(CONSTANT_ANSWER, media_type="application/json")


def create_diagnostic_app() -> FastAPI:
    """The production app plus the diagnostic routes (same placement and body limit as /predict)."""
    app = create_app()
    app.include_router(create_router(get_settings().api_max_body_bytes))
    return app


def main() -> int:
    """Serve the production app plus the diagnostic routes on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    args = parser.parse_args()
    uvicorn.run(
        create_diagnostic_app(),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
