# Two commands on a fresh machine (Python 3.11, pip, make): `make serve` and `make test`.
PYTHON ?= python3
UV := $(PYTHON) -m uv
# Which torch build (an extra in pyproject.toml): the CPU-only wheel that machines of this
# project's kind keep in /opt/wheels, else PyPI's CUDA build. `make TORCH=cuda ...` forces it.
TORCH ?= $(if $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl),cpu,cuda)
SYNC := --frozen --extra $(TORCH)

.PHONY: setup serve test lint bench

setup:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync $(SYNC)

serve: setup
	$(UV) run $(SYNC) mlcanvas serve

test: setup
	$(UV) run $(SYNC) pytest

lint: setup
	$(UV) run $(SYNC) ruff check .
	$(UV) run $(SYNC) ruff format --check .

bench: setup
	$(UV) run $(SYNC) python bench/train_loop.py
	$(UV) run $(SYNC) python bench/rf.py
