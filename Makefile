# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TESTDATA ?= $(or $(MOVIEFACES_TESTDATA),../shared/testdata)
MOVIE ?= $(TESTDATA)/movies/cast_b.mp4
STAMP := $(VENV)/.installed

.PHONY: demo test test-env lint clean dev

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/moviefaces run $(MOVIE) --output-dir moviefaces_output

# Everything the tests need beyond the project's venv (system packages, the Triton venv).
test-env: $(STAMP)
	@for script in scripts/test-env/*.sh; do [ -e "$$script" ] && bash "$$script"; done; true

test: test-env
	MOVIEFACES_TESTDATA=$(abspath $(TESTDATA)) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) moviefaces_output

# The Dagster UI on the instance `moviefaces run` uses (moviefaces_output/dagster_home).
dev: $(STAMP)
	$(BIN)/python -c "from moviefaces_dag.instance import open_instance; open_instance('moviefaces_output')"
	DAGSTER_HOME=$(abspath moviefaces_output/dagster_home) \
		MOVIEFACES_OUTPUT_DIR=$(abspath moviefaces_output) $(BIN)/dg dev
