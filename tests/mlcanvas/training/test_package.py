from __future__ import annotations

import mlcanvas.training as training


def test_exported_names_exist_and_are_sorted() -> None:
    assert training.__all__ == sorted(training.__all__)
    assert all(hasattr(training, name) for name in training.__all__)
