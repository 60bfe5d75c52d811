# Two commands matter: `make run` and `make test`. Everything else is a helper.
# The venv is rebuilt only when pyproject.toml changes, so a second `make run`
# starts in seconds.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast test-postgres bench bench-scaling check lint audit format demo migrate clean lighthouse screenshots translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/vibechat migrate
	$(BIN)/vibechat serve

migrate: $(VENV)/.installed-run
	$(BIN)/vibechat migrate

demo: $(VENV)/.installed-run
	$(BIN)/vibechat migrate
	$(BIN)/vibechat seed

# Test tooling from npm (axe-core, IBM Equal Access, HTML_CodeSniffer, pa11y, the Nu HTML
# Checker, Lighthouse), pinned by tools/package-lock.json. --ignore-scripts: no install
# step may download anything (puppeteer would fetch a Chrome, vnu-jar a Java); the tests
# use Debian's Chromium and the machine's Java 17.
tools/node_modules/.installed: tools/package.json tools/package-lock.json
	npm ci --prefix tools --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Tests run on PYTEST_WORKERS processes (pytest-xdist): many wait on sockets, servers and
# the database rather than on a core, so 4 beat 2 on a 2-core machine. PYTEST_WORKERS=0
# runs them in this process. A module's browser and slow tests stay on one worker
# (--dist loadgroup; tests/conftest.py), so its servers and Chromium start once.
PYTEST_WORKERS ?= 4
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup

# Every test: unit, in-process app, slow (servers and other processes) and browser.
test: $(VENV)/.installed-test tools/node_modules/.installed
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The loop to run often (under 2 minutes): unit and in-process app tests, on SQLite;
# no browser, no process started (README, "Testing").
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not browser and not slow" $(XDIST) $(PYTEST_ARGS)

# Every test that uses the app's database again, with the app on PostgreSQL instead of
# SQLite (VIBECHAT_TEST_POSTGRES_URL, default the local server; each worker makes its own
# database). The others (marked by tests/conftest.py) run alike either way, and the
# database-layer tests run on both in make test already.
test-postgres: $(VENV)/.installed-test
	VIBECHAT_TEST_DATABASE=postgres $(BIN)/python -m pytest -m app_database $(XDIST) $(PYTEST_ARGS)

# Extract every marked text into a template catalog, merge it into each language's .po
# (new texts come in untranslated, and tests/test_i18n.py fails until they are
# translated), and check that each compiles. The .mo is compiled at start (vibechat/i18n.py).
translations: $(VENV)/.installed-run
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header -k lazy_gettext -k plural_forms:1,2 -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d translations -o /dev/null -l ru -i translations/ru/LC_MESSAGES/messages.po

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# bandit over our code, pip-audit over the installed packages (see tools/audit.py).
audit: $(VENV)/.installed-test
	$(BIN)/python -m tools.audit

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lighthouse: $(VENV)/.installed-test tools/node_modules/.installed
	$(BIN)/python -m tools.lighthouse

# Every scenario against the app and against a bare Quart + hypercorn reference server,
# one table of ratios, then search at a million messages on SQLite and PostgreSQL, a
# table of its own (11-13 minutes; docs/performance.md). Figures, not checks:
# not part of make test (tests/test_bench.py runs it at tiny sizes).
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run

# Live delivery with 1 and 2 hypercorn processes behind one Redis (a minute; figures).
bench-scaling: $(VENV)/.installed-test
	$(BIN)/python -m bench.scaling

screenshots: $(VENV)/.installed-test
	$(BIN)/python -m tools.screenshots

check: lint audit test test-postgres

clean:
	rm -rf $(VENV) instance
