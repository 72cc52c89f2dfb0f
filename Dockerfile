# The images of the performance gate, built from one file:
#   docker build -t inference-gate-api:local .                                  # the API (final stage)
#   docker build --target loadtest -t inference-gate-loadtest:local .            # Locust + the scenario
# `make e2e-docker` builds both; the perf workflow builds them once with buildx and the GHA cache.
#
# No `# syntax=` line on purpose: the builder's built-in Dockerfile frontend has everything used
# here (RUN --mount cache), and a syntax line would pull a frontend image at every build.

# Why an ARG: a mirror or a digest-pinned base can be swapped in without editing this file.
ARG BASE_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# base: what every stage shares.
# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS base
# Why: no .pyc writes at run time (the code is read-only for the app user), logs unbuffered so
# `docker logs` shows them at once, and the project venv first on PATH so `python` is the venv's.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# Why: every module runs from the repository root layout (`python -m api`, `python -m model.train`).
WORKDIR /app

# ---------------------------------------------------------------------------------------------
# uv: the pinned installer, used only by the build stages below.
# ---------------------------------------------------------------------------------------------
FROM base AS uv
# Why an ARG: the same pin as the Makefile's UV_VERSION (a test keeps the two equal).
ARG UV_VERSION=0.13.8
# Why pip: PyPI is the one registry every builder reaches; no installer image is needed.
RUN python -m pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
# Why: venv outside /app so the source COPY never shadows it; bytecode compiled once at build
# time (fast start, read-only at run time); copy mode because the cache is a separate mount; the
# base image's interpreter only; the OS trust store (Debian ca-certificates), as pip uses.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_SYSTEM_CERTS=1
# Why only these two files: the dependency layers below are rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./

# ---------------------------------------------------------------------------------------------
# runtime-deps: the API's dependencies and nothing else ([project] dependencies, no groups).
# ---------------------------------------------------------------------------------------------
FROM uv AS runtime-deps
# Why --frozen: install exactly uv.lock, fail if it is stale; --no-install-project: dependencies
# before source; --no-default-groups: the dev group (pytest, scikit-learn, Locust) stays out.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --no-default-groups

# ---------------------------------------------------------------------------------------------
# train: trains the model inside the build and verifies it, so the image never ships an
# artifact that was made elsewhere.
# ---------------------------------------------------------------------------------------------
FROM uv AS train
# Why: the runtime dependencies plus the `train` group (scikit-learn, skl2onnx, onnx, joblib).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --no-default-groups --group train
# Why only common/ and model/: training needs nothing else, so API or load-test edits do not retrain.
COPY common/ common/
# Why: the training code, beside the plumbing it imports.
COPY model/ model/
# Why: training fails on any ONNX/scikit-learn disagreement and writes nothing then; chmod makes
# the artifacts read-only for everyone, so the app user can read but never rewrite them; the
# last command re-reads them the way the API does (every sha256 checked, ONNX session built) and
# answers one Iris row, so a broken artifact stops the build here.
RUN python -m model.train --out /artifacts \
 && chmod 0444 /artifacts/* \
 && python -c "import sys; from pathlib import Path; from model.predictor import load_predictor; \
meta, predictor = load_predictor(Path('/artifacts')); \
label, probabilities = predictor.predict_one([5.1, 3.5, 1.4, 0.2]); \
print('verified', meta.name, meta.version, sorted(meta.artifacts), 'setosa row ->', meta.class_names[label]); \
sys.exit(meta.class_names[label] != 'setosa')"

# ---------------------------------------------------------------------------------------------
# loadtest-deps: Locust and the scenario's libraries only (the `loadtest` group).
# ---------------------------------------------------------------------------------------------
FROM uv AS loadtest-deps
# Why --only-group: the load generator needs neither the API's stack nor the training libraries.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --only-group loadtest

# ---------------------------------------------------------------------------------------------
# loadtest: the image of the compose file's locust-master and locust-worker services.
# ---------------------------------------------------------------------------------------------
FROM base AS loadtest
# Why: the `loadtest` package importable whatever the working directory (`docker run -w`,
# `python -c`), not only where Locust happens to put the locustfile's parent on sys.path.
ENV PYTHONPATH=/app
# Why: a fixed unprivileged id; compose may still run it as the host user (LOADTEST_UID/GID)
# so that the result files in the mounted folder belong to that user.
RUN groupadd --system --gid 10001 loadtest \
 && useradd --system --uid 10001 --gid loadtest --no-create-home --shell /usr/sbin/nologin loadtest
# Why COPY --from: the venv without uv or pip caches; the build stages stay behind.
COPY --from=loadtest-deps /opt/venv /opt/venv
# Why: the scenario (loadtest/locustfile.py) and the package it imports; nothing else of the repo.
COPY loadtest/ loadtest/
# Why: the SLO and profiles travel with the scenario, so the image can gate on its own.
COPY thresholds.yaml ./
# Why: fail the build, not the CI run, when the locustfile cannot be imported in this image;
# `--list` loads it and prints its user classes.
RUN locust -f loadtest/locustfile.py --list
# Why: Locust needs no privilege; compose's `user:` may still map it to the host user.
USER 10001:10001
# Why: `docker run IMAGE -f loadtest/locustfile.py --headless ...` reads like Locust's own CLI.
ENTRYPOINT ["locust"]
# Why: without arguments, show the options rather than start an unbounded load.
CMD ["-f", "loadtest/locustfile.py", "--help"]

# ---------------------------------------------------------------------------------------------
# api (final, the default target): the service, slim and unprivileged.
# ---------------------------------------------------------------------------------------------
FROM base AS api
# Why: read the artifacts from where the image puts them, whatever the working directory.
ENV MODEL_DIR=/app/model
# Why: the service must not run as root; a fixed id makes file ownership predictable.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
# Why COPY --from: only the runtime venv arrives; no uv, no pip cache, no compiler, no
# scikit-learn (the API serves ONNX through onnxruntime).
COPY --from=runtime-deps /opt/venv /opt/venv
# Why source after dependencies: a code change rebuilds only these small layers; common/ is the
# standard-library plumbing (argparse types, atomic writes) every part shares.
COPY common/ common/
# Why: the artifact reader and the ONNX predictor the API imports (training code is never imported).
COPY model/ model/
# Why: the service itself.
COPY api/ api/
# Why: the artifacts trained and verified in the `train` stage, never a file from the context
# (.dockerignore keeps local ones out).
COPY --from=train /artifacts/ model/
# Why: prove at build time that the app imports with the runtime dependencies alone, and
# compile our own modules so the read-only code needs no .pyc writes at start-up.
RUN python -c "import api.app" && python -m compileall -q api model
# Why numeric: Kubernetes' runAsNonRoot can verify a numeric user; files stay root-owned, read-only.
USER 10001:10001
# Why: the port the compose file and the healthcheck use (API_PORT's default).
EXPOSE 8000
# Why exec form: uvicorn is PID 1 and receives SIGTERM directly for a graceful stop. The
# healthcheck lives in docker-compose.ci.yaml (slim has no curl; it uses python).
ENTRYPOINT ["python", "-m", "api"]
