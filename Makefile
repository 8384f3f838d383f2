# make demo: create the virtual environment if missing, install, migrate the demo's SQLite
# database (DATABASE_URL switches it), reset the demo data, print tokens, serve on :8000 (PORT=)
#   until Ctrl-C; make demo-reset: the same without serving.
# make test: the same environment; the suite on SQLite and (when reachable) PostgreSQL.
#   make test PYTHON=python3.12 VENV=.venv-py312 DJANGO='django>=6,<7'
# make lint: ruff and mypy.
# make test-lowest: the suite on SQLite with exactly the lowest versions pyproject.toml allows
#   for Django, FastAPI, pydantic, PyJWT and psycopg (its own venv, .venv-lowest).
# make package: the sdist and the wheel into dist/, checked with twine (CI builds them on leg 1).
# make docs: the documentation site (docs/, mkdocs.yml) into site/, --strict, offline;
#   make docs-serve serves it with live reload on 127.0.0.1:8001 (DOCS_PORT=).
# make fuzz: schemathesis against the demo served by uvicorn on its own fresh database, every
#   phase and check, fixed seed; CI runs the short form, locally ask for more:
#   make fuzz FUZZ_EXAMPLES=200 FUZZ_SEED=7 FUZZ_DATABASE=postgres
# make bench: the benchmark (bench/): djfapi against hand-written FastAPI, DRF and django-ninja,
#   each server on core 0, wrk on core 1, PostgreSQL (BENCH_DATABASE_URL); writes bench/RESULTS.md
#   in about 13 minutes on 2 cores. Its own venv (.venv-bench); installs wrk when missing (apt-get).
#   make bench BENCH_ARGS='--rounds 7 --duration 2'
# make bench-inprocess: µs per request with each app called directly; PROFILE=1 writes
#   pyinstrument profiles to bench/profiles/ (narrow it: BENCH_ARGS='--competitor djfapi').
# make soak: the database fault tests long (more clients, longer load, repeated restarts) on a
# PostgreSQL cluster of their own (needs root and pg_createcluster); prints what clients saw.
# make bench-threads: the demo under uvicorn (core 0) loaded by wrk (core 1), thread limits 40/8/4
#   × one connection a request / CONN_MAX_AGE=60 / Django's pool, on a PostgreSQL database of its
#   own (needs wrk and taskset; about 7 minutes); bench/THREADS.md holds a run. Shorter:
#   make bench-threads BENCH_ARGS='--rounds 1 --threads 8 --modes pool'
PYTHON ?= python3
PORT ?= 8000
DOCS_PORT ?= 8001
VENV ?= .venv
DJANGO ?= django>=5.2
PYTEST_ARGS ?=
FUZZ_EXAMPLES ?= 20
FUZZ_SEED ?= 20260611
FUZZ_DATABASE ?= sqlite
BENCH_VENV ?= .venv-bench
LOWEST_VENV ?= .venv-lowest
BENCH_ARGS ?=
PROFILE ?=

# The stamp names the interpreter and Django asked for, so asking for others rebuilds the venv.
STAMP := $(VENV)/.installed-$(shell echo '$(PYTHON) $(DJANGO)' | cksum | cut -d' ' -f1)

.PHONY: docs docs-serve demo demo-reset test test-lowest fuzz soak lint install clean bench bench-inprocess bench-threads

install: $(STAMP)

$(STAMP): pyproject.toml
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev,demo,postgres,jwt,sentry,bench]' '$(DJANGO)'
	$(VENV)/bin/python -c "import sys, django, fastapi, pydantic; print('python', sys.version.split()[0], '| django', django.get_version(), '| fastapi', fastapi.__version__, '| pydantic', pydantic.VERSION)"
	touch $@

demo-reset: install
	cd example && ../$(VENV)/bin/python manage.py migrate --noinput
	cd example && ../$(VENV)/bin/python manage.py demo_data

# exec: the server is make's own child, so a SIGTERM make passes on reaches it, not only a shell.
demo: demo-reset
	@echo "Serving on http://127.0.0.1:$(PORT) (API under /api, docs at /docs, admin at /admin)"
	cd example && exec ../$(VENV)/bin/python serve.py $(PORT)

docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

test: install
	$(VENV)/bin/python scripts/run_tests.py $(PYTEST_ARGS)

# The dev environment, then exactly the floors pyproject.toml declares for the direct
# dependencies (scripts/lowest_versions.py), and the suite once on SQLite.
$(LOWEST_VENV)/.installed-lowest: pyproject.toml scripts/lowest_versions.py
	rm -f $(LOWEST_VENV)/.installed-lowest
	$(PYTHON) -m venv --clear $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	$(LOWEST_VENV)/bin/python -m pip install --quiet $$($(LOWEST_VENV)/bin/python scripts/lowest_versions.py)
	touch $@

test-lowest: $(LOWEST_VENV)/.installed-lowest
	$(LOWEST_VENV)/bin/python scripts/lowest_versions.py --check
	DJFAPI_TEST_DATABASE=sqlite $(LOWEST_VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

fuzz: install
	$(VENV)/bin/python scripts/fuzz.py --examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED) --database $(FUZZ_DATABASE)

soak: install
	DJFAPI_TEST_DATABASE=postgres DJFAPI_SOAK=1 $(VENV)/bin/python -m pytest -s -q tests/test_database_recovery.py $(PYTEST_ARGS)

bench-threads: install
	$(VENV)/bin/python scripts/bench_threads.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	PYTHONPATH=. $(VENV)/bin/mypy djfapi  # --strict, with django-stubs (pyproject.toml)

.PHONY: package
package: install
	rm -rf dist && $(VENV)/bin/python -m build && $(VENV)/bin/twine check --strict dist/*

$(BENCH_VENV)/.installed-bench: pyproject.toml
	rm -f $(BENCH_VENV)/.installed-bench
	$(PYTHON) -m venv --clear $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench,postgres,jwt]'
	touch $@

bench: $(BENCH_VENV)/.installed-bench
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BENCH_VENV)/bin/python -m bench.run $(BENCH_ARGS)

bench-inprocess: $(BENCH_VENV)/.installed-bench
	$(BENCH_VENV)/bin/python -m bench.inprocess $(if $(PROFILE),--profile) $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-* *.egg-info .pytest_cache .ruff_cache
