# The two commands: `make run` (site + worker + beat + amoCRM sandbox) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test install lint format messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Development: DEBUG on, the amoCRM sandbox and the Telegram stand-in instead of the real ones (override from the
# environment).
run: export DEBUG ?= 1
run: export AMOCRM_SANDBOX_URL ?= http://127.0.0.1:8001
run: export TELEGRAM_API_URL ?= http://127.0.0.1:8002
run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py dev_admin
	@echo "Lead form: http://127.0.0.1:8000/   amoCRM sandbox: $(AMOCRM_SANDBOX_URL)/   Telegram stand-in: $(TELEGRAM_API_URL)/"
	@echo "Ctrl-C stops everything."
	$(BIN)/honcho -f Procfile.dev start

# Uses DATABASE_URL / REDIS_URL when set (PostgreSQL, Redis); SQLite and the embedded Redis otherwise.
# Note: tests flush the Redis database they are given.
test: export DEBUG ?= 1
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff, and import-linter's contracts in pyproject.toml (rooms by concern, arrows one way, no import cycles).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: export DEBUG ?= 1
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l uz -l ru --ignore '.venv/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var staticfiles
