"""A validated NN graph -> the `LayerSpec`s the compiler builds, in execution order."""

from __future__ import annotations

from mlcanvas.graph.activations import resolve_activation
from mlcanvas.graph.config_checks import dropout_rate
from mlcanvas.graph.layers import LayerSpec
from mlcanvas.graph.report import ValidationReport
from mlcanvas.graph.schema import NNGraph, NNNode
from mlcanvas.graph.training_resolver import normalise_loss

SOFTMAX_SUPPRESSED_WARNING = (
    "Output softmax suppressed because loss is cross_entropy (expects logits)."
)


def plan_layers(
    graph: NNGraph, report: ValidationReport, loss: str = "cross_entropy"
) -> tuple[list[LayerSpec], list[str]]:
    """Layers with shapes and normalised config, plus compile warnings.

    `report` must be `validate_graph(graph)`. Under cross-entropy (which expects logits) a
    softmax on Output is dropped with a warning. Raises GraphValidationError if invalid.
    """
    report.raise_if_invalid()
    nodes: dict[str, NNNode] = {}
    for node in graph.nodes:
        nodes.setdefault(node.id, node)  # the first occurrence wins, as in validation
    is_cross_entropy = normalise_loss(loss) == "cross_entropy"
    warnings = list(report.warnings)
    layers: list[LayerSpec] = []
    for nid in report.execution_order:
        node, shapes = nodes[nid], report.shapes[nid]
        if shapes.output is None:
            raise ValueError(f"report has no output shape for node {nid!r}; was it validated?")
        activation = resolve_activation(node.type, node.config) or "none"
        if node.type == "Output" and activation == "softmax" and is_cross_entropy:
            activation = "none"
            warnings.append(SOFTMAX_SUPPRESSED_WARNING)
        layers.append(
            LayerSpec(
                node_id=nid,
                type=node.type,
                input_shape=None if shapes.input is None else tuple(shapes.input),
                output_shape=tuple(shapes.output),
                units=shapes.output[0] if node.type in ("Dense", "Output") else None,
                activation=activation if node.type in ("Dense", "Output") else "none",
                rate=dropout_rate(node.config) if node.type == "Dropout" else None,
            )
        )
    return layers, warnings
