# The two commands of the README, and a few more. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BASE := $(VENV)/.installed-base

.PHONY: install demo test lint typecheck bench fuzz chaos load faults clean

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

## make test: services (PostgreSQL, Chromium), lint, then the whole suite, one pytest
## worker per core (at most 4; most tests wait on daemons, sites and databases):
## `make test TEST_WORKERS=0` runs it in one process
TEST_WORKERS ?= auto
test: install
	tools/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --maxprocesses 4 --dist worksteal

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

## make fuzz: every kind fuzzed long (2,000 examples each, fixed seed); figures printed
fuzz: install
	$(BIN)/python -m bench.fuzz --examples $${FUZZ_EXAMPLES:-2000} --seed $${FUZZ_SEED:-16}

## make chaos: kill -9 of `reassess check` and `reassess run`, 50 of each, SQLite and PostgreSQL
chaos: install
	tools/test-services.sh
	$(BIN)/python -m bench.chaos --kills $${CHAOS_KILLS:-50}

## make load: the daemon checks 500 sources every 10 s while 4 clients read the UI/API for 60 s
load: install
	$(BIN)/python -m bench.load --sources 500 --interval 10 --seconds 60 --clients 4

## make faults: the fault suite alone (a hostile site on loopback; SQLite and PostgreSQL)
faults: install
	tools/test-services.sh
	$(BIN)/pytest -q tests/test_faults.py tests/test_storage_faults.py tests/test_secrets.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reassess-demo.db* reassess-demo.yaml \
		reassess-demo.site.jsonl
