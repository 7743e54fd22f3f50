# Two commands on a fresh machine (Python 3.11, pip, make): `make serve` and `make test`.
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: setup serve test lint bench

setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen

serve: setup
	$(UV) run --frozen mlcanvas serve

test: setup
	$(UV) run --frozen pytest

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

bench: setup
	$(UV) run --frozen python bench/train_loop.py
	$(UV) run --frozen python bench/rf.py
