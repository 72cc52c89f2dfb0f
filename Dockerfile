# The images of the performance gate, built from one file (docs/container-and-ci.md):
#   docker build -t inference-gate-api:local .                        # the API (final stage)
#   docker build --target loadtest -t inference-gate-loadtest:local .  # Locust + the scenario
# No `# syntax=` line: the built-in frontend has RUN --mount, and a syntax line pulls an image.

# An ARG, so a mirror or a digest-pinned base can be swapped in without editing this file.
ARG BASE_IMAGE=python:3.11-slim

# ---- base: what every stage shares.
FROM ${BASE_IMAGE} AS base
# No .pyc writes at run time (read-only code), unbuffered logs, the project venv first on PATH.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# The repository's layout: `python -m api`, `python -m model.train`.
WORKDIR /app

# ---- uv: the pinned installer, for the build stages only.
FROM base AS uv
# The Makefile's UV_VERSION (a test keeps the two equal).
ARG UV_VERSION=0.13.8
# From PyPI with pip: every builder reaches it, no installer image needed.
RUN python -m pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
# Venv outside /app, bytecode compiled at build time, copies (the cache is a mount), the base's
# Python only, the OS trust store.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_SYSTEM_CERTS=1
# Only the lock files: the dependency layers are rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./

# ---- runtime-deps: the API's dependencies, the `service` group alone (no pytest, scikit-learn,
# Locust, nor the gate's own dependencies: those are the project's, for the Locust image).
FROM uv AS runtime-deps
# Exactly uv.lock (fails if stale), dependencies before the source.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --only-group service

# ---- train: the model is trained and verified here, never copied in from elsewhere.
FROM uv AS train
# The service's dependencies plus the `train` group.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --only-group service --only-group train
# Only model/: API or load-test edits do not retrain.
COPY model/ model/
# Train (fails on any ONNX/scikit-learn disagreement), make read-only, re-read as the API does.
RUN python -m model.train --out /artifacts \
 && chmod 0444 /artifacts/* \
 && python -c "import sys; from pathlib import Path; from model.predictor import load_predictor; \
meta, predictor = load_predictor(Path('/artifacts')); \
label, probabilities = predictor.predict_one([5.1, 3.5, 1.4, 0.2]); \
print('verified', meta.name, meta.version, sorted(meta.artifacts), 'setosa row ->', meta.class_names[label]); \
sys.exit(meta.class_names[label] != 'setosa')"

# ---- loadtest-deps: the gate's dependencies (the project's own, no group): Locust and the
# scenario's libraries.
FROM uv AS loadtest-deps
# The load generator needs neither the API's stack nor the training libraries.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-install-project --no-default-groups

# ---- loadtest: the image of the compose file's Locust services.
FROM base AS loadtest
# `loadtest` importable whatever the working directory.
ENV PYTHONPATH=/app
# A fixed unprivileged id (compose may run it as the host user, who then owns the results).
RUN groupadd --system --gid 10001 loadtest \
 && useradd --system --uid 10001 --gid loadtest --no-create-home --shell /usr/sbin/nologin loadtest
# The venv without uv or caches.
COPY --from=loadtest-deps /opt/venv /opt/venv
# The scenario and the package it imports.
COPY loadtest/ loadtest/
# The SLO and profiles travel with the scenario.
COPY thresholds.yaml ./
# A locustfile that cannot be imported fails the build, not the CI run.
RUN locust -f loadtest/locustfile.py --list
USER 10001:10001
# `docker run IMAGE -f loadtest/locustfile.py --headless ...` reads like Locust's own CLI.
ENTRYPOINT ["locust"]
# Without arguments: the options, never an unbounded load.
CMD ["-f", "loadtest/locustfile.py", "--help"]

# ---- api (final, the default target): the service, slim and unprivileged.
FROM base AS api
# The artifacts' place, whatever the working directory.
ENV MODEL_DIR=/app/model
# Never root; a fixed id makes file ownership predictable.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
# Only the runtime venv: no uv, no pip cache, no compiler, no scikit-learn (ONNX Runtime serves).
COPY --from=runtime-deps /opt/venv /opt/venv
# Source after dependencies: a code change rebuilds only these small layers.
COPY model/ model/
COPY api/ api/
# The artifacts from `train`, never a file from the context.
COPY --from=train /artifacts/ model/
# The app imports with the runtime dependencies alone; our modules compiled for read-only code.
RUN python -c "import api.app" && python -m compileall -q api model
# Numeric, so Kubernetes' runAsNonRoot can verify it; files stay root-owned and read-only.
USER 10001:10001
# API_PORT's default (the compose file and its healthcheck use it).
EXPOSE 8000
# Exec form: uvicorn is PID 1 and gets SIGTERM for a graceful stop.
ENTRYPOINT ["python", "-m", "api"]
