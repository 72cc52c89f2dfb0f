#!/usr/bin/env bash
# `make build` (and the first step of `make e2e-docker`): both images from the Dockerfile, as the
# perf workflow builds them: the Locust image (target `loadtest`) and the API image (the final stage).
# Settings (environment):
#   DOCKER=docker  API_IMAGE=inference-gate-api:local  LOADTEST_IMAGE=inference-gate-loadtest:local
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
API_IMAGE=${API_IMAGE:-inference-gate-api:local}
LOADTEST_IMAGE=${LOADTEST_IMAGE:-inference-gate-loadtest:local}

fail() { printf 'build: %s\n' "$*" >&2; exit 1; }

command -v "$DOCKER" >/dev/null 2>&1 || fail "'$DOCKER' not found: install Docker (or set DOCKER=/path/to/docker)"
"$DOCKER" info >/dev/null 2>&1 || fail "the Docker daemon does not answer ('$DOCKER info' failed): start it"

# BuildKit is needed (RUN --mount caches): through buildx where the client has it, else the
# classic client's built-in BuildKit (DOCKER_BUILDKIT=1, Docker 18.09-22.x clients).
if "$DOCKER" buildx version >/dev/null 2>&1; then
  build=("$DOCKER" buildx build --load)
else
  build=(env DOCKER_BUILDKIT=1 "$DOCKER" build)
fi

started=$SECONDS
"${build[@]}" --target loadtest -t "$LOADTEST_IMAGE" .
"${build[@]}" -t "$API_IMAGE" .
echo "built $LOADTEST_IMAGE and $API_IMAGE in $((SECONDS - started)) s"
