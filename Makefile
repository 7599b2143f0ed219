# Everyday targets. Every one of them creates .venv and installs the pinned stack if needed.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# kiwipiepy-model ships only as an sdist (its build is pure packaging, no network); everything
# else must come as a wheel so no install step can download a binary behind our back.
PIP_FLAGS := --only-binary :all: --no-binary kiwipiepy-model

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0
export MLFLOW_DISABLE_TELEMETRY ?= true
export DO_NOT_TRACK ?= 1

.PHONY: install dashboards-install browser postgres demo demo-distributed dashboards reports test lint typecheck unit dev bench lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip==25.3'
	$(BIN)/pip install $(PIP_FLAGS) -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The Evidence packages (npm ci into dashboards/node_modules): the only other step that needs a
# registry. `make demo` does it by itself on its first dashboards build; this runs it up front.
dashboards-install: install
	$(BIN)/sentiment dashboards install

# Browser tests drive Debian's Chromium (never a downloaded one); installed once per machine,
# with CJK fonts so screenshots of Korean pages show text, not boxes.
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk
browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    $(BROWSER_PACKAGES); }

# The scale-out tests and `make demo-distributed` start a throwaway PostgreSQL cluster from
# Debian's server package (initdb into a temporary folder, loopback port); installed once per
# machine. Its own cluster service is not used.
POSTGRES_PACKAGES := postgresql
postgres:
	@dpkg -s $(POSTGRES_PACKAGES) >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    $(POSTGRES_PACKAGES); }

# Dagster refuses to start without an existing DAGSTER_HOME holding its instance config. It is
# rendered every time: dagster.yaml plus PostgreSQL storage when SENTIMENT_DAGSTER_POSTGRES_URL
# is set, which a file-date rule would miss.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml $(STAMP) FORCE
	$(BIN)/python -m sentiment_assets.lib.scaleout.instance

FORCE:

# The demo job writes warehouse/marts.duckdb, then builds the Evidence site from it.
demo: install
	$(BIN)/sentiment demo

# The same demo job on PostgreSQL + S3 servers it starts and stops (README: Scaling out).
demo-distributed: install postgres
	$(BIN)/sentiment demo-distributed

dashboards: install
	$(BIN)/sentiment dashboards build

reports: install
	$(BIN)/sentiment report

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/pyright

unit: install browser postgres $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/pytest

test: lint typecheck unit

dev: install $(DAGSTER_HOME)/dagster.yaml
	env --default-signal=INT,TERM $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install
	$(BIN)/python -m bench.run

# Re-pin after changing dependencies in pyproject.toml.
lock: install
	{ sed -n '1,2p' requirements.lock; $(BIN)/pip freeze --all --exclude-editable \
	  | grep -v '^pip==' | sed 's/+cpu$$//'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf warehouse/catalog.sqlite* warehouse/data models/*/ .dagster_home
