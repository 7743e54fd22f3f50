"""Tell an NN graph from an RF graph before parsing, so one CLI command accepts either file."""

from __future__ import annotations

from typing import Any, Literal

from mlcanvas.graph.rf_schema import RF_NODE_TYPES


def graph_kind(payload: dict[str, Any]) -> Literal["nn", "rf"]:
    """`rf` as soon as one node has an RF type (`RF*` or `RandomForestClassifier`), else `nn`.

    Malformed payloads answer `nn`; parsing them then reports the real problem.
    """
    nodes = payload.get("nodes") if isinstance(payload, dict) else None
    if not isinstance(nodes, list):
        return "nn"
    for node in nodes:
        node_type = node.get("type") if isinstance(node, dict) else None
        if isinstance(node_type, str) and (
            node_type in RF_NODE_TYPES or node_type.startswith("RF")
        ):
            return "rf"
    return "nn"
