# The two commands of the README: `make serve` and `make test`. `make bench` writes
# BENCHMARKS.md. Everything installs into .venv; nothing outside the project is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= development.ini
STAMP := $(VENV)/.installed

.PHONY: serve test bench install lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	@mkdir -p var
	$(BIN)/propolis -c $(CONFIG) initdb
	$(BIN)/propolis -c $(CONFIG) demo
	$(BIN)/propolis -c $(CONFIG) worker --beat & \
	  worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/pserve $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check propolis tests benchmarks

clean:
	rm -rf $(VENV) var build *.egg-info
