"""Session-wide fixtures: the real stack is started once, only if an e2e test asks for it."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location(
    "e2e_stack", Path(__file__).parent / "e2e" / "stack.py"
)
assert _spec and _spec.loader
stack_module = importlib.util.module_from_spec(_spec)
sys.modules["e2e_stack"] = stack_module
_spec.loader.exec_module(stack_module)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = stack_module.make_stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start_prefect()
        running.start_executor_and_api()
        yield running
    except BaseException:
        for log in sorted(running.logs.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}")  # noqa: T201 - test diagnostics
        raise
    finally:
        running.stop_all()


@pytest.fixture(scope="session")
def digits_graph() -> dict[str, Any]:
    """The digits example with 2 epochs; deep-copy before changing it."""
    graph = json.loads((EXAMPLES / "digits_mlp.json").read_text())
    graph["training"]["epochs"] = 2
    return graph


@pytest.fixture(scope="session")
def iris_graph() -> dict[str, Any]:
    """The iris forest example; deep-copy before changing it."""
    return json.loads((EXAMPLES / "iris_forest.json").read_text())
