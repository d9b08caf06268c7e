# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test check setup browser services web bench clean cli

run: setup
	$(VENV)/bin/crowdfill serve --demo

# Any crowdfill command without activating the virtualenv: make cli ARGS="export t-1 --format csv"
cli: setup
	$(VENV)/bin/crowdfill $(ARGS)

test: setup browser services
	scripts/check

check:
	scripts/check

setup: $(VENV)/.installed web/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser:
	scripts/install-browser

services:
	scripts/install-services

bench: setup
	for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) web/node_modules .mypy_cache .pytest_cache .ruff_cache
