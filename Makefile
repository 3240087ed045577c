# The README's commands. Each one works on a fresh machine with only Python 3.11.
#   make demo   set everything up and run the product on SQLite with a seeded demo office
#   make test   install what the tests need and run the whole suite on PostgreSQL + Redis
#   make lint   ruff check + format check
#   make bench  the benchmarks of BENCHMARKS.md (PostgreSQL), results in bench/RESULTS.md

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/recovery
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo setup test lint format bench clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet '.[test]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)
	$(PY) bin/write_env.py

demo: setup
	bash bin/demo

test: $(STAMP)
	bash bin/install_system_deps
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bin/check_services.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bin/setup_db_roles.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bin/setup_db_roles.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m bench all $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache
