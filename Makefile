# The project's interface. On a fresh machine, `make perf` and `make test` do all the set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON    ?= python3
UV_VERSION = 0.13.8
# uv is pinned and installed into a private tools venv, so builds never depend on what is on PATH.
TOOLS     := .tools
UV        := $(TOOLS)/bin/uv
VENV      := .venv
PY        := $(VENV)/bin/python
MODEL     := model/metadata.json

# `make perf` overrides, passed straight to `python -m loadtest run` (see `make help`).
PROFILE   ?= local
BACKEND   ?= process
OUT       ?= results/perf
PERF_ARGS ?=
# `make compare` overrides: the base revision, and more arguments for `python -m loadtest compare`.
BASE      ?= main
COMPARE_ARGS ?=
# `make e2e-docker` overrides: the docker client, the Compose (auto = v2 when present, v1, v2), and
# the run's arguments (see scripts/e2e_docker.sh).
DOCKER    ?= docker
COMPOSE   ?= auto
E2E_ARGS  ?=

.PHONY: help install model test test-unit serve perf compare bench e2e-docker lint clean

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

test: install model ## Run the test suite (unit + integration)
	$(PY) -m pytest

test-unit: install model ## The fast part of the suite: everything but the integration tests
	$(PY) -m pytest -m "not integration"

serve: install model ## Run the API as the container does (python -m api)
	$(PY) -m api

perf: install model ## The local pipeline: replica matrix under limits, Locust, gate
	$(PY) -m loadtest run --profile $(PROFILE) --backend $(BACKEND) --out $(OUT) $(PERF_ARGS)

compare: install model ## Compare the working tree with BASE (default main): interleaved trials, judged by statistics
	$(PY) -m loadtest compare --base $(BASE) --out results/compare $(COMPARE_ARGS)

bench: install model ## wrk benchmark: our API vs plain scikit-learn FastAPI vs the HTTP floor
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk: apt-get install wrk (as root)" >&2; exit 2; }
	$(PY) -m scripts.bench

e2e-docker: install ## Build both images, run a 2-cell matrix through docker-compose.ci.yaml, gate it
	DOCKER=$(DOCKER) COMPOSE=$(COMPOSE) PY=$(PY) $(if $(E2E_ARGS),E2E_ARGS='$(E2E_ARGS)') bash scripts/e2e_docker.sh

lint: install ## ruff (format and lint), strict mypy, actionlint on the workflows
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/actionlint

clean: ## Remove the venvs, results and generated model artifacts
	rm -rf $(VENV) $(TOOLS) results model/model.joblib model/model.onnx model/metadata.json
