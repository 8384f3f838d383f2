# make test: create the virtual environment if missing, install djfapi with [dev], run the
# suite on SQLite and (when reachable) PostgreSQL.  make lint: ruff and mypy.
#   make test PYTHON=python3.12 VENV=.venv-py312 DJANGO='django>=6,<7'
PYTHON ?= python3
VENV ?= .venv
DJANGO ?= django>=5.2
PYTEST_ARGS ?=

# The stamp names the interpreter and Django asked for, so asking for others rebuilds the venv.
STAMP := $(VENV)/.installed-$(shell echo '$(PYTHON) $(DJANGO)' | cksum | cut -d' ' -f1)

.PHONY: test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,postgres,jwt,sentry]' '$(DJANGO)'
	$(VENV)/bin/python -c "import sys, django, fastapi, pydantic; print('python', sys.version.split()[0], '| django', django.get_version(), '| fastapi', fastapi.__version__, '| pydantic', pydantic.VERSION)"
	touch $@

test: install
	$(VENV)/bin/python scripts/run_tests.py $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy djfapi

clean:
	rm -rf .venv .venv-* *.egg-info .pytest_cache .ruff_cache
