"""Order of the e2e modules: the restart tests stop and start shared stack processes, so they
run after every other test of the session (pytest would otherwise run them before test_api_rf)."""

from __future__ import annotations

import pytest

RUNS_LAST = "test_api_restart.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name == RUNS_LAST)  # stable: other orders kept
