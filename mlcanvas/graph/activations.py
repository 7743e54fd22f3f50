"""Activation names (contract §2): every accepted spelling and the canonical name it means."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcanvas.graph.layers import Activation
from mlcanvas.graph.scalars import as_snake_name

ACTIVATION_ALIASES: dict[str, Activation] = {
    "none": "none",
    "identity": "none",
    "linear": "none",
    "": "none",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "leakyrelu": "leaky_relu",
    "lrelu": "leaky_relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "gelu": "gelu",
    "softmax": "softmax",
}

# What an unknown-activation error lists in `expected`.
ACCEPTED_ACTIVATION_NAMES: list[str] = list(ACTIVATION_ALIASES)

# Used when `activation` is absent or null: Dense defaults to relu, Output to none.
DEFAULT_ACTIVATIONS: dict[str, Activation] = {"Dense": "relu", "Output": "none"}


def normalise_activation(value: Any) -> Activation | None:
    """The canonical name for an accepted spelling (trimmed, any case, `-`/space as `_`),
    or None when the name is unknown or not a string."""
    name = as_snake_name(value)
    return None if name is None else ACTIVATION_ALIASES.get(name)


def resolve_activation(node_type: str, config: Mapping[str, Any]) -> Activation | None:
    """The node's activation with its type's default for absent/null; None when unknown."""
    raw = config.get("activation")
    if raw is None:
        return DEFAULT_ACTIVATIONS.get(node_type, "none")
    return normalise_activation(raw)
