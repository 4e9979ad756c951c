# ISS Tracker: the two commands a new user needs are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Go's default install location, for the control-plane build when `go` is not on PATH yet.
export PATH := $(PATH):/usr/local/go/bin

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := services/iss_contract services/iss_runtime services/iss_physics \
            services/iss_producer services/iss_enricher \
            services/iss_liveview services/iss_cli services/iss_passes operator/iss_operator \
            dashboards/iss_dashboards hack/iss_devstack

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (e.g. 'sudo apt-get install python3.11 python3.11-venv')" >&2; exit 1; }
	@echo "==> creating $(VENV) and installing the project with its dev tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --progress-bar off -e '.[dev]'
	@touch $@

.PHONY: venv
venv: $(STAMP) ## create the virtualenv and install the project

.PHONY: install
install: $(STAMP) ## fetch and build every service binary and container image the stack and tests use (cached)
	$(BIN)/iss-devstack install

.PHONY: images
images: $(STAMP) ## build every container image here from Debian packages, no registry (layers reused)
	$(BIN)/iss-devstack images

.PHONY: up
up: $(STAMP) ## run the whole pipeline locally: Kafka, PostgreSQL, Prometheus, producer, enricher, live view
	$(BIN)/iss-devstack install --no-controlplane --no-browser --no-images
	$(BIN)/iss-devstack up

.PHONY: down
down: ## stop everything `make up` started (data is kept)
	@if [ -x $(BIN)/iss-devstack ]; then $(BIN)/iss-devstack down; else echo "nothing to stop"; fi

.PHONY: reset
reset: ## stop everything and delete the local stack's data
	$(BIN)/iss-devstack reset

.PHONY: status
status: $(STAMP) ## components, freshness, lag, latest position of the local stack
	$(BIN)/iss-tracker status --local

.PHONY: cluster-up
cluster-up: $(STAMP) ## the Kubernetes-native system on this machine: a real node, the images, the chart
	$(BIN)/iss-devstack install --no-browser
	$(BIN)/iss-devstack cluster-up

.PHONY: cluster-down
cluster-down: ## stop everything `make cluster-up` started; the node leaves nothing behind
	@if [ -x $(BIN)/iss-devstack ]; then $(BIN)/iss-devstack cluster-down; else echo "nothing to stop"; fi

.PHONY: lint
lint: $(STAMP) ## ruff, mypy --strict and the import layers (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports --no-cache

.PHONY: generated
generated: $(STAMP) ## regenerate the JSON Schemas, the dashboards' JSON and the chart's copies
	$(BIN)/python -m iss_contract.schemas
	$(BIN)/iss-dashboards
	bash hack/sync-chart-files.sh

.PHONY: check-generated
check-generated: $(STAMP) ## fail when generated files are stale
	$(BIN)/python -m iss_contract.schemas --check
	$(BIN)/iss-dashboards --check
	bash hack/sync-chart-files.sh --check

.PHONY: test
test: install lint check-generated ## the full suite against real local services (six pytest streams at once)
	$(BIN)/python -m iss_devstack.testrun $(PYTEST_ARGS)

BENCHMARKS := bench-producer bench-enricher bench-enricher-parts bench-operator bench-dashboards \
              bench-liveview bench-passes bench-node bench-kafka-security

.PHONY: bench $(BENCHMARKS)
bench: $(BENCHMARKS) ## every benchmark (each starts its own services and prints its figures)

bench-producer: $(STAMP) ## constellation throughput on one core; single-ISS tick-to-ack
	$(BIN)/python benchmarks/producer_bench.py

bench-enricher: $(STAMP) ## Kafka -> enrichment -> PostgreSQL throughput next to its ceiling; latency; memory
	$(BIN)/python benchmarks/enricher_bench.py

bench-enricher-parts: $(STAMP) ## per-record cost of decoding, encoding and the database merge
	$(BIN)/python benchmarks/enricher_parts_bench.py

bench-operator: $(STAMP) ## restart latency, outage recovery, SIGTERM exit, API requests and memory with 50 Pipelines
	$(BIN)/python benchmarks/operator_bench.py

bench-dashboards: $(STAMP) ## geomap and KPI queries over 30 days of 1 Hz data
	$(BIN)/python benchmarks/dashboards_bench.py --start-server

bench-liveview: $(STAMP) ## Kafka-to-browser latency through the live view
	$(BIN)/python benchmarks/liveview_latency.py

bench-passes: $(STAMP) ## pass predictions for 1,000 satellites over one observer for 24 h, one core
	$(BIN)/python benchmarks/passes_bench.py

bench-node: $(STAMP) ## the local node: install to first row, frozen enricher to fresh rows, memory
	$(BIN)/python benchmarks/node_bench.py

bench-kafka-security: $(STAMP) ## producer and enricher throughput over SASL_SSL + SCRAM next to plaintext
	$(BIN)/python benchmarks/kafka_security_bench.py
