# The two commands of the README, and a few more. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BASE := $(VENV)/.installed-base

.PHONY: install demo test lint typecheck bench clean

# reassess alone: what `make demo` needs (no test tools, no browser driver)
$(BASE): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(BASE)

# reassess and its test tools
$(STAMP): $(BASE)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: the simulated vendor site + the daemon + the web UI on the demo config
demo: $(BASE)
	$(BIN)/reassess demo

## make test: services (PostgreSQL, Chromium), lint, then the whole suite
test: install
	tools/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

## make typecheck: mypy over the packages (not part of `make test`: a new mypy release
## may find new things to say, and that should not fail the suite)
typecheck: install
	$(BIN)/mypy monitor sources storage triggers config bench

## make bench: the benchmark (N=1000 and 5000); figures in bench/results/
bench: install
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reassess-demo.db* reassess-demo.yaml \
		reassess-demo.site.jsonl
