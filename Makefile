# The project's interface. On a fresh machine, `make perf` and `make test` do all the set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON    ?= python3
UV_VERSION = 0.13.8
# uv is pinned and installed into a private tools venv, so builds never depend on what is on PATH.
TOOLS     := .tools
UV        := $(TOOLS)/bin/uv
VENV      := .venv
# `make serve`'s own venv: the service's dependency group alone, as the API image has it.
SERVICE_VENV := .venv-service
PY        := $(VENV)/bin/python
MODEL     := model/metadata.json

# `make perf` overrides, passed straight to `python -m loadtest run` (see `make help`).
PROFILE   ?= local
BACKEND   ?= process
OUT       ?= results/perf
PERF_ARGS ?=
# `make search` overrides, passed straight to `python -m loadtest search`.
SEARCH_OUT  ?= results/search
SEARCH_ARGS ?=
# `make compare` overrides: the base revision, and more arguments for `python -m loadtest compare`.
BASE      ?= main
COMPARE_ARGS ?=
# `make e2e-docker` overrides: the docker client, the Compose (auto = v2 when present, v1, v2), and
# the run's arguments (see scripts/e2e_docker.sh).
DOCKER    ?= docker
COMPOSE   ?= auto
E2E_ARGS  ?=
# `make ui` overrides (empty: the profile's value; PROFILE and BACKEND as for `make perf`), and the
# folder `make ui` writes and `make stats` reads.
REPLICAS  ?=
CPUS      ?=
MEMORY    ?=
WEB_PORT  ?=
UI_ARGS   ?=
UI_OUT    ?= results/ui
# `make build` / `make push`: the local image names (the compose file's defaults), the DockerHub user.
API_IMAGE      ?= inference-gate-api:local
LOADTEST_IMAGE ?= inference-gate-loadtest:local
DOCKER_USER    ?=

.PHONY: help install model test test-slow test-unit serve perf compare search ui stats bench build push e2e-docker lint clean

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

install: $(VENV)/.installed ## Create .venv and install every pinned dependency (uv.lock)

# Every module of model/ shapes the artifacts (training, export, the serving rule it verifies).
$(MODEL): $(wildcard model/*.py) $(VENV)/.installed
	$(PY) -m model.train

model: $(MODEL) ## Train the Iris RandomForest, export and verify ONNX, write model/metadata.json

# The unit tests run on every core (pytest-xdist), then the integration tests on two workers: each asserts a
# mechanism with margins that hold on a busy machine (docs/testing.md), and most of their time is spent
# waiting (0.8 of a core on average here), so two at once took 188 s where one at a time took 361 s.
# The tests that drive Docker share one worker (xdist_group "docker"). The slowest are listed: they are what
# CI time is made of.
# The integration run collects only the files that mark integration tests (tests/test_makefile.py checks
# that no other file can): importing every unit test module only to deselect it cost ~15 s.
INTEGRATION_FILES = $(shell grep -rl --include='test_*.py' 'mark\.integration' tests | sort)
INTEGRATION_WORKERS ?= 2

# The suite starts ~200 Python processes (pytest's workers, the command, Locust, replicas): with
# PYTHONDONTWRITEBYTECODE set (some machines set it) each compiled the project and its libraries again,
# 1-2 s a start. The tests write the caches (__pycache__, ignored by git) whatever the environment says.
test test-slow test-unit: export PYTHONDONTWRITEBYTECODE =

test: install model ## Run the test suite (unit tests on every core, then the integration tests on two workers)
	$(PY) -m pytest -m "not integration" -n auto
	$(PY) -m pytest -m "integration and not slow" -n $(INTEGRATION_WORKERS) --dist loadgroup --durations=15 $(INTEGRATION_FILES)

test-slow: install model ## The integration tests of minutes that `make test` leaves to unit tests at their seams
	$(PY) -m pytest -m slow --durations=15 $(INTEGRATION_FILES)

test-unit: install model ## The fast part of the suite: everything but the integration tests
	$(PY) -m pytest -m "not integration" -n auto

# uv run --only-group syncs the service venv to exactly the `service` group (no gate, no training
# libraries), so a missing service dependency shows here as it would in the image.
serve: model ## Run the API as the container does (python -m api), with the service's dependencies alone
	UV_PROJECT_ENVIRONMENT=$(SERVICE_VENV) $(UV) run --frozen --only-group service python -m api

perf: install model ## The local pipeline: replica matrix under limits, Locust, gate
	$(PY) -m loadtest run --profile $(PROFILE) --backend $(BACKEND) --out $(OUT) $(PERF_ARGS)

search: install model ## The cheapest replicas x CPU x memory that holds the SLO, confirmed (the profile's search grid)
	$(PY) -m loadtest search --profile $(PROFILE) --backend $(BACKEND) --out $(SEARCH_OUT) $(SEARCH_ARGS)

compare: install model ## Compare the working tree with BASE (default main): both sides at once where the machine allows (a duet), else interleaved, judged by statistics
	$(PY) -m loadtest compare --base $(BASE) --out results/compare $(COMPARE_ARGS)
ui: install model $(if $(filter compose,$(BACKEND)),build) ## One cell under limits, Locust's web UI on :8089, every test gated (REPLICAS= CPUS= MEMORY= BACKEND=)
	$(PY) -m loadtest ui --profile $(PROFILE) --backend $(BACKEND) --out $(UI_OUT) \
	  $(if $(REPLICAS),--replicas $(REPLICAS)) $(if $(CPUS),--cpus $(CPUS)) $(if $(MEMORY),--memory $(MEMORY)) \
	  $(if $(WEB_PORT),--web-port $(WEB_PORT)) $(if $(filter compose,$(BACKEND)),--image $(API_IMAGE) --loadtest-image $(LOADTEST_IMAGE)) $(UI_ARGS)

stats: install ## Live per-replica CPU, throttling, memory, restarts, OOM kills of the cell `make ui` runs
	$(PY) -m loadtest stats $(UI_OUT)

bench: install model ## wrk benchmark: our API vs plain scikit-learn FastAPI vs the HTTP floor
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk: apt-get install wrk (as root)" >&2; exit 2; }
	$(PY) -m scripts.bench

build: ## Build both images: the API (the Dockerfile's final stage) and Locust's (target loadtest)
	DOCKER=$(DOCKER) API_IMAGE=$(API_IMAGE) LOADTEST_IMAGE=$(LOADTEST_IMAGE) bash scripts/build_images.sh

# The dry run first: no build when there is no user or the checkout is not a commit.
push: install ## Push the API image as DOCKER_USER/inference-gate-api, tagged as the perf workflow tags it
	DOCKER_USER=$(DOCKER_USER) $(PY) -m scripts.push_image --image $(API_IMAGE) --dry-run >/dev/null
	$(MAKE) --no-print-directory build
	DOCKER=$(DOCKER) DOCKER_USER=$(DOCKER_USER) $(PY) -m scripts.push_image --image $(API_IMAGE)

e2e-docker: install ## Build both images, run a 2-cell matrix through docker-compose.ci.yaml, gate it
	DOCKER=$(DOCKER) COMPOSE=$(COMPOSE) PY=$(PY) $(if $(E2E_ARGS),E2E_ARGS='$(E2E_ARGS)') bash scripts/e2e_docker.sh

lint: install ## ruff (format and lint), strict mypy, actionlint and zizmor on the workflows
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/actionlint
	$(VENV)/bin/zizmor --offline --persona=auditor --no-progress .github

clean: ## Remove the venvs, results and generated model artifacts
	rm -rf $(VENV) $(SERVICE_VENV) $(TOOLS) results model/model.joblib model/model.onnx model/metadata.json
