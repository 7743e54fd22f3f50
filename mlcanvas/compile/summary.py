"""The compile `summary` (contract §4) minus `resolved_training`, which the caller adds."""

from __future__ import annotations

from typing import Any

from mlcanvas.compile.module_steps import ModuleStep, layer_param_count, plan_node_steps
from mlcanvas.graph.layers import LayerSpec


def summarize_layers(layers: list[LayerSpec]) -> dict[str, Any]:
    """`{"param_count", "layers": [{node_id, type, input_shape, output_shape, module}]}`.

    `module` names the node's torch modules, e.g. `"nn.Linear(64, 16) -> nn.ReLU()"`, or
    `"input"` for the Input node; shapes are plain lists (Input's `input_shape` is None).
    """
    return {
        "param_count": sum(layer_param_count(spec) for spec in layers),
        "layers": [
            {
                "node_id": spec.node_id,
                "type": spec.type,
                "input_shape": None if spec.input_shape is None else list(spec.input_shape),
                "output_shape": list(spec.output_shape),
                "module": _describe(spec, steps),
            }
            for spec, steps in plan_node_steps(layers)
        ],
    }


def _describe(spec: LayerSpec, steps: list[ModuleStep]) -> str:
    if spec.type == "Input":
        return "input"
    return " -> ".join(step.source for step in steps)
