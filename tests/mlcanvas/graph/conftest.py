"""Graph payloads as the canvas client sends them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Payload = dict[str, Any]
ChainBuilder = Callable[..., Payload]


def _chain(*nodes: tuple[str, dict[str, Any]], **top: Any) -> Payload:
    """Nodes `node_1..n` with the given (type, config), linked in order by `edge_1..n-1`."""
    ids = [f"node_{i}" for i in range(1, len(nodes) + 1)]
    return {
        "nodes": [
            {"id": nid, "type": node_type, "config": config}
            for nid, (node_type, config) in zip(ids, nodes, strict=True)
        ],
        "edges": [
            {"id": f"edge_{i}", "source": source, "target": target}
            for i, (source, target) in enumerate(zip(ids, ids[1:], strict=False), start=1)
        ],
        **top,
    }


@pytest.fixture
def chain() -> ChainBuilder:
    return _chain


@pytest.fixture
def mnist_payload() -> Payload:
    return _chain(
        ("Input", {"shape": [1, 28, 28]}),
        ("Flatten", {}),
        ("Dense", {"units": 64, "activation": "relu"}),
        ("Output", {"num_classes": 10, "activation": "softmax"}),
        training={"dataset": "mnist", "epochs": 1},
    )


@pytest.fixture
def iris_payload() -> Payload:
    return _chain(
        ("RFInput", {"shape": [4]}),
        ("RandomForestClassifier", {"n_estimators": 12, "max_depth": 3}),
        ("RFOutput", {"num_classes": 3}),
        training={"dataset": "iris", "testSize": 0.25},
    )
