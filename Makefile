# EventHarbor. On a fresh machine `make run` and `make test` are the only commands you need:
# each creates .venv (and re-installs when setup.py changes) on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCAL := .local

INPUT ?=
KEEP ?=
START ?=
END ?=
TFVARS ?= envs/dev.tfvars
PYTEST_ARGS ?=
MODEL_ARGS ?=
DURATION ?=

.PHONY: help install run test test-fast lint fmt ddl bench backfill deploy-infra deploy-pipeline clean

help:
	@echo "make run            generate a sample, run the pipeline and the models on the local emulators"
	@echo "make run INPUT=...  the same on your own JSON Lines / archive files"
	@echo "make run INPUT=... KEEP=1  add to the previous run's warehouse and archive, rebuild the models"
	@echo "make test           the whole test suite: tests/unit, tests/infra (terraform, checkov, chromium...), tests/integration (emulators)"
	@echo "make test-fast      tests/unit only: pure, no tool, emulator or browser, each property a fifth of its examples (~1.5 min)"
	@echo "make browser        install Debian's chromium for the report's browser test (make test does it when missing)"
	@echo "make lint           ruff, import-linter layer contracts, fresh ddl/ and generated SQL/docs, no breaking schema change"
	@echo "make ddl            regenerate ddl/, the docs' column tables and the scheduled SQL from schemas/ and sql/"
	@echo "make bench          figures against baselines in the same run (validation, chain, make run, models, streaming, storage_write) -> bench/results.json"
	@echo "make fuzz           100,000 hostile inputs through triage, 10,000 through the pipeline on the emulators"
	@echo "make soak           100,000 events through Pub/Sub into the streaming pipeline: events/s, memory, latency, reconciliation"
	@echo "make stream [DURATION=s] [RATE=n]  a live generated feed into the streaming pipeline until Ctrl-C; drains, reconciles"
	@echo "make backfill START=YYYY-MM-DD END=YYYY-MM-DD [MODEL_ARGS='--project P ...']   rebuild the models"
	@echo "make deploy-infra   terraform init + apply (TFVARS=$(TFVARS))"
	@echo "make deploy-pipeline submit the streaming job to Dataflow"

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# localdev/, warehouse/ and bench/ are development tools, not shipped to workers: import them from the checkout.
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/eventharbor-checkout.pth"
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium, for the report's browser test (tests/*/test_report*.py): installed when missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: browser
browser: $(CHROMIUM)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

run: $(STAMP)
	$(PY) -m localdev.demo $(if $(INPUT),--input '$(INPUT)') $(if $(KEEP),--keep)

test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest $(PYTEST_ARGS)

# The loop to run while editing: the pure tests, the hypothesis properties at a fifth of their budget.
test-fast: $(STAMP)
	FUZZ_SCALE=0.2 $(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m schemas.ddl --check
	$(PY) -m schemas.compat --check
	$(PY) -m warehouse.render --check
	$(VENV)/bin/lint-imports
	$(VENV)/bin/sqlfluff lint sql ddl
	$(VENV)/bin/sqlfluff lint --config terraform/sqlfluff-templatefile.cfg terraform/generated

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

ddl: $(STAMP)
	$(PY) -m schemas.ddl
	$(PY) -m warehouse.render

bench: $(STAMP)
	$(PY) -m bench

.PHONY: fuzz
fuzz: $(STAMP)
	$(PY) -m localdev.fuzz $(FUZZ_ARGS)

.PHONY: soak
soak: $(STAMP)
	$(PY) -m localdev.soak $(SOAK_ARGS)

.PHONY: stream
stream: $(STAMP)
	$(PY) -m localdev.live_stream $(if $(DURATION),--duration $(DURATION)) $(if $(RATE),--rate $(RATE)) $(if $(PIPELINE_ARGS),-- $(PIPELINE_ARGS))

backfill: $(STAMP)
	@test -n "$(START)" -a -n "$(END)" || { echo "usage: make backfill START=YYYY-MM-DD END=YYYY-MM-DD" >&2; exit 2; }
	$(PY) -m warehouse.runner backfill --start $(START) --end $(END) $(MODEL_ARGS)

deploy-infra:
	cd terraform && terraform init -input=false && terraform apply -var-file=$(TFVARS)

deploy-pipeline: $(STAMP)
	./scripts/deploy_pipeline.sh

clean:
	rm -rf $(LOCAL) .pytest_cache
