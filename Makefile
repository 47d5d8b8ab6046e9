# Quick start: `make run` (everything up, demo data, URL and logins printed) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format bench bench-outbox bench-fanout bench-turn bench-owner bench-unified eval clean-data chromium espeak-ng

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-s3.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

run: $(VENV)/.installed-runtime
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m nevermisscall.launcher run

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

# The owner's spoken summaries without an OpenAI key use Debian's espeak-ng (apps/owner/speech.py).
espeak-ng:
	@command -v espeak-ng >/dev/null 2>&1 || { \
		echo "Installing Debian's espeak-ng for the owner's spoken summaries"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q espeak-ng; }

test: $(VENV)/.installed-dev chromium espeak-ng
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m nevermisscall.launcher test -- $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.run $(BENCH_ARGS)

# Outbox drain: 10,000 texts over 50 businesses, two workers, one killed halfway; see bench/README.md.
bench-outbox: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.outbox $(BENCH_ARGS)

# Live-dashboard websocket fan-out (1, 10, 100 dashboards of one business); see bench/README.md.
bench-fanout: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.fanout $(BENCH_ARGS)

# The assistant's server time per SMS turn, no model (missed call, then problem, address, yes); see bench/README.md.
bench-turn: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.turn $(BENCH_ARGS)

# The assistant's evaluation: scripted customers through the real SMS path, pass rate per category
# (docs/evals.md). Runs against the development database; e.g. EVAL_ARGS="--engine openai -v 2".
eval: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python manage.py assistant_eval $(EVAL_ARGS)

# Owner analytics with 100,000 appointments and 200,000 messages, and CSV export memory; see docs/owner.md.
bench-owner: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.owner $(BENCH_ARGS)

# /api/dashboard and every /api/unified/* GET with 1,000,000 calls over 100 businesses (100,000 in
# one), beside /healthz; see docs/analytics.md.
bench-unified: $(VENV)/.installed-dev
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.unified $(BENCH_ARGS)

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-data:
	rm -rf .data
