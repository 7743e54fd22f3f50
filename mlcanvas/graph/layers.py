"""The validated NN graph as the compiler sees it: one `LayerSpec` per node, in execution order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LayerType = Literal["Input", "Flatten", "Dense", "Dropout", "Output"]

# Canonical activation names after normalisation (contract §2); "none" means no module.
Activation = Literal["none", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax"]


@dataclass(frozen=True)
class LayerSpec:
    """A node with its shapes known and its config normalised; enough to build modules."""

    node_id: str
    type: LayerType
    input_shape: tuple[int, ...] | None  # None for Input
    output_shape: tuple[int, ...]
    units: int | None = None  # Dense units / Output num_classes
    activation: Activation = "none"
    rate: float | None = None  # Dropout
