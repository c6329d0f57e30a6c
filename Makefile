# Every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint format docs bench clean runner-image app-image

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/csvanalyst ask "top 5 products by revenue" -d retail --show-sql
	$(BIN)/csvanalyst ask "average satisfaction by channel for high priority tickets" -d support
	$(BIN)/csvanalyst plan datasets/examples/revenue_by_month.json -d retail --format table

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

runner-image: install
	$(BIN)/csvanalyst runner build
	$(BIN)/csvanalyst runner check
	$(BIN)/csvanalyst runner build-rootfs

app-image: runner-image
	$(BIN)/csvanalyst deploy image
	$(BIN)/csvanalyst deploy check

docs: install
	$(BIN)/python -m csvanalyst.cli.reference docs

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache bench/data bench/results
