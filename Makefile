# The two set-up commands: `make demo` and `make test`. Both create the virtual
# environment and install Zhiban on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test bench lint venv clean lock

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Zhiban needs Python 3.11 or newer: run make PYTHON=python3.11 …")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

demo: venv
	$(BIN)/zhiban up

test: venv
	$(BIN)/pytest -q -rs

bench: venv
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The production install (the Docker image) uses requirements.lock: every package pinned with
# its sha256, for the runtime and voice dependencies and the build backend. Run after editing
# the dependencies in pyproject.toml; pip-tools goes into the virtual environment only.
lock: venv
	$(BIN)/pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe \
		--all-build-deps --strip-extras --extra voice --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
