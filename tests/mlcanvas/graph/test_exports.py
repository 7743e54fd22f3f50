"""The package surface: `__all__` lists exactly what `mlcanvas.graph` exports."""

from __future__ import annotations

import mlcanvas.graph as graph


def test_every_exported_name_exists_and_is_public() -> None:
    assert sorted(graph.__all__) == sorted(set(graph.__all__))
    for name in graph.__all__:
        assert hasattr(graph, name), name
    public = {name for name in vars(graph) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(graph, name)).__name__ == "module"}
    assert public - modules == set(graph.__all__)
