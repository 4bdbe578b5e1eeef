# The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The evidence core, which must be covered line by line and branch by branch.
CORE   := gatekeeper/ledger/*,gatekeeper/attest/*,gatekeeper/facts.py

.PHONY: demo test lint typecheck imports audit pytest coverage lock bench clean

# Developers install from pyproject (newest releases); GATEKEEPER_LOCKED=1 (.ci/run) installs the
# hashed lock first, so CI tests exactly the set the action and the image ship.
$(STAMP): pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Gatekeeper needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ "$${GATEKEEPER_LOCKED:-}" = 1 ]; then \
	    echo "$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt"; \
	    $(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	@$(BIN)/python -m gatekeeper.demo

test: lint typecheck imports audit pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

audit: $(STAMP)
	$(BIN)/python .ci/audit.py requirements/dev.txt

# The suite with branch coverage; the JUnit and Cobertura reports are what .ci/run gates itself on.
pytest: $(STAMP)
	$(BIN)/pytest -q --cov --cov-branch --cov-report= --junitxml=build/junit.xml
	@$(MAKE) --no-print-directory coverage

coverage: $(STAMP)
	$(BIN)/coverage xml -q -o build/coverage.xml
	$(BIN)/coverage report --format=total --fail-under=90 >/dev/null || { $(BIN)/coverage report --skip-covered --sort=cover | tail -25; exit 1; }
	@echo "coverage: $$($(BIN)/coverage report --format=total)% overall (at least 90)"
	$(BIN)/coverage report --include='$(CORE)' --fail-under=100 --show-missing --skip-covered

lock: $(STAMP)
	$(BIN)/python requirements/lock.py $(BIN)/uv

bench: $(STAMP)
	$(BIN)/python benchmarks/reports.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info .coverage
