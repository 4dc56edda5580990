# make run   - set up, load demo and real data into a SQLite store, serve the workspace
# make test  - set up, then ruff, mypy and pytest on SQLite and PostgreSQL
.PHONY: setup run test lint typecheck pytest bench

STORE ?= sqlite:///fusionhub.db
PY := .venv/bin

setup:
	./scripts/setup.sh

run: setup
	$(PY)/fusionhub --store $(STORE) init
	$(PY)/fusionhub --store $(STORE) demo --size 5000
	$(PY)/fusionhub --store $(STORE) resolve run
	$(PY)/fusionhub --store $(STORE) index catch-up
	$(PY)/fusionhub --store $(STORE) serve --host 127.0.0.1 --port 8000

lint:
	$(PY)/ruff check fusionhub tests bench
	$(PY)/ruff format --check fusionhub tests bench

typecheck:
	$(PY)/mypy fusionhub

pytest:
	$(PY)/pytest -q -p no:cacheprovider

test: setup lint typecheck pytest

# Benchmarks print their figures with the baseline each names and the ratio (slow: not in `make test`).
bench: setup
	$(PY)/python bench/ingest.py
	$(PY)/python -m bench.audit_verify --events 1000000
	$(PY)/python bench/search.py --records 1000000
	$(PY)/python bench/search_quality.py
	$(PY)/python bench/resolve.py
	$(PY)/python bench/web.py --records 1000000 --users 10 50 --seconds 60 --processes 2
	$(PY)/python bench/real_data.py
	$(PY)/python bench/connector_memory.py --mb 200
