# The two commands of the README:
#   make run    set up the embedded default (SQLite, self-signed TLS), load the demo, serve HTTPS
#   make test   lint, types, layer contract and the whole test suite (SQLite and PostgreSQL)

DATA_DIR ?= claimbridge-data
PORT ?= 8443
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: install run init demo serve test lint types layers pytest bench clean

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet 'uv>=0.4'
	$(UV) sync --frozen --compile-bytecode
	@# Compiled once here: where PYTHONDONTWRITEBYTECODE is set, every process
	@# (and every subprocess a test starts) would otherwise compile it all again.
	$(UV) run --no-sync python -m compileall -q src

run: install
	$(UV) run claimbridge init --data-dir $(DATA_DIR)
	$(UV) run claimbridge demo --data-dir $(DATA_DIR)
	$(UV) run claimbridge serve --data-dir $(DATA_DIR) --port $(PORT)

test: install lint types layers pytest

lint:
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench

types:
	$(UV) run mypy

layers:
	$(UV) run lint-imports --no-cache

pytest:
	$(UV) run pytest -p no:cacheprovider

bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(UV) run python $$script || exit 1; done

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
