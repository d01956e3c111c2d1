# Two commands do all set-up on a fresh machine:
#   make run   - the portal on the embedded default (SQLite, filesystem broker, one worker, demo data)
#   make test  - the whole test suite against PostgreSQL and Redis
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck format demo-code bench clean-demo

# hpo3 (before ADR 15) installs the same module as pyhpo: a virtualenv made before drops it first.
$(VENV)/.run-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip uninstall -y -q hpo3 2>/dev/null || true
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip uninstall -y -q hpo3 2>/dev/null || true
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) scripts/run-demo.sh

test: $(VENV)/.dev-installed
	PY=$(PY) scripts/ensure-services.sh
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure." >&2; fi; \
	  exit $$status

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(VENV)/.dev-installed
	DEBUG=true $(VENV)/bin/mypy

demo-code: $(VENV)/.run-installed
	@DEBUG=true $(PY) manage.py demo_credentials $(if $(USER_EMAIL),--email $(USER_EMAIL),)

clean-demo:
	rm -rf var
