# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV_ENV := CLINIC_ENV=development FLASK_APP=wsgi
PYTEST_ARGS ?=

.PHONY: run test install install-test migrate seed lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The stamp files re-run the install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --config-settings editable_mode=compat -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --config-settings editable_mode=compat -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(DEV_ENV) $(BIN)/flask clinic migrate

seed: migrate
	$(DEV_ENV) $(BIN)/flask clinic seed-demo

## Create the venv, migrate and seed the demo clinic on SQLite, serve on :5000.
run: seed
	@echo "Serving the demo clinic on http://127.0.0.1:5000 (Ctrl-C to stop)"
	$(DEV_ENV) $(BIN)/flask run --host 127.0.0.1 --port 5000

## Every test. Set TEST_DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests collected"; fi; exit $$status

lint: install-test
	$(BIN)/ruff check clinic tests migrations wsgi.py

bench: install-test
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) instance/clinic.sqlite3* .pytest_cache
