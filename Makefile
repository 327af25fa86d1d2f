# The two commands: `make run` (site + worker + beat + amoCRM sandbox) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test install lock lint format messages clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Installs exactly what requirements-dev.lock pins, each file checked against its hash.
$(STAMP): requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

# After changing requirements*.txt: pins everything again, with hashes, for every Python from 3.11 on. The runtime
# lock (the Docker image's) first; the development lock keeps its versions.
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: | $(BIN)/python
	[ -x $(BIN)/uv ] || $(BIN)/python -m pip install --quiet "$$(grep -E '^uv[<>=]' requirements-dev.txt)"
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

# Development: DEBUG on, the amoCRM sandbox and the Telegram stand-in instead of the real ones (override either from
# the environment). Without REDIS_URL, acoustic/dev_stack.py starts the embedded Redis for all of it and stops it
# after Ctrl-C.
run: export DEBUG ?= 1
run: export AMOCRM_SANDBOX_URL ?= http://127.0.0.1:8001
run: export TELEGRAM_API_URL ?= http://127.0.0.1:8002
run: $(STAMP)
	$(BIN)/python -m acoustic.dev_stack -- sh -c '\
		python manage.py migrate --no-input && python manage.py dev_admin && \
		echo "Lead form: http://127.0.0.1:8000/   amoCRM sandbox: $(AMOCRM_SANDBOX_URL)/   Telegram stand-in: $(TELEGRAM_API_URL)/" && \
		echo "Ctrl-C stops everything." && \
		exec honcho -f Procfile.dev start'

# Uses DATABASE_URL / REDIS_URL when set (PostgreSQL, Redis). Otherwise SQLite, and an embedded Redis of the test
# session's own (conftest.py), stopped when it ends. Note: tests flush the Redis database they are given.
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

# The embedded Redis servers (make run's, a test session's left by a kill) are stopped before var/ goes.
clean:
	if [ -x $(BIN)/python ]; then $(BIN)/python -m acoustic.embedded_redis stop var var/test-redis-*; fi
	rm -rf $(VENV) var staticfiles
