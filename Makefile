# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TESTDATA ?= $(or $(MOVIEFACES_TESTDATA),../shared/testdata)
MOVIE ?= $(TESTDATA)/movies/cast_b.mp4
# The runtime alone for a demo; the test and farm extras (Playwright, moto, Celery, the
# PostgreSQL driver, the Kubernetes client) only for the tests.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-env lint clean dev

# uv installs the same pinned versions as pip in a fifth of the time (parallel downloads, no
# bytecode compiled up front: Python compiles each module on its first import).
UV := $(BIN)/uv pip install -q --python $(BIN)/python -c constraints.txt

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt uv
	$(UV) -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(UV) -e '.[test]'
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/moviefaces run $(MOVIE) --output-dir moviefaces_output

# Everything the tests need beyond the project's venv (system packages, the Triton venv).
test-env: $(TEST_STAMP)
	@for script in scripts/test-env/*.sh; do [ -e "$$script" ] && bash "$$script"; done; true

# --durations: CI's log names the slowest tests (the suite must stay under 45 min on 2 cores).
# -n 2: a worker a core, a test file each (--dist loadfile: module fixtures made once); each
# worker's session starts its own servers, on ports and folders of its own.
test: test-env
	MOVIEFACES_TESTDATA=$(abspath $(TESTDATA)) $(BIN)/python -m pytest -q --durations=25 \
		-n 2 --dist loadfile

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) moviefaces_output

# The Dagster UI on the instance `moviefaces run` uses (moviefaces_output/dagster_home).
dev: $(STAMP)
	$(BIN)/python -c "from moviefaces_dag.defs.instance import open_instance; open_instance('moviefaces_output')"
	DAGSTER_HOME=$(abspath moviefaces_output/dagster_home) \
		MOVIEFACES_OUTPUT_DIR=$(abspath moviefaces_output) $(BIN)/dg dev
