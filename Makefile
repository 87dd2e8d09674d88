# The README's two commands are `make demo` and `make test`; each sets up .venv by itself.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of torch; a range admitting newer releases would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test test-slow test-all check lint types fmt clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[dev,train]"
	touch $@

venv: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/chipline make --out demo --overwrite
	@echo "open demo/index.html to listen; demo/manifest.json lists every file"

# pytest exits 5 when a marker selects no test; that is not a failure here.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]

test-all: test test-slow

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(BIN)/.installed
	$(BIN)/mypy

check: lint types test test-slow

fmt: $(BIN)/.installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo
