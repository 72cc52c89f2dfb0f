#!/usr/bin/env bash
# `make e2e-docker`: the perf workflow's path on any machine with Docker, small.
#   1. builds both images from the Dockerfile (scripts/build_images.sh, as `make build` does);
#   2. checks the API image: non-root user, `python -m api` entrypoint, no compiler, its size;
#   3. runs a 2-cell matrix (1 and 2 replicas) through the compose backend, gated on
#      thresholds.yaml, then lays the cells out as the gate job downloads them and decides the
#      check with `python -m loadtest verdict`, as the workflow's gate job does.
# Exit 0 only if every step passed. Settings (environment):
#   DOCKER=docker  PY=.venv/bin/python  E2E_OUT=results/e2e-docker
#   COMPOSE=auto   which Compose runs the cells: v2 (`docker compose`), v1 (`docker-compose
#                  --compatibility`) or auto (v2 when it works), as `loadtest run --compose`
#   E2E_ARGS='--replicas 1,2 --cpus 0.5 --memory 512m --users 200 --spawn-rate 100 --run-time 15s'
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
PY=${PY:-.venv/bin/python}
OUT=${E2E_OUT:-results/e2e-docker}
COMPOSE=${COMPOSE:-auto}
# Small on purpose, but enough requests (~750 a cell) for the gate's bound to clear a 1% error limit with
# none failed: at 40 users (~150 requests) it read inconclusive, too close to call.
read -r -a RUN_ARGS <<< "${E2E_ARGS:---replicas 1,2 --cpus 0.5 --memory 512m --users 200 --spawn-rate 100 --run-time 15s}"
export API_IMAGE=${API_IMAGE:-inference-gate-api:local}
export LOADTEST_IMAGE=${LOADTEST_IMAGE:-inference-gate-loadtest:local}

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'e2e-docker: %s\n' "$*" >&2; exit 1; }

step "build $LOADTEST_IMAGE (target loadtest) and $API_IMAGE (final stage)"
DOCKER=$DOCKER bash scripts/build_images.sh

step "check $API_IMAGE"
user=$("$DOCKER" image inspect --format '{{.Config.User}}' "$API_IMAGE")
[[ -n "$user" && "${user%%:*}" != 0 && "${user%%:*}" != root ]] || fail "$API_IMAGE runs as '${user:-root}', not as an unprivileged user"
entrypoint=$("$DOCKER" image inspect --format '{{json .Config.Entrypoint}}' "$API_IMAGE")
[[ "$entrypoint" == '["python","-m","api"]' ]] || fail "$API_IMAGE entrypoint is $entrypoint, not [\"python\",\"-m\",\"api\"]"
# shellcheck disable=SC2016  # $c expands inside the container's shell, not here
compilers=$("$DOCKER" run --rm --entrypoint sh "$API_IMAGE" -c \
  'for c in gcc cc c++ g++ clang make; do command -v "$c"; done; true')
[[ -z "$compilers" ]] || fail "$API_IMAGE contains compilers: $compilers"
echo "user $user, entrypoint $entrypoint, no compiler"
"$DOCKER" image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E 'REPOSITORY|inference-gate'

# The runner itself probes the Docker daemon's open-files limit and lowers NOFILE_LIMIT to fit.
step "run the matrix through the compose backend (Compose: $COMPOSE): ${RUN_ARGS[*]}"
rm -rf "$OUT"
rc=0
"$PY" -m loadtest run --backend compose --compose "$COMPOSE" --image "$API_IMAGE" --loadtest-image "$LOADTEST_IMAGE" \
  --out "$OUT" "${RUN_ARGS[@]}" || rc=$?

step "check the artifacts in $OUT"
cells=0
for cell in "$OUT"/r*-cpu*-mem*/; do  # the cells' folders (calibration/ is the runner's own)
  [[ -d "$cell" ]] || continue
  cells=$((cells + 1))
  for file in locust_stats.csv locust_stats_history.csv locust_failures.csv locust_report.html \
              verdict.json run.json summary.md; do
    [[ -s "$cell$file" ]] || fail "${cell}$file is missing or empty"
  done
  echo "ok ${cell%/}"
done
[[ $cells -eq 2 ]] || fail "expected 2 cell folders in $OUT, found $cells"

# Each cell as the gate job downloads its artifact (perf-r<N>-attempt-<A>/<cell>/), and the jobs'
# results as toJSON(needs) gives them: the verdict merges the cells and decides the check.
step "decide the check as the workflow's gate job does (python -m loadtest verdict)"
gate="$OUT/gate"
replicas=()
for cell in "$OUT"/r*-cpu*-mem*/; do
  name=$(basename "$cell")
  count=${name%%-*}
  count=${count#r}
  replicas+=("$count")
  mkdir -p "$gate/cells/perf-r$count-attempt-1"
  cp -r "$cell" "$gate/cells/perf-r$count-attempt-1/$name"
done
planned=$(IFS=,; echo "[${replicas[*]}]")
needs=$(printf '{"plan": {"result": "success", "outputs": {"replicas": "%s"}}, "build": {"result": "success", "outputs": {}}, "perf": {"result": "%s", "outputs": {}}, "compare": {"result": "skipped", "outputs": {}}}' \
  "$planned" "$([[ $rc -eq 0 ]] && echo success || echo failure)")
verdict_rc=0
"$PY" -m loadtest verdict --needs "$needs" --cells "$gate/cells" --comparison "$gate/comparison" \
  --out "$gate/report" --markdown "$gate/gate.md" || verdict_rc=$?

[[ $rc -eq 0 ]] || fail "python -m loadtest run exited $rc (1 = a limit breached, 2 = could not judge)"
[[ $verdict_rc -eq 0 ]] || fail "python -m loadtest verdict exited $verdict_rc (its ::error:: lines say why)"
step "e2e-docker passed (Compose: $COMPOSE): 2 cells gated, artifacts complete"
